using Langevin.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class ImageMetricsTests
{
    static Tensor Randn(long n, long d, ulong seed)
    {
        using var g = new Generator(seed);
        return randn([n, d], ScalarType.Float64, generator: g);
    }

    static Tensor RandomRotation(int d, ulong seed)
    {
        using var a = Randn(d, d, seed);
        var (q, _) = linalg.qr(a);
        return q;
    }

    [Fact]
    public void FrechetDistanceOfCommutingCovariancesHasTheClosedForm()
    {
        // Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ commute, so tr(Σ₁Σ₂)^{1/2} = Σ √(aᵢbᵢ) and d² = ‖Δμ‖² + Σ (√aᵢ − √bᵢ)².
        const int d = 6;
        double[] a = [0.5, 1, 2, 3, 4, 9], b = [2, 1, 0.25, 3, 1, 0.01];
        using var q = RandomRotation(d, 1);
        using var s1 = q.matmul(diag(tensor(a))).matmul(q.T);
        using var s2 = q.matmul(diag(tensor(b))).matmul(q.T);
        using var m1 = tensor(new double[] { 0, 1, 2, 3, 4, 5 });
        using var m2 = tensor(new double[] { 1, 1, 2, 3, 4, 3 });
        double expected = 1 + 4 + a.Zip(b).Sum(p => Math.Pow(Math.Sqrt(p.First) - Math.Sqrt(p.Second), 2));
        Assert.Equal(expected, FrechetDistance.FromMoments(m1, s1, m2, s2), 9);
        Assert.Equal(0, FrechetDistance.FromMoments(m1, s1, m1, s1), 9);
    }

    [Fact]
    public void FrechetDistanceOfNonCommutingTwoByTwoCovariancesHasTheClosedForm()
    {
        // For 2×2 PSD matrices, tr M^{1/2} = √(tr M + 2√det M) with M = Σ₁Σ₂ (its eigenvalues' roots sum).
        using var s1 = tensor(new double[] { 2, 0.8, 0.8, 1 }, [2, 2]);
        using var s2 = tensor(new double[] { 0.5, -0.3, -0.3, 3 }, [2, 2]);
        double trM = s1.matmul(s2).trace().item<double>();
        double detM = linalg.det(s1).item<double>() * linalg.det(s2).item<double>();
        double traceSqrt = Math.Sqrt(trM + 2 * Math.Sqrt(detM));
        using var zero = zeros(2, dtype: ScalarType.Float64);
        Assert.Equal(traceSqrt, FrechetDistance.TraceSqrtProduct(s1, s2), 10);
        Assert.Equal(3 + 3.5 - 2 * traceSqrt, FrechetDistance.FromMoments(zero, s1, zero, s2), 10);
        Assert.True(s1.matmul(s2).sub(s2.matmul(s1)).abs().max().item<double>() > 0.1);   // they do not commute
    }

    [Fact]
    public void FrechetDistanceFromSamplesApproachesTheGaussianValue()
    {
        // X ~ N(0, I₄), Y ~ N(0.5·1, 4 I₄): d² = 4·0.25 + 4·(1 − 2)² = 5; the estimate's bias is O(d²/N).
        using var x = Randn(20_000, 4, 3);
        using var y0 = Randn(20_000, 4, 4);
        using var y = y0.mul(2).add(0.5);
        Assert.InRange(FrechetDistance.Compute(x, y), 4.85, 5.15);
    }

    [Fact]
    public void KidEqualsADirectDoubleSumAndItsSubsetsUseEveryPointWhenTheyCover()
    {
        using var x = Randn(30, 5, 5);
        using var y0 = Randn(25, 5, 6);
        using var y = y0.add(0.3);
        double[,] X = ToArray(x), Y = ToArray(y);
        double K(double[,] p, int i, double[,] q, int j)
        {
            double dot = 0;
            for (int c = 0; c < 5; c++) dot += p[i, c] * q[j, c];
            return Math.Pow(dot / 5 + 1, 3);
        }
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 30; i++) for (int j = 0; j < 30; j++) if (i != j) xx += K(X, i, X, j);
        for (int i = 0; i < 25; i++) for (int j = 0; j < 25; j++) if (i != j) yy += K(Y, i, Y, j);
        for (int i = 0; i < 30; i++) for (int j = 0; j < 25; j++) xy += K(X, i, Y, j);
        double direct = xx / (30 * 29) + yy / (25 * 24) - 2 * xy / (30 * 25);
        Assert.Equal(direct, KernelInceptionDistance.UnbiasedMmd2(x, y), 10);

        // Subsets of the whole of equal-size sets are permutations: the estimate is the full-set value.
        using var ySame = y0.narrow(0, 0, 25);
        using var x25 = x.narrow(0, 0, 25);
        using var g = new Generator(7);
        var kid = KernelInceptionDistance.Compute(x25, ySame, g, subsets: 3, subsetSize: 1000);
        Assert.Equal(25, kid.SubsetSize);
        Assert.Equal(1, kid.Subsets);
        Assert.Equal(KernelInceptionDistance.UnbiasedMmd2(x25, ySame), kid.Mean, 10);
        Assert.True(kid.Std < 1e-10);
        var sub = KernelInceptionDistance.Compute(x, y0, g, subsets: 4, subsetSize: 20);   // real subsets: they vary
        Assert.Equal((4, 20), (sub.Subsets, sub.SubsetSize));
        Assert.True(sub.Std > 0);
    }

    static double[,] ToArray(Tensor t)
    {
        var flat = t.contiguous().data<double>().ToArray();
        var a = new double[t.shape[0], t.shape[1]];
        Buffer.BlockCopy(flat, 0, a, 0, flat.Length * sizeof(double));
        return a;
    }

    [Fact]
    public void KidIsNearZeroForTheSameDistributionAndPositiveForAShift()
    {
        using var x = Randn(2000, 8, 11);
        using var y = Randn(2000, 8, 12);
        using var z = y.add(0.3);
        using var g = new Generator(3);
        var same = KernelInceptionDistance.Compute(x, y, g, subsets: 20, subsetSize: 500);
        var shifted = KernelInceptionDistance.Compute(x, z, g, subsets: 20, subsetSize: 500);
        Assert.True(Math.Abs(same.Mean) < 3 * same.Std / Math.Sqrt(20) + 1e-3, $"same {same}");
        Assert.True(shifted.Mean > 10 * Math.Abs(same.Mean) && shifted.Mean > 0.01, $"shifted {shifted}, same {same}");
    }

    static Tensor OnLine(params double[] xs) => stack([tensor(xs), zeros(xs.Length, dtype: ScalarType.Float64)], 1);

    [Fact]
    public void PrecisionAndRecallOfPointsOnALineHaveTheirCountedValues()
    {
        using var reference = OnLine(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        // k = 3 radii: interior points 2, ends 3 (Eq. 1).
        using var radii = PrecisionRecall.KthNeighbourDistance(reference, 3);
        Assert.Equal(new double[] { 3, 2, 2, 2, 2, 2, 2, 2, 2, 3 }, radii.data<double>().ToArray());

        var same = PrecisionRecall.Compute(reference, reference);
        Assert.Equal((1.0, 1.0), (same.Precision, same.Recall));

        using var far = OnLine(100, 101, 102, 103, 104, 105);
        var none = PrecisionRecall.Compute(reference, far);
        Assert.Equal((0.0, 0.0), (none.Precision, none.Recall));

        // Samples 0..4 and 100..104: half lie on the reference (precision 1/2). The samples' balls around 0..4 have
        // radii 3, 2, 2, 2, 3 and cover [−3, 7], so reference points 0..7 are recalled: 8 of 10.
        using var half = OnLine(0, 1, 2, 3, 4, 100, 101, 102, 103, 104);
        var pr = PrecisionRecall.Compute(reference, half);
        Assert.Equal(0.5, pr.Precision, 12);
        Assert.Equal(0.8, pr.Recall, 12);
    }

    [Fact]
    public void InceptionScoreIsTheClassCountForConfidentBalancedPredictionsAndOneForUniform()
    {
        using var oneHot = eye(4, dtype: ScalarType.Float64).repeat(5, 1);   // 20 predictions, 5 per class
        Assert.Equal(4, InceptionScore.FromProbabilities(oneHot), 12);
        using var uniform = full(20, 4, 0.25, dtype: ScalarType.Float64);
        Assert.Equal(1, InceptionScore.FromProbabilities(uniform), 12);
        using var allOne = zeros(20, 4, dtype: ScalarType.Float64).index_fill_(1, tensor(new long[] { 2 }), 1.0);
        Assert.Equal(1, InceptionScore.FromProbabilities(allOne), 12);
        using var logits = oneHot.mul(60);                                     // softmax ≈ one-hot to e^−60
        Assert.Equal(4, InceptionScore.FromLogits(logits), 9);
        // Two classes predicted 50/50 over 2 classes with certainty 0.9 each way: IS = exp(0.9 log 1.8 + 0.1 log 0.2).
        using var soft = tensor(new double[] { 0.9, 0.1, 0.1, 0.9 }, [2, 2]);
        Assert.Equal(Math.Exp(0.9 * Math.Log(1.8) + 0.1 * Math.Log(0.2)), InceptionScore.FromProbabilities(soft), 12);
    }
}
