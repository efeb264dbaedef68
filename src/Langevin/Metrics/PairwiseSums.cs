using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Sums of a function of squared Euclidean distances over all pairs (aᵢ, bⱼ), in float64 and in row chunks so that
/// 10,000 × 10,000 pairs only ever hold two [chunk, M] buffers (20 MB each). The buffers are allocated once per call
/// and every step works in place: allocating fresh 20 MB blocks per chunk let glibc's heap (its mmap threshold
/// adapts upward after the first free) grow by hundreds of MB per call.
/// </summary>
static class PairwiseSums
{
    /// <summary>Elements per [chunk, M] buffer: 2.5 M float64 = 20 MB.</summary>
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
    /// For each transform fₖ, Σᵢ Σⱼ fₖ(‖aᵢ − bⱼ‖²) over all pairs, diagonal included (its squared distances are exactly 0
    /// when <paramref name="a"/> and <paramref name="b"/> are the same tensor, so callers subtract N·fₖ(0)).
    /// Each fₖ must turn its argument (a scratch copy of the squared distances) into fₖ(d²) in place.
    /// </summary>
    internal static double[] Sum(Tensor a, Tensor b, IReadOnlyList<Action<Tensor>> inPlace)
    {
        long n = a.shape[0], m = b.shape[0], d = a.shape[1];
        if (b.shape[1] != d) throw new DataException($"point sets must have the same dimension (got {d} and {b.shape[1]})");
        long chunk = Math.Min(n, Math.Max(1, BlockElements / Math.Max(1, m)));
        var sums = new double[inPlace.Count];
        using var scope = NewDisposeScope();
        var bt = b.t().contiguous();   // [D, M]
        var d2Buffer = empty([chunk, m], ScalarType.Float64);
        var workBuffer = empty([chunk, m], ScalarType.Float64);
        for (long start = 0; start < n; start += chunk)
        {
            long len = Math.Min(chunk, n - start);
            using var rows = a.narrow(0, start, len);
            using var d2 = d2Buffer.narrow(0, 0, len);
            using var work = workBuffer.narrow(0, 0, len);
            for (long k = 0; k < d; k++)
            {
                using var bk = bt.narrow(0, k, 1).expand(len, m);
                using var ak = rows.narrow(1, k, 1);
                var target = k == 0 ? d2 : work;
                target.copy_(bk).sub_(ak);                     // bⱼ − aᵢ, exactly 0 on the diagonal
                if (k == 0) d2.mul_(d2); else d2.addcmul_(work, work, 1.0);
            }
            if (d == 0) d2.zero_();
            for (int f = 0; f < inPlace.Count; f++)
            {
                work.copy_(d2);
                inPlace[f](work);
                using var total = work.sum();
                sums[f] += total.item<double>();
            }
        }
        return sums;
    }
}
