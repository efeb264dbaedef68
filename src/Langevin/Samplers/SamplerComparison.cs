using System.Diagnostics;
using Langevin.Metrics;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>What a comparison samples: a denoiser over its process, the shape of one item, and the map of its output to data.</summary>
public sealed record ComparedModel(IScoreModel Model, SamplingProcess Process, long[] ItemShape, Func<Tensor, Tensor>? ToData = null);

/// <summary>The grid: every sampler at every NFE budget, <paramref name="N"/> samples per cell from noise seeded with <paramref name="Seed"/>.</summary>
/// <param name="Karras">Karras σ's for the vp samplers that take them.</param>
/// <param name="Shard">only this shard's cells: the grid's C cells (samplers × budgets, in that order) split into contiguous
/// runs, shard I holding cells ⌊I·C/N⌋ … ⌊(I + 1)·C/N⌋ − 1. A cell's noise depends on the seed only, so a shard's cells are
/// the unsharded grid's.</param>
public sealed record SamplerComparisonSettings(IReadOnlyList<string> Samplers, IReadOnlyList<int> Budgets, int N, int Seed, bool Karras = false,
    Methods.SampleShard? Shard = null)
{
    /// <summary>Whether cell <paramref name="index"/> (sampler-major) belongs to <see cref="Shard"/>.</summary>
    public bool HasCell(int index)
    {
        if (Shard is not { } s) return true;
        int cells = Samplers.Count * Budgets.Count;
        if (s.Count > cells) throw SettingException.About("shard", s, $"{s.Count} shards of {cells} cells (samplers × budgets): ask for at most {cells}");
        return index >= (int)((long)s.Index * cells / s.Count) && index < (int)((long)(s.Index + 1) * cells / s.Count);
    }
}

/// <summary>One cell: the NFE actually spent, the quality of its samples (lower is better) and wall time per sample.</summary>
public sealed record SamplerComparisonCell(string Sampler, int Budget, int Nfe, double Quality, double MsPerSample);

/// <summary>The cells that ran, and why the others did not (a budget a sampler cannot meet is left out silently).</summary>
public sealed record SamplerComparisonResult(IReadOnlyList<SamplerComparisonCell> Cells, IReadOnlyList<string> Skipped);

/// <summary>
/// <c>langevin compare</c>'s grid as a library task: samplers × NFE budgets on one model, each cell drawn from the same
/// seeded noise, timed, and scored by a <see cref="SampleQuality"/>.
/// </summary>
public static class SamplerComparison
{
    /// <summary>Runs every cell in order (sampler-major), reporting cells done to <paramref name="progress"/> ("compare", "cells").</summary>
    public static SamplerComparisonResult Run(ComparedModel model, SamplerComparisonSettings settings, SampleQuality quality, ProgressRunner? progress = null)
    {
        var cells = new List<SamplerComparisonCell>();
        var skipped = new List<string>();
        var device = model.Model is nn.Module module ? module.parameters().First().device : CPU;
        var dtype = model.Model is GaussianMixtureScore ? ScalarType.Float64 : ScalarType.Float32;
        int n = settings.N;
        (progress ?? ProgressRunners.Silent)("compare", settings.Samplers.Count * settings.Budgets.Count, "cells", p =>
        {
            int done = 0, index = -1;
            foreach (var sampler in settings.Samplers)
                foreach (int budget in settings.Budgets)
                {
                    if (!settings.HasCell(++index)) { done++; continue; }
                    bool karras = settings.Karras && SamplerCatalog.Find(sampler).Takes("karras");
                    var request = Request(sampler, budget, karras, model.Process);
                    p.Report(done, $"{sampler} @ {budget}");
                    if (request is null) { done++; continue; }       // the budget is below what the sampler needs
                    using var scope = NewDisposeScope();
                    // the noise of `langevin sample` at this seed (one block of n): a cell scores the samples sample draws
                    using var g = Methods.SamplingBlocks.BlockGenerator(settings.Seed, 0, device);
                    var noise = Methods.SamplingBlocks.ItemNoise(settings.Seed, 0, n, model.ItemShape).to(dtype, device);
                    var clock = Stopwatch.StartNew();
                    SamplerResult result;
                    try { result = SamplerCatalog.Run(model.Model, noise, request, model.Process, g); }
                    catch (UsageException e) { skipped.Add($"{sampler} @ {budget}: {e.Message}"); done++; continue; }
                    var x = (model.ToData is { } toData ? toData(result.Output) : result.Output).cpu();
                    double ms = clock.Elapsed.TotalMilliseconds / n;
                    cells.Add(new SamplerComparisonCell(sampler, budget, result.Evaluations, quality.Score(x), ms));
                    p.Report(++done, $"{sampler} @ {budget}");
                }
        });
        return new SamplerComparisonResult(cells, skipped);
    }

    /// <summary>The request that spends about <paramref name="budget"/> NFE with a sampler (null when the budget is too small).</summary>
    public static SamplerRequest? Request(string sampler, int budget, bool karras, SamplingProcess process)
    {
        bool? k = karras && process.Kind == SamplingProcess.Vp ? true : null;
        SamplerRequest Steps(int steps) => new() { Sampler = sampler, Karras = k, Steps = steps };
        return sampler switch
        {
            "heun" or "edm" => budget < 3 ? null : Steps((budget + 1) / 2),          // 2N − 1 evaluations
            "pc" => budget < 3 ? null : Steps((budget + 1) / 2),                      // 2 per level, 1 for the last
            "ald" => budget < 6 ? null : Steps(Math.Max(1, (budget - 1) / 5)),        // 5 per level + the denoising step
            "ode-rk45" => new() { Sampler = sampler, Karras = k, Rtol = ToleranceFor(budget), Atol = ToleranceFor(budget) },   // adaptive: the tolerance sets the cost
            _ => Steps(budget),
        };
    }

    static double ToleranceFor(int budget) => budget switch { <= 10 => 1e-1, <= 20 => 1e-2, <= 50 => 1e-3, <= 100 => 1e-4, _ => 1e-5 };
}

/// <summary>
/// How a comparison scores a cell's samples (lower is better), and the floor: what a real set of the same size scores,
/// below which differences are noise.
/// </summary>
public sealed class SampleQuality : IDisposable
{
    readonly Func<Tensor, double> _score;
    readonly IDisposable? _owned;

    SampleQuality(string name, Func<Tensor, double> score, IDisposable? owned)
    {
        (Name, _score, _owned) = (name, score, owned);
    }

    /// <summary>e.g. <c>SW2 vs exact samples</c>, <c>FD vs fashion-mnist:test</c>.</summary>
    public string Name { get; }

    /// <summary>NaN when there is none.</summary>
    public double Floor { get; private set; } = double.NaN;

    /// <summary>What the floor compares, e.g. <c>exact vs exact</c>; null when there is no floor.</summary>
    public string? FloorSource { get; private set; }

    /// <summary>Samples in data space: points, or images in [−1, 1].</summary>
    public double Score(Tensor samples) => _score(samples);

    /// <summary>
    /// Sliced Wasserstein-2 to the reference points, every call along the same 256 directions (seeded once from
    /// <paramref name="gen"/>: common random numbers, so cells differ by their samples only and a cell scores the same in
    /// any order or shard); with <paramref name="second"/>, a second real set, the floor is its distance.
    /// Takes ownership of <paramref name="reference"/>.
    /// </summary>
    public static SampleQuality SlicedWasserstein(string name, Tensor reference, Generator gen, Tensor? second = null, string? floorSource = null)
    {
        long directions;
        using (var draw = randint(0, long.MaxValue, [1], generator: gen)) directions = draw.item<long>();
        var quality = new SampleQuality(name, x =>
        {
            using var g = new Generator((ulong)directions, reference.device);
            return Metrics.SlicedWasserstein.Distance(x.to(ScalarType.Float64), reference, 256, g);
        }, reference);
        if (second is not null) (quality.Floor, quality.FloorSource) = (quality.Score(second), floorSource);
        return quality;
    }

    /// <summary>
    /// Fréchet distance of <paramref name="n"/> images to the protocol's reference draw; the floor is the protocol's
    /// (N real images of the other split) when the reference has one. Embeds the reference now, so a missing or wrong
    /// feature network fails before any sampling. Takes ownership of <paramref name="protocol"/>.
    /// </summary>
    public static SampleQuality FrechetDistance(ImageEvaluationProtocol protocol, int n)
    {
        string[] fd = ["fd"];
        var quality = new SampleQuality($"FD vs {protocol.Settings.Reference}", x =>
        {
            using var x01 = SamplePreview.ToUnitRange(x);
            return protocol.Score(x01, fd)[0].Value;
        }, protocol);
        try
        {
            _ = protocol.Reference;
            if (protocol.ScoreFloor(n, fd) is { } floor) (quality.Floor, quality.FloorSource) = (floor[0].Value, $"N real images from {protocol.Floor}");
        }
        catch { quality.Dispose(); throw; }
        return quality;
    }

    public void Dispose() => _owned?.Dispose();
}
