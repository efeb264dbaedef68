using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Mcmc;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary><c>langevin mcmc</c>: runs a kernel's chains on an analytic target and prints the diagnostics (see <see cref="ChainRun"/>).</summary>
public sealed class McmcCommand : ICommand
{
    public string Name => "mcmc";
    public string Summary => "run MCMC chains (ULA, MALA, HMC, BAOAB, ESH) on an analytic target: acceptance, ESS per gradient, R-hat, moment errors";
    public string Usage => "langevin mcmc --target gaussian|mixture|banana|funnel --kernel ula|mala|hmc|baoab|esh [--steps N] [--chains C] [--step-size H] [--seed S] [--out S.npy] [--plot chains.png] [--json FILE]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("target", "NAME", $"analytic target: {string.Join(", ", McmcCatalog.TargetNames)}"),
        new("kernel", "NAME", $"kernel: {string.Join(", ", McmcCatalog.KernelNames)}"),
        new("steps", "N", "kept transitions per chain (default 1000)"),
        new("burn-in", "N", "transitions discarded first (default: steps/2); HMC adapts its step size during them"),
        new("chains", "C", "independent chains (default 16)"),
        new("step-size", "H", "step size (default: the kernel's tuned value for the target)"),
        new("leapfrog", "L", "leapfrog steps per transition for hmc (default 10) and esh (default 50)"),
        new("friction", "G", "BAOAB friction γ (default 1)"),
        new("init", "noise|exact", "start chains at N(0, I) (default) or at exact draws"),
        new("funnel-dim", "D", "dimension of Neal's funnel (default 10)"),
        new("seed", "S", "random seed (default 0)"),
        new("threads", "N", "CPU threads (default: the core count)"),
        new("out", "S.npy", "the kept states, float64 [steps × chains, D]"),
        new("plot", "FILE.png", "trace plot of the first coordinate (4 chains); a scatter of the first two coordinates goes to FILE-scatter.png"),
        new("json", "FILE", "also write the diagnostics as JSON"),
    ];

    public int Run(ParsedArgs a)
    {
        string targetName = a.String("target") ?? throw new UsageException($"mcmc: --target is required ({string.Join(", ", McmcCatalog.TargetNames)})");
        string kernelName = a.String("kernel") ?? throw new UsageException($"mcmc: --kernel is required ({string.Join(", ", McmcCatalog.KernelNames)})");
        int steps = a.Int("steps") ?? 1000;
        int burn = a.Int("burn-in") ?? steps / 2;
        int chains = a.Int("chains") ?? 16;
        int funnelDim = a.Int("funnel-dim") ?? 10;
        if (funnelDim < 2) throw new UsageException($"--funnel-dim must be ≥ 2 (got {funnelDim})");
        ComputeDevice.SetThreads(a.Int("threads"));
        var target = McmcCatalog.Target(targetName, funnelDim);
        double h = a.Double("step-size") ?? McmcCatalog.DefaultStepSize(kernelName, targetName);
        if (!(h > 0)) throw new UsageException($"--step-size must be > 0 (got {h})");
        int l = a.Int("leapfrog") ?? McmcCatalog.DefaultLeapfrogSteps(kernelName);
        var kernel = McmcCatalog.Kernel(kernelName, target, h, l, a.Double("friction") ?? 1.0);
        using var gen = new Generator((ulong)(a.Int("seed") ?? 0));
        // HMC: dual averaging over the burn-in (at least 1 step); other kernels just run it
        int adapt = kernel is Hmc ? Math.Max(1, burn) : 0;
        var r = ChainRun.Run(kernel, target, chains, kernel is Hmc ? 0 : burn, steps, a.String("init", "noise"), gen, adapt);
        r.Final.Dispose();
        (kernel as IDisposable)?.Dispose();

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"{kernelName} on {targetName} (D = {target.Dim}): {chains} chains × {steps} kept steps after {burn} burn-in, step size {r.StepSize.ToString("G4", inv)}, {r.GradientsPerStep:G4} gradients per step");
        Console.WriteLine($"acceptance      {(double.IsNaN(r.AcceptanceRate) ? "n/a (no correction)" : r.AcceptanceRate.ToString("F3", inv))}");
        Console.WriteLine($"ESS (min coord) {r.Ess.Min().ToString("F0", inv)} of {chains * steps}; per gradient evaluation {r.EssPerGradient.ToString("G3", inv)}");
        Console.WriteLine($"R-hat (max)     {r.MaxRHat.ToString("F3", inv)}");
        Console.WriteLine("coord      mean   true mean         sd     true sd       ESS   R-hat");
        for (int j = 0; j < target.Dim; j++)
            Console.WriteLine($"{j,5} {r.Mean[j],10:F4} {r.TrueMean[j],11:F4} {r.Sd[j],10:F4} {r.TrueSd[j],11:F4} {r.Ess[j],9:F0} {r.RHat[j],7:F3}");
        Console.WriteLine($"max |mean error| {r.MaxMeanErrorInSds.ToString("F3", inv)} sd; max |sd/true sd − 1| {r.MaxSdRelativeError.ToString("F3", inv)}");

        if (a.String("out") is { } outPath)
        {
            var flat = r.Trace.SelectMany(s => s.SelectMany(c => c)).ToArray();
            using var t = tensor(flat, [steps * (long)chains, target.Dim], float64);
            NpyFile.Write(outPath, t);
            Console.WriteLine($"wrote {outPath} [{steps * chains}, {target.Dim}]");
        }
        if (a.String("plot") is { } plotPath)
        {
            var xs = Enumerable.Range(0, steps).Select(i => (double)i).ToArray();
            var series = Enumerable.Range(0, Math.Min(4, chains))
                .Select(c => ($"chain {c}", xs, r.Trace.Select(s => s[c][0]).ToArray())).ToList();
            Plots.Lines(plotPath, $"{kernelName} on {targetName}: trace of x[0]", "step", "x[0]", series);
            string scatterPath = Path.Combine(Path.GetDirectoryName(plotPath) ?? "", Path.GetFileNameWithoutExtension(plotPath) + "-scatter.png");
            var pts = r.Trace.SelectMany(s => s.Select(c => new[] { c[0], c[1] })).SelectMany(p => p).ToArray();
            using var pt = tensor(pts, [pts.Length / 2, 2], float64);
            Plots.Scatter(scatterPath, pt, $"{kernelName} on {targetName}: x[0], x[1]");
            Console.WriteLine($"wrote {plotPath} and {scatterPath}");
        }
        if (a.String("json") is { } jsonPath)
        {
            var json = new JsonObject
            {
                ["target"] = targetName, ["kernel"] = kernelName, ["dim"] = target.Dim, ["chains"] = chains, ["steps"] = steps,
                ["burn_in"] = burn, ["step_size"] = r.StepSize, ["gradients_per_step"] = r.GradientsPerStep,
                ["acceptance"] = double.IsNaN(r.AcceptanceRate) ? null : r.AcceptanceRate,
                ["ess_min"] = r.Ess.Min(), ["ess_per_gradient"] = r.EssPerGradient, ["rhat_max"] = r.MaxRHat,
                ["mean"] = new JsonArray(r.Mean.Select(v => (JsonNode)v).ToArray()),
                ["true_mean"] = new JsonArray(r.TrueMean.Select(v => (JsonNode)v).ToArray()),
                ["sd"] = new JsonArray(r.Sd.Select(v => (JsonNode)v).ToArray()),
                ["true_sd"] = new JsonArray(r.TrueSd.Select(v => (JsonNode)v).ToArray()),
                ["max_mean_error_sd"] = r.MaxMeanErrorInSds, ["max_sd_rel_error"] = r.MaxSdRelativeError,
            };
            AtomicFile.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {jsonPath}");
        }
        return 0;
    }
}
