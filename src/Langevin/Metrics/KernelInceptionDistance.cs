using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>KID over random subsets: the mean and standard deviation of the per-subset estimates.</summary>
public sealed record KidResult(double Mean, double Std, int Subsets, int SubsetSize);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018, §3 and App. D): the unbiased MMD² (Gretton et al. 2012, Eq. 3)
/// between feature sets with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets
/// (the paper's code: 100 subsets of 1,000, each drawn without replacement). In float64. Unbiased, so it can be
/// slightly negative for equal distributions; its expectation does not depend on N, its spread does.
/// </summary>
public static class KernelInceptionDistance
{
    public const int DefaultSubsets = 100;
    public const int DefaultSubsetSize = 1000;

    /// <summary>k(X, Y) = (X Yᵀ / d + 1)³, [M, N].</summary>
    public static Tensor Kernel(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        // Scalars held until the end: an implicit one can be finalized while the native call still reads it (TorchSharp
        // 0.107 passes its raw handle; seen once here as "toDouble: Expected false to be true" in add_).
        using Scalar d = x.shape[1], one = 1, three = 3;
        return x.matmul(y.T).div_(d).add_(one).pow_(three).MoveToOuterDisposeScope();
    }

    /// <summary>Unbiased MMD² with the cubic kernel between x [M, D] and y [N, D] (M, N ≥ 2).</summary>
    public static double UnbiasedMmd2(Tensor x, Tensor y)
    {
        using var a = PairwiseSums.AsPoints(x, "x", "KID", 2);
        using var b = PairwiseSums.AsPoints(y, "y", "KID", 2);
        if (a.shape[1] != b.shape[1]) throw new DataException($"KID: feature sizes differ ({a.shape[1]} and {b.shape[1]})");
        using var scope = NewDisposeScope();
        double m = a.shape[0], n = b.shape[0];
        var kxx = Kernel(a, a);
        var kyy = Kernel(b, b);
        var kxy = Kernel(a, b);
        double xx = (kxx.sum().item<double>() - kxx.diagonal().sum().item<double>()) / (m * (m - 1));
        double yy = (kyy.sum().item<double>() - kyy.diagonal().sum().item<double>()) / (n * (n - 1));
        return xx + yy - 2 * kxy.mean().item<double>();
    }

    /// <summary>
    /// KID of x against y: <paramref name="subsets"/> times, draw min(<paramref name="subsetSize"/>, M, N) rows of each
    /// without replacement and take the unbiased MMD²; returns their mean and standard deviation. When a subset would
    /// hold both whole sets (M = N ≤ subset size), the one full-set value is returned (standard deviation 0, 1 subset).
    /// </summary>
    public static KidResult Compute(Tensor x, Tensor y, Generator gen, int subsets = DefaultSubsets, int subsetSize = DefaultSubsetSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subsets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(subsetSize, 2);
        using var a = PairwiseSums.AsPoints(x, "samples", "KID", 2);
        using var b = PairwiseSums.AsPoints(y, "reference", "KID", 2);
        int m = (int)Math.Min(subsetSize, Math.Min(a.shape[0], b.shape[0]));
        // Subsets that hold both whole sets are permutations of them: every draw gives the same value.
        if (m == a.shape[0] && m == b.shape[0]) return new KidResult(UnbiasedMmd2(a, b), 0, 1, m);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            using var scope = NewDisposeScope();
            var ia = randperm(a.shape[0], generator: gen).narrow(0, 0, m);
            var ib = randperm(b.shape[0], generator: gen).narrow(0, 0, m);
            values[s] = UnbiasedMmd2(a.index_select(0, ia), b.index_select(0, ib));
        }
        double mean = values.Average();
        double std = subsets > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (subsets - 1)) : 0;
        return new KidResult(mean, std, subsets, m);
    }
}
