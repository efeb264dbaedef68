using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin compare</c>: a grid of samplers × NFE budgets on one model (a trained run or an analytic mixture), with
/// quality (sliced Wasserstein-2 for points, FD in our feature space for images), the NFE actually spent and wall time
/// per sample, as a table, JSON (the report's compare.json) and a quality-vs-NFE plot.
/// </summary>
public sealed class CompareCommand : ICommand
{
    public string Name => "compare";
    public string Summary => "compare samplers × NFE budgets on one model: quality, NFE and time per sample, with a plot";
    public string Usage => "langevin compare (--run RUN | --checkpoint FILE | --model analytic:FILE.json) [--samplers a,b,c] [--nfe 5,10,20,50,100] [--n N] [--out DIR]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("model", "analytic:FILE.json", "an analytic Gaussian mixture (exact denoiser; quality against exact samples)"),
        new("dtype", "float32|float64", "analytic models: precision (default float64)"),
        new("samplers", "LIST", "comma-separated sampler names (default ddim, euler, heun, lms, dpmpp-2m, unipc, edm)"),
        new("nfe", "LIST", "NFE budgets (default 5,10,20,50,100,1000; 5,10,20,50 for images)"),
        new("n", "N", "samples per cell (default 2000 points, 500 images)"),
        new("ref", "SPEC", "images: the reference data for FD (default: the run's data, test split)"),
        new("features", "FILE", "images: a feature network (default: the cached one for the data)"),
        new("out", "DIR", "where compare.json and compare.png go (default: the run folder, or the current folder)"),
        new("karras", null, "use Karras σ's for the vp samplers that take them"),
    ];

    sealed record Cell(string Sampler, int Budget, int Nfe, double Quality, double MsPerSample);

    public int Run(ParsedArgs a)
    {
        var samplers = (a.String("samplers") ?? "ddim,euler,heun,lms,dpmpp-2m,unipc,edm").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (samplers.Length == 0) throw new UsageException("--samplers is empty; e.g. --samplers ddim,heun,dpmpp-2m");
        foreach (var s in samplers) SamplerCatalog.Find(s);
        int seed = a.Int("seed") ?? 0;
        using var gen = new Generator((ulong)seed);

        IScoreModel model;
        IDisposable owner;
        SamplingProcess process;
        Func<Tensor, double> quality;
        string qualityName, title, outDir;
        double floor = double.NaN;
        long[] itemShape;
        bool image = false;
        Func<Tensor, Tensor> toData = x => x;
        var keep = new List<IDisposable>();
        ComputeDevice.SetThreads(a.Int("threads"));
        if (ModelSource.Analytic(a, Name, "float64") is { } mixture)
        {
            (model, owner) = (mixture, mixture);
            process = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule());
            itemShape = [mixture.Means.shape[1]];
            int n0 = a.Int("n") ?? 2000;
            var reference = mixture.Sample(n0, gen).DetachFromDisposeScope();
            keep.Add(reference);
            quality = x => SlicedWasserstein.Distance(x.to(float64), reference, 256, gen);
            using (var second = mixture.Sample(n0, gen)) floor = quality(second);   // two exact sets: the floor at this N
            qualityName = "SW2 vs exact samples";
            title = Path.GetFileName(a.String("model")!);
            outDir = a.String("out") ?? ".";
        }
        else
        {
            var (method, g0) = ModelSource.Open(a, Name);
            g0.Dispose();
            if (method is not IDenoisingMethod denoising)
            {
                method.Dispose();
                throw new UsageException($"compare: a {method.Config.Method} model is not a denoiser; compare runs on ncsn, ddpm, edm and sde models");
            }
            method.Eval();
            (model, owner, process) = (denoising.Denoiser, method, denoising.Process);
            itemShape = method.ItemShape;
            toData = denoising.ToData;
            title = method.Config.Method + " " + (a.String("run") is { } r ? Path.GetFileName(Path.TrimEndingDirectorySeparator(r)) : "checkpoint");
            outDir = a.String("out") ?? a.String("run") ?? ".";
            image = itemShape.Length == 3;
            int n0 = a.Int("n") ?? (image ? 500 : 2000);
            if (image)
            {
                string refSpec = a.String("ref") ?? FeatureNetworkCache.TrainingSpec(method.Config.Data) + ":test";
                using var data = DataSources.Load(refSpec, new DataOptions(seed));
                var net = EvalCommand.OpenFeatureNetwork(a.String("features"), FeatureNetworkCache.TrainingSpec(method.Config.Data), itemShape, a.Flag("quiet"));
                keep.Add(net);
                using var ref01 = data.X.narrow(0, 0, Math.Min(10_000, data.Count)).add(1).div(2);
                var refE = FeatureEmbedding.OfUnitImages(net, ref01);
                keep.Add(refE);
                quality = x => { using var e = FeatureEmbedding.OfUnitImages(net, SamplePreview.ToUnitRange(x)); return FrechetDistance.Compute(e.Features, refE.Features); };
                qualityName = $"FD vs {refSpec}";
            }
            else
            {
                using var data = DataSources.Load(method.Config.Data, new DataOptions(seed, Limit: n0));
                var reference = data.X.narrow(0, 0, Math.Min(n0, data.Count)).to(float64).DetachFromDisposeScope();
                keep.Add(reference);
                quality = x => SlicedWasserstein.Distance(x.to(float64), reference, 256, gen);
                qualityName = $"SW2 vs {method.Config.Data}";
            }
        }
        using var _ = owner;
        int n = a.Int("n") ?? (image ? 500 : 2000);
        if (n < 2) throw new UsageException($"--n must be ≥ 2 (got {n})");
        int[] budgets = a.IntList("nfe") ?? (image ? [5, 10, 20, 50] : [5, 10, 20, 50, 100, 1000]);
        if (budgets.Length == 0 || budgets.Any(b => b < 1)) throw new UsageException("--nfe must be a list of positive integers, e.g. 5,10,20,50");
        bool karras = a.Flag("karras");

        var cells = new List<Cell>();
        var skipped = new List<string>();
        var device = model is nn.Module mod ? mod.parameters().First().device : CPU;
        int total = samplers.Length * budgets.Length;
        ProgressDisplay.Run("compare", total, 0, a.Flag("quiet"), "cells", p =>
        {
            int done = 0;
            foreach (var sampler in samplers)
                foreach (int budget in budgets)
                {
                    var request = Request(sampler, budget, karras && SamplerCatalog.Find(sampler).Takes("karras"), process);
                    p.Report(done, $"{sampler} @ {budget}");
                    if (request is null) { done++; continue; }       // the budget is below what the sampler needs
                    using var scope = NewDisposeScope();
                    using var g = new Generator((ulong)seed, device);
                    var noise = randn([n, .. itemShape], generator: g, dtype: model is GaussianMixtureScore ? float64 : float32, device: device);
                    var clock = Stopwatch.StartNew();
                    SamplerResult result;
                    try { result = SamplerCatalog.Run(model, noise, request, process, g); }
                    catch (UsageException e) { skipped.Add($"{sampler} @ {budget}: {e.Message}"); done++; continue; }
                    var x = toData(result.Output).cpu();
                    double ms = clock.Elapsed.TotalMilliseconds / n;
                    cells.Add(new Cell(sampler, budget, result.Evaluations, quality(x), ms));
                    p.Report(++done, $"{sampler} @ {budget}");
                }
        });
        foreach (var k in keep) k.Dispose();

        Console.WriteLine($"{title}: {qualityName} (lower is better), N = {n} per cell, seed {seed}" +
                          (double.IsFinite(floor) ? $"; floor (exact vs exact) {floor.ToString("G4", CultureInfo.InvariantCulture)}" : ""));
        Console.WriteLine($"{"sampler",-16}{"budget",7}{"NFE",7}{"quality",12}{"ms/sample",11}");
        foreach (var c in cells)
            Console.WriteLine($"{c.Sampler,-16}{c.Budget,7}{c.Nfe,7}{c.Quality.ToString("G4", CultureInfo.InvariantCulture),12}{c.MsPerSample.ToString("F3", CultureInfo.InvariantCulture),11}");
        foreach (var line in skipped) Console.WriteLine($"skipped {line}");
        if (cells.Count == 0) throw new UsageException("compare: no sampler ran within the given --nfe budgets");
        Directory.CreateDirectory(outDir);
        var rows = new JsonArray();
        foreach (var c in cells)
            rows.Add(new JsonObject { ["sampler"] = c.Sampler, ["budget"] = c.Budget, ["nfe"] = c.Nfe, ["quality"] = c.Quality, ["ms_per_sample"] = c.MsPerSample });
        string json = Path.Combine(outDir, "compare.json"), png = Path.Combine(outDir, "compare.png");
        AtomicFile.WriteAllText(json, new JsonObject { ["model"] = title, ["quality"] = qualityName, ["n"] = n, ["floor"] = double.IsFinite(floor) ? floor : null, ["rows"] = rows }.ToJsonString(new() { WriteIndented = true }));
        var series = cells.GroupBy(c => c.Sampler)
            .Select(g => (g.Key, g.Select(c => (double)c.Nfe).ToArray(), g.Select(c => c.Quality).ToArray())).ToList();
        Plots.Lines(png, $"{title}: quality vs NFE (N = {n})", "NFE", qualityName, series, logX: true, logY: true);
        Console.WriteLine($"wrote {json} and {png}");
        a.Result["compare_json"] = json;
        a.Result["plot"] = png;
        a.Result["n"] = n;
        a.Result["quality"] = qualityName;
        a.Result["floor"] = double.IsFinite(floor) ? floor : null;
        a.Result["rows"] = rows.DeepClone();
        return 0;
    }

    /// <summary>The request that spends about <paramref name="budget"/> NFE with a sampler (null when the budget is too small).</summary>
    static SamplerRequest? Request(string sampler, int budget, bool karras, SamplingProcess process)
    {
        var r = new SamplerRequest { Sampler = sampler, Karras = karras && process.Kind == SamplingProcess.Vp ? true : null };
        return sampler switch
        {
            "heun" or "edm" => budget < 3 ? null : r with { Steps = (budget + 1) / 2 },          // 2N − 1 evaluations
            "pc" => budget < 3 ? null : r with { Steps = (budget + 1) / 2 },                      // 2 per level, 1 for the last
            "ald" => budget < 6 ? null : r with { Steps = Math.Max(1, (budget - 1) / 5) },        // 5 per level + the denoising step
            "ode-rk45" => r with { Rtol = ToleranceFor(budget), Atol = ToleranceFor(budget) },      // adaptive: the tolerance sets the cost
            _ => r with { Steps = budget },
        };
    }

    static double ToleranceFor(int budget) => budget switch { <= 10 => 1e-1, <= 20 => 1e-2, <= 50 => 1e-3, <= 100 => 1e-4, _ => 1e-5 };
}
