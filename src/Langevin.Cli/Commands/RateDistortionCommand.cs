using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Likelihood;
using Langevin.Processes;
using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin rate-distortion</c>: DDPM's progressive lossy decompression (Ho et al. 2020, §4.3, Fig. 5–7) — the rate–distortion
/// curve along the sender's chain (<see cref="RateDistortion"/>), x̂₀ at decreasing t as a grid, and progressive generation
/// (x̂₀ along a DDPM sampling chain, <see cref="DiffusionTasks.ProgressiveGeneration"/>).
/// </summary>
public sealed class RateDistortionCommand : ICommand
{
    public string Name => "rate-distortion";
    public string Summary => "DDPM's progressive lossy decompression: rate–distortion curve, x̂₀ along the chain (Ho et al. 2020, §4.3)";
    public string Usage => "langevin rate-distortion (--run RUN | --checkpoint FILE) [--data SPEC] [--n N] [--every K] [--variance fixed-large|fixed-small|learned] [--gen-steps N] --out DIR";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("data", "SPEC", "the data to compress (default: the run's data, test split where it has one)"),
        new("n", "N", "items (default 100); the rate and distortion are their means"),
        new("every", "K", "evaluate the model at every K-th timestep (and all t < K, and T − 1) instead of all T (default 1: exact)"),
        new("variance", "fixed-large|fixed-small|learned", "the reverse variance p_θ codes with: β_t, β̃_t, or the learned Σ of a --loss hybrid run (default: learned for such runs, else fixed-large)"),
        new("rows", "R", "images in the grids (default 8)"),
        new("columns", "C", "x̂₀ columns in the grids, at evenly spaced t from T − 1 to 0 (default 10)"),
        new("gen-steps", "N", "progressive generation: DDPM ancestral steps (default 1000; 0: no generation grid)"),
        new("out", "DIR", "writes rd.json, rd.png, decompression.png and generation.png there"),
    ];

    public int Run(ParsedArgs a)
    {
        string outDir = a.String("out") ?? throw new UsageException("rate-distortion: --out DIR is required");
        int n = a.Int("n") ?? 100, every = a.Int("every") ?? 1, rows = a.Int("rows") ?? 8, columns = a.Int("columns") ?? 10;
        int genSteps = a.Int("gen-steps") ?? 1000;
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        if (every < 1) throw new UsageException($"--every must be ≥ 1 (got {every})");
        if (rows < 1) throw new UsageException($"--rows must be ≥ 1 (got {rows})");
        if (columns < 2) throw new UsageException($"--columns must be ≥ 2 (got {columns})");
        if (genSteps < 0) throw new UsageException($"--gen-steps must be ≥ 0 (got {genSteps})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        var coding = ProgressiveCoding.For(method, a.String("variance"), every);
        if (genSteps > coding.Schedule.T) throw new UsageException($"--gen-steps must be ≤ T = {coding.Schedule.T} (got {genSteps})");
        string variance = coding.Variance;
        var (data, spec) = ModelSource.HeldOutData(a, method, n);
        using var _data = data;
        n = (int)Math.Min(n, data.Count);
        bool image = data.IsImage;
        rows = Math.Min(rows, n);
        Directory.CreateDirectory(outDir);
        RateDistortionCurve? curve = null;
        using var x0 = data.X.narrow(0, 0, n);
        ProgressDisplay.Run("rate-distortion", coding.MeasureEvaluations(image, columns), 0, a.Flag("quiet"), "NFE", p =>
            curve = coding.Measure(x0, image, rows, columns, gen, done => p.Report(done)));
        using var result = curve!;
        Console.WriteLine($"{spec}: N = {n}, {result.Dimensions} dims, variance {variance}, NFE {result.Evaluations}{(every > 1 ? $" (every {every}-th t: the rate is an estimate)" : "")}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rate at t = 0 {result.TotalRate:F4} bits/dim (L_T {result.PriorRate:G3}), decoder L_0 {result.DecoderRate:F4}, bound {result.Bound:F4}; " +
            $"distortion {result.Points[0].Distortion:F2} at t = {result.Points[0].Timestep} (data RMS {result.DataRms:F2}) → {result.Points[^1].Distortion:F3} at t = 0"));
        WriteJson(Path.Combine(outDir, "rd.json"), spec, variance, every, result);
        Plots.Lines(Path.Combine(outDir, "rd.png"), $"DDPM rate–distortion ({spec}, N = {n}, {variance})",
            "rate (bits/dim)", image ? "distortion (RMSE, [0, 255])" : "distortion (RMSE)",
            [("", [.. result.Points.Select(q => q.Rate)], [.. result.Points.Select(q => q.Distortion)])]);
        Console.WriteLine($"wrote {Path.Combine(outDir, "rd.json")}, {Path.Combine(outDir, "rd.png")}");
        a.Result["rd_json"] = Path.Combine(outDir, "rd.json");
        a.Result["n"] = n;
        a.Result["rate_bits_per_dim"] = result.TotalRate;
        a.Result["decoder_bits_per_dim"] = result.DecoderRate;
        a.Result["bound_bits_per_dim"] = result.Bound;
        a.Result["nfe"] = result.Evaluations;
        if (!image) return 0;

        // Fig. 7: rows = images, columns = x̂₀ at decreasing t, then the original
        using (var grid = ProgressiveCoding.DecompressionGrid(result, x0))
        using (var shown = SamplePreview.ToUnitRange(grid))
            ImageGrid.SavePng(Path.Combine(outDir, "decompression.png"), shown, columns: columns + 1);
        Console.WriteLine($"wrote {Path.Combine(outDir, "decompression.png")} ({rows} rows: x̂₀ at t = {string.Join(", ", result.SnapshotTimesteps)}, then x₀)");
        if (genSteps == 0) return 0;

        // Fig. 6: x̂₀ along a DDPM sampling chain, then the sample
        ProgressiveGenerationGrid? generated = null;
        ProgressDisplay.Run("progressive generation", coding.GenerationPlan(genSteps).Steps, 0, a.Flag("quiet"), "NFE", p =>
            generated = coding.Generate(rows, genSteps, columns, gen, done => p.Report(done)));
        using (generated)
        using (var shown = SamplePreview.ToUnitRange(generated!.Grid))
            ImageGrid.SavePng(Path.Combine(outDir, "generation.png"), shown, columns: columns + 1);
        Console.WriteLine($"wrote {Path.Combine(outDir, "generation.png")} ({rows} rows: x̂₀ at steps {string.Join(", ", generated.KeptSteps)} of {generated.Steps} ({variance}), then the sample)");
        return 0;
    }

    static void WriteJson(string path, string spec, string variance, int every, RateDistortionCurve c)
    {
        var points = new JsonArray();
        foreach (var q in c.Points)
            points.Add(new JsonObject { ["t"] = q.Timestep, ["sigma"] = q.Sigma, ["rate"] = q.Rate, ["distortion"] = q.Distortion, ["term"] = q.Term });
        var json = new JsonObject
        {
            ["data"] = spec, ["n"] = c.Items, ["dims"] = c.Dimensions, ["variance"] = variance, ["every"] = every, ["nfe"] = c.Evaluations,
            ["rate_unit"] = "bits/dim", ["distortion_unit"] = "RMSE",
            ["prior_bits_per_dim"] = c.PriorRate, ["decoder_bits_per_dim"] = c.DecoderRate, ["total_rate"] = c.TotalRate, ["bound"] = c.Bound,
            ["data_rms"] = c.DataRms, ["points"] = points,
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(new() { WriteIndented = true }));
    }
}
