using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Sums of a function of squared Euclidean distances over all pairs (aᵢ, bⱼ), in float64 and in row chunks so that
/// 10,000 × 10,000 pairs never hold more than a few [chunk, M] blocks (about 20 MB each) at once.
/// </summary>
static class PairwiseSums
{
    /// <summary>Elements per [chunk, M] block: 2.5 M float64 = 20 MB.</summary>
    const long BlockElements = 2_500_000;

    /// <summary>Checks a point set is [N, D] with N ≥ <paramref name="minRows"/>; returns it as float64 (a new tensor).</summary>
    internal static Tensor AsPoints(Tensor t, string what, string metric, int minRows)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dim() != 2) throw new DataException($"{metric}: {what} must be [N, D] points (got [{string.Join(", ", t.shape)}])");
        if (t.shape[0] < minRows) throw new DataException($"{metric}: {what} needs at least {minRows} points (got {t.shape[0]})");
        return t.to(ScalarType.Float64, copy: true).contiguous();
    }

    /// <summary>
    /// For each function fₖ, Σᵢ Σⱼ fₖ(‖aᵢ − bⱼ‖²) over all pairs, diagonal included (its squared distances are exactly 0
    /// when <paramref name="a"/> and <paramref name="b"/> are the same tensor, so callers subtract N·fₖ(0)).
    /// </summary>
    internal static double[] Sum(Tensor a, Tensor b, IReadOnlyList<Func<Tensor, Tensor>> fs)
    {
        long n = a.shape[0], m = b.shape[0], d = a.shape[1];
        if (b.shape[1] != d) throw new DataException($"point sets must have the same dimension (got {d} and {b.shape[1]})");
        long chunk = Math.Max(1, BlockElements / Math.Max(1, m));
        var sums = new double[fs.Count];
        var bt = b.t().contiguous();   // [D, M]
        try
        {
            for (long start = 0; start < n; start += chunk)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(chunk, n - start);
                var rows = a.narrow(0, start, len);
                Tensor? d2 = null;
                for (long k = 0; k < d; k++)
                {
                    var diff = rows.narrow(1, k, 1) - bt.narrow(0, k, 1);   // [len, M] exact: aᵢ − aᵢ = 0
                    d2 = d2 is null ? diff.square() : d2.add_(diff.square());
                }
                d2 ??= zeros([len, m], ScalarType.Float64);
                for (int f = 0; f < fs.Count; f++) sums[f] += fs[f](d2).sum().item<double>();
            }
        }
        finally { bt.Dispose(); }
        return sums;
    }
}
