using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>Features and class logits of one image set, float64, as a <see cref="FeatureNetwork"/> sees it.</summary>
public sealed class FeatureEmbedding : IDisposable
{
    public FeatureEmbedding(Tensor features, Tensor logits) { Features = features; Logits = logits; }
    public Tensor Features { get; }
    public Tensor Logits { get; }
    public long Count => Features.shape[0];

    /// <summary>Embeds images [N, C, H, W] in [0, 1] (the convention of <c>langevin sample --out</c>).</summary>
    public static FeatureEmbedding OfUnitImages(FeatureNetwork net, Tensor images01)
    {
        using var scope = NewDisposeScope();
        var (f, l) = net.Embed(images01.to(ScalarType.Float32).mul(2).sub(1));
        return new FeatureEmbedding(f.MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope());
    }

    /// <summary>The first <paramref name="n"/> rows (copies).</summary>
    public FeatureEmbedding Take(long n) => new(Features.narrow(0, 0, n).clone(), Logits.narrow(0, 0, n).clone());

    public void Dispose() { Features.Dispose(); Logits.Dispose(); }
}

/// <summary>
/// The image metrics in a feature network's space (see <see cref="FeatureNetwork"/>):
/// <list type="bullet">
/// <item><c>fd</c>: Fréchet distance to the reference features (<see cref="FrechetDistance"/>).</item>
/// <item><c>kid</c> → rows <c>kid</c> and <c>kid_std</c>: KID, 100 subsets of min(1000, N) (<see cref="KernelInceptionDistance"/>).</item>
/// <item><c>pr</c> → rows <c>precision</c>, <c>recall</c>: k = 3, against the first N reference items (<see cref="PrecisionRecall"/>).</item>
/// <item><c>is</c>: the Inception-Score analogue of the samples alone (<see cref="InceptionScore"/>).</item>
/// </list>
/// All depend on N (and FD and KID on the reference size): quote them with N.
/// </summary>
public static class ImageSetEvaluation
{
    public static IReadOnlyList<string> KnownMetrics { get; } = ["fd", "kid", "pr", "is"];

    /// <summary>Checks metric names; null or empty means all.</summary>
    /// <exception cref="UsageException">An unknown name.</exception>
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string>? metrics)
    {
        if (metrics is null || metrics.Count == 0) return KnownMetrics;
        foreach (var m in metrics)
            if (!KnownMetrics.Contains(m))
                throw new UsageException($"eval: unknown image metric '{m}'; use a comma-separated list of: {string.Join(", ", KnownMetrics)}");
        return metrics.Distinct().ToArray();
    }

    /// <summary>One row per number, in the order requested: (name, value).</summary>
    public static IReadOnlyList<(string Metric, double Value)> Score(FeatureEmbedding samples, FeatureEmbedding reference,
        IReadOnlyList<string>? metrics, int seed)
    {
        var rows = new List<(string, double)>();
        foreach (var m in Resolve(metrics))
        {
            switch (m)
            {
                case "fd":
                    rows.Add(("fd", FrechetDistance.Compute(samples.Features, reference.Features)));
                    break;
                case "kid":
                {
                    using var gen = new Generator((ulong)seed + 1);
                    var kid = KernelInceptionDistance.Compute(samples.Features, reference.Features, gen);
                    rows.Add(("kid", kid.Mean));
                    rows.Add(("kid_std", kid.Std));
                    break;
                }
                case "pr":
                {
                    using var refN = reference.Features.narrow(0, 0, Math.Min(reference.Count, samples.Count));
                    var pr = PrecisionRecall.Compute(refN, samples.Features);
                    rows.Add(("precision", pr.Precision));
                    rows.Add(("recall", pr.Recall));
                    break;
                }
                case "is":
                    rows.Add(("is", InceptionScore.FromLogits(samples.Logits)));
                    break;
            }
        }
        return rows;
    }
}
