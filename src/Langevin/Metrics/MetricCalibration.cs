using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>One line of the calibration table: a condition at one N, with every image metric.</summary>
public sealed record CalibrationRow(string Condition, int N, IReadOnlyList<(string Metric, double Value)> Values);

/// <summary>
/// What the image metrics say about known cases, against the reference set: N held-out real images (the floor),
/// the same images blurred and noised at three strengths each (the metrics should worsen monotonically), and
/// uniform-noise images (the ceiling).
/// </summary>
public static class MetricCalibration
{
    public static IReadOnlyList<double> BlurSigmas { get; } = [0.5, 1.0, 2.0];
    public static IReadOnlyList<double> NoiseStds { get; } = [0.05, 0.1, 0.2];

    /// <param name="real">Real images in [0, 1] not in the reference (e.g. the training split), at least max(N) of them.</param>
    /// <param name="reference">The reference images in [0, 1] (e.g. the test split).</param>
    /// <param name="onRow">Called as each row is done (for progress).</param>
    public static IReadOnlyList<CalibrationRow> Run(FeatureNetwork net, Tensor real, Tensor reference, IReadOnlyList<int> ns,
        int seed, Action<CalibrationRow>? onRow = null)
    {
        if (ns.Any(n => n < 4 || n > real.shape[0])) throw new UsageException($"calibrate: each N must be in 4..{real.shape[0]} (got {string.Join(", ", ns)})");
        using var refEmbedding = FeatureEmbedding.OfUnitImages(net, reference);
        using var gen = new Generator((ulong)seed);
        using var order = randperm(real.shape[0], generator: gen);
        var rows = new List<CalibrationRow>();
        foreach (int n in ns)
        {
            using var picked = real.index_select(0, order.narrow(0, 0, n));
            var conditions = new List<(string Name, Func<Tensor> Make)>
            {
                ("real (floor)", () => picked.clone()),
            };
            foreach (double s in BlurSigmas) conditions.Add(($"blur σ={s:0.##}", () => ImageCorruptions.GaussianBlur(picked, s)));
            foreach (double s in NoiseStds) conditions.Add(($"noise σ={s:0.##}", () => ImageCorruptions.AddGaussianNoise(picked, s, gen)));
            conditions.Add(("uniform noise (ceiling)", () => ImageCorruptions.UniformNoise(n, real.shape[1..], gen)));
            foreach (var (name, make) in conditions)
            {
                using var images = make();
                using var e = FeatureEmbedding.OfUnitImages(net, images);
                var row = new CalibrationRow(name, n, ImageSetEvaluation.Score(e, refEmbedding, null, seed));
                rows.Add(row);
                onRow?.Invoke(row);
            }
        }
        return rows;
    }
}
