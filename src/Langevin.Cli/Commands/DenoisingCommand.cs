using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Training;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin denoising</c>: a trained denoiser's error E‖D(x + σz, σ) − x‖²/d on held-out data, level by level
/// (<see cref="DenoisingError"/>). Two runs given the same --seed see the same noise, so their tables compare σ by σ.
/// </summary>
public sealed class DenoisingCommand : ICommand
{
    public string Name => "denoising";
    public string Summary => "a denoiser's error on held-out data at each noise level σ, to compare models of different objectives level by level";
    public string Usage => "langevin denoising (--run RUN | --checkpoint FILE) [--data SPEC] [--n N] [--sigma-min X] [--sigma-max X] [--levels K] [--batch B] [--json FILE]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("data", "SPEC", "held-out data (default: the run's data, its test split where it has one)"),
        new("n", "N", "items (default 500)"),
        new("sigma-min", "X", "smallest σ (default: the model's)"),
        new("sigma-max", "X", "largest σ (default: the model's)"),
        new("levels", "K", "σ's evenly spaced in log σ (default 12)"),
        new("batch", "B", "items per network call (default 250)"),
    ];

    public int Run(ParsedArgs a)
    {
        int n = a.Int("n") ?? 500, levels = a.Int("levels") ?? 12, batch = a.Int("batch") ?? 250;
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        if (levels < 1) throw new UsageException($"--levels must be ≥ 1 (got {levels})");
        if (batch < 1) throw new UsageException($"--batch must be ≥ 1 (got {batch})");
        foreach (var option in new[] { "sigma-min", "sigma-max" })
            if (a.Double(option) is { } v && !(v > 0 && double.IsFinite(v))) throw new UsageException($"--{option} must be a finite number > 0 (got {v})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        gen.Dispose();
        if (method is not IDenoisingMethod denoising)
            throw new UsageException($"denoising: a {method.Config.Method} run has no denoiser (ncsn, ddpm, edm, sde, tdpm and dmcmc runs have)");
        var (min, max) = denoising.Process.SigmaBounds;
        double lo = a.Double("sigma-min") ?? min, hi = a.Double("sigma-max") ?? max;
        if (lo > hi) throw new UsageException($"--sigma-min {lo} is above --sigma-max {hi}");
        var (data, spec) = ModelSource.HeldOutData(a, method, n);
        using var _data = data;
        n = (int)Math.Min(n, data.Count);
        var sigmas = DenoisingError.LogSpaced(lo, hi, levels);
        using var x = data.X.narrow(0, 0, n).to(method.Device());
        IReadOnlyList<DenoisingErrorPoint> points = [];
        ProgressDisplay.Run("denoising", levels, 0, a.Flag("quiet"), "σ", p =>
            points = DenoisingError.Measure(denoising.Denoiser, x, sigmas, a.Int("seed") ?? 0, batch, done => p.Report(done)));

        Console.WriteLine($"{spec}: N = {n}, {method.Config.Method} run, {(a.Flag("no-ema") ? "raw" : "EMA")} weights, seed {a.Int("seed") ?? 0}");
        Console.WriteLine("σ\tMSE per dim\t± SE\tMSE/σ²");
        var rows = new JsonArray();
        foreach (var q in points)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{q.Sigma:G4}\t{q.Mse:G4}\t{q.StandardError:G2}\t{q.Mse / (q.Sigma * q.Sigma):G4}"));
            rows.Add(new JsonObject { ["sigma"] = q.Sigma, ["mse"] = q.Mse, ["se"] = q.StandardError });
        }
        a.Result["data"] = spec;
        a.Result["n"] = n;
        a.Result["levels"] = rows;
        return 0;
    }
}
