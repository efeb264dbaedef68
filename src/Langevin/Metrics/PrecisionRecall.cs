using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>Improved precision and recall; <see cref="K"/> is the neighbourhood size.</summary>
public sealed record PrecisionRecallResult(double Precision, double Recall, int K);

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019, Eqs. 1–3). Each set's manifold is the union of balls
/// around its points with radius the distance to the point's k-th nearest neighbour in the same set (k = 3 by
/// default, as in the paper). Precision: the fraction of samples inside the reference manifold; recall: the fraction
/// of reference points inside the samples' manifold. Euclidean distances in float64, in row chunks.
/// </summary>
public static class PrecisionRecall
{
    public const int DefaultK = 3;

    /// <summary>Elements of one [chunk, N] distance block (2.5 M float64 = 20 MB).</summary>
    const long BlockElements = 2_500_000;

    public static PrecisionRecallResult Compute(Tensor reference, Tensor samples, int k = DefaultK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        using var r = PairwiseSums.AsPoints(reference, "reference", "precision/recall", k + 1);
        using var s = PairwiseSums.AsPoints(samples, "samples", "precision/recall", k + 1);
        if (r.shape[1] != s.shape[1]) throw new DataException($"precision/recall: feature sizes differ ({r.shape[1]} and {s.shape[1]})");
        using var rr = KthNeighbourDistance(r, k);
        using var rs = KthNeighbourDistance(s, k);
        return new PrecisionRecallResult(FractionInside(s, r, rr), FractionInside(r, s, rs), k);
    }

    /// <summary>For each point of x [N, D], the distance to its k-th nearest other point of x (Eq. 1's NN_k radius).</summary>
    public static Tensor KthNeighbourDistance(Tensor x, int k)
    {
        long n = x.shape[0];
        var result = empty(n, ScalarType.Float64);
        ForEachChunk(x, x, (start, d) =>
        {
            // The (k+1)-th smallest distance of a row counts the point itself (distance 0) first.
            using var kth = d.topk(k + 1, 1, largest: false, sorted: true).values.select(1, k);
            result.narrow(0, start, d.shape[0]).copy_(kth);
        });
        return result;
    }

    /// <summary>Fraction of points inside ∪ⱼ B(centresⱼ, radiiⱼ) (Eq. 2: ‖p − cⱼ‖ ≤ rⱼ for some j).</summary>
    public static double FractionInside(Tensor points, Tensor centres, Tensor radii)
    {
        long inside = 0;
        using var rad = radii.to(ScalarType.Float64).unsqueeze(0);
        ForEachChunk(points, centres, (_, d) =>
        {
            using var within = d.le(rad).any(1);
            inside += within.sum().item<long>();
        });
        return inside / (double)points.shape[0];
    }

    /// <summary>Euclidean distances of row chunks of a to all of b, [chunk, N] float64, via ‖a‖² + ‖b‖² − 2abᵀ clamped at 0.</summary>
    static void ForEachChunk(Tensor a, Tensor b, Action<long, Tensor> body)
    {
        long n = a.shape[0], m = b.shape[0];
        long chunk = Math.Max(1, Math.Min(n, BlockElements / Math.Max(1, m)));
        using var b64 = b.to(ScalarType.Float64);
        using var bNorm = b64.square().sum(1).unsqueeze(0);
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(chunk, n - start);
            var rows = a.narrow(0, start, len).to(ScalarType.Float64);
            var d2 = rows.square().sum(1, keepdim: true) + bNorm - 2 * rows.matmul(b64.T);
            body(start, d2.clamp_min_(0).sqrt_());
        }
    }
}
