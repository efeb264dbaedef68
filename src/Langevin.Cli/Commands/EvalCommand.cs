using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Metrics;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin eval</c>: 2-D sample quality against a reference distribution (see <see cref="PointSetEvaluation"/>),
/// with the floor a second fresh reference set scores, as a table and optionally JSON.
/// </summary>
public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "score 2-D samples against a reference: sliced Wasserstein, MMD, energy distance, mode coverage, support";
    public string Usage => "langevin eval --samples S.npy --ref SPEC [--metrics swd,mmd,energy,modes,support] [--n N] [--seed S] [--json FILE]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("samples", "S.npy", "the samples to score: [N, 2] points (float32 or float64)"),
        new("ref", "SPEC", "the reference: a 2-D dataset (8gaussians, checkerboard, ...) or a data spec of [M, 2] points, e.g. npy:FILE with M ≥ 2N"),
        new("metrics", "LIST", $"comma-separated, from {string.Join(", ", PointSetEvaluation.KnownMetrics)} (default: swd, mmd, energy, plus modes for mixtures and support for checkerboard)"),
        new("n", "N", "score only the first N samples (default: all); the metrics depend on N"),
        new("seed", "S", "seed for the reference draws and the SWD directions (default 0)"),
        new("json", "FILE", "also write the results as JSON to FILE"),
    ];

    public int Run(ParsedArgs a)
    {
        string path = a.String("samples") ?? throw new UsageException("eval: --samples is required (an .npy file of [N, 2] points)");
        string refSpec = a.String("ref") ?? throw new UsageException("eval: --ref is required (a 2-D dataset such as 8gaussians, or npy:FILE of [M, 2] points)");
        int seed = a.Int("seed") ?? 0;
        int? nOpt = a.Int("n");
        if (nOpt is < 2) throw new UsageException($"eval: --n must be at least 2 (got {nOpt})");
        string[]? metrics = a.String("metrics")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (metrics is { Length: 0 }) throw new UsageException($"eval: --metrics is empty; give a comma-separated list of: {string.Join(", ", PointSetEvaluation.KnownMetrics)}");
        string? jsonPath = a.String("json");

        using var scope = NewDisposeScope();
        var samples = NpyFile.Read(path);
        if (samples.dim() != 2 || samples.shape[1] != 2)
            throw new DataException($"{path}: eval needs [N, 2] points, got shape [{string.Join(", ", samples.shape)}]; save the samples as an [N, 2] float array");
        if (samples.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new DataException($"{path}: eval needs float32 or float64 points, got {samples.dtype}; save the samples as floats");
        if (!samples.isfinite().all().item<bool>())
            throw new DataException($"{path}: the samples contain NaN or infinite values; the sampler diverged or the file is damaged");
        long total = samples.shape[0];
        if (total < 2) throw new DataException($"{path}: eval needs at least 2 points, got {total}");
        if (nOpt is int n0 && n0 > total) throw new UsageException($"eval: --n {n0} is more than the {total} samples in {path}");
        int n = nOpt ?? checked((int)total);
        var used = samples.narrow(0, 0, n);

        var rows = PointSetEvaluation.Evaluate(used, refSpec, metrics, seed);

        Console.WriteLine($"samples {path} vs reference {refSpec}: N = {n}, seed {seed}; floor = a second fresh reference set of N points");
        var cells = rows.Select(r => (r.Metric, Format(r.Metric, r.Samples), Format(r.Metric, r.Floor))).ToList();
        int w0 = Math.Max("metric".Length, cells.Max(c => c.Metric.Length));
        int w1 = Math.Max("samples".Length, cells.Max(c => c.Item2.Length));
        int w2 = Math.Max("floor".Length, cells.Max(c => c.Item3.Length));
        Console.WriteLine($"{"metric".PadRight(w0)}  {"samples".PadLeft(w1)}  {"floor".PadLeft(w2)}");
        foreach (var (m, s, f) in cells) Console.WriteLine($"{m.PadRight(w0)}  {s.PadLeft(w1)}  {f.PadLeft(w2)}");

        if (jsonPath is not null)
        {
            var results = new JsonObject();
            foreach (var r in rows) results[r.Metric] = new JsonObject { ["samples"] = r.Samples, ["floor"] = r.Floor };
            var json = new JsonObject
            {
                ["samples"] = path,
                ["ref"] = refSpec,
                ["n"] = n,
                ["seed"] = seed,
                ["swd_projections"] = PointSetEvaluation.Projections,
                ["mmd_bandwidths"] = "median pairwise distance of the reference set times 0.5, 1, 2",
                ["metrics"] = results,
            };
            AtomicFile.WriteAllText(jsonPath, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Console.WriteLine($"wrote {jsonPath}");
        }
        return 0;
    }

    static string Format(string metric, double v) => metric == "modes_covered"
        ? v.ToString("0", CultureInfo.InvariantCulture)
        : v.ToString("G4", CultureInfo.InvariantCulture);
}
