using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Maximum mean discrepancy with a sum of RBF kernels k(a, b) = Σₕ exp(−‖a − b‖² / (2h²)).
/// <see cref="Squared"/> is the unbiased estimate MMD²ᵤ of Gretton et al. (2012, JMLR 13, Eq. 3):
/// 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(n(n−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(mn) Σᵢⱼ k(xᵢ, yⱼ).
/// Unbiased means it can be slightly negative when the distributions are equal. Depends on N: quote N with it.
/// </summary>
public static class MaximumMeanDiscrepancy
{
    /// <summary>Multipliers of the median pairwise distance used by <see cref="DefaultBandwidths"/>.</summary>
    public static IReadOnlyList<double> DefaultMultipliers { get; } = [0.5, 1.0, 2.0];

    /// <summary>Unbiased MMD² between point sets x [M, D] and y [N, D] (M, N ≥ 2), in float64, chunked.</summary>
    /// <exception cref="DataException">A set is not [N, D] with at least 2 points, the dimensions differ, or a bandwidth is not positive.</exception>
    public static double Squared(Tensor x, Tensor y, double[] bandwidths)
    {
        ArgumentNullException.ThrowIfNull(bandwidths);
        if (bandwidths.Length == 0 || bandwidths.Any(h => !(h > 0) || !double.IsFinite(h)))
            throw new DataException($"MMD: bandwidths must be positive and finite (got [{string.Join(", ", bandwidths)}])");
        using var a = PairwiseSums.AsPoints(x, "x", "MMD", 2);
        using var b = PairwiseSums.AsPoints(y, "y", "MMD", 2);
        // One function per bandwidth, summed afterwards: no [chunk, M] accumulator to keep alive.
        var kernel = bandwidths.Select(h => (Action<Tensor>)(d2 => d2.mul_(-1.0 / (2 * h * h)).exp_())).ToArray();
        double m = a.shape[0], n = b.shape[0], kd = bandwidths.Length;   // k(a, a) = number of bandwidths
        double xx = (PairwiseSums.Sum(a, a, kernel).Sum() - m * kd) / (m * (m - 1));
        double yy = (PairwiseSums.Sum(b, b, kernel).Sum() - n * kd) / (n * (n - 1));
        double xy = PairwiseSums.Sum(a, b, kernel).Sum() / (m * n);
        return xx + yy - 2 * xy;
    }

    /// <summary>
    /// Median of the pairwise Euclidean distances (i &lt; j) among at most <paramref name="maxPoints"/> evenly strided
    /// points of <paramref name="points"/> (deterministic; no randomness).
    /// </summary>
    public static double MedianPairwiseDistance(Tensor points, int maxPoints = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        using var scope = NewDisposeScope();
        using var p = PairwiseSums.AsPoints(points, "points", "MMD bandwidth", 2);
        long n = p.shape[0];
        var sub = n <= maxPoints ? p : p.index_select(0, linspace(0, n - 1, maxPoints).round().to(ScalarType.Int64));
        long k = sub.shape[0];
        var d = cdist(sub, sub);
        var iu = triu_indices(k, k, 1);
        var upper = d[iu[0], iu[1]];
        return upper.median().item<double>();
    }

    /// <summary>
    /// The default bandwidths for 2-D: the median pairwise distance of <paramref name="reference"/> times {0.5, 1, 2}.
    /// Compute them once from the reference set and reuse them for every set compared with it, so the numbers compare.
    /// </summary>
    /// <exception cref="DataException">All reference points coincide (the median distance is 0).</exception>
    public static double[] DefaultBandwidths(Tensor reference)
    {
        double median = MedianPairwiseDistance(reference);
        if (!(median > 0)) throw new DataException("MMD: the reference points' median pairwise distance is 0, so no RBF bandwidth can be chosen; give bandwidths explicitly");
        return DefaultMultipliers.Select(f => f * median).ToArray();
    }
}
