using Langevin.Data;
using Langevin.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class DistributionDistanceTests
{
    static Tensor Gaussian(int n, int d, double shift, ulong seed)
    {
        using var g = new Generator(seed);
        return randn([n, d], ScalarType.Float64, generator: g).add(shift);
    }

    [Fact]
    public void UnbiasedMmdOfTheSameDistributionAveragesToZeroAndCanBeNegative()
    {
        var values = new List<double>();
        for (ulong s = 0; s < 8; s++)
        {
            using var x = Gaussian(400, 2, 0, 2 * s + 1);
            using var y = Gaussian(400, 2, 0, 2 * s + 2);
            values.Add(MaximumMeanDiscrepancy.Squared(x, y, [0.5, 1, 2]));
        }
        Assert.True(Math.Abs(values.Average()) < 0.004, $"mean {values.Average()}");
        Assert.Contains(values, v => v < 0);   // unbiased: no floor at 0
    }

    [Fact]
    public void MmdMatchesTheGaussianClosedForm()
    {
        // X ~ N(0, I₂), Y ~ N(μ·1, I₂), RBF bandwidth h: X − Y ~ N(−Δ, 2I), so
        // MMD² = 2 (h²/(h²+2))^{d/2} (1 − exp(−‖Δ‖²/(2(h²+2)))).
        const double h = 1, mu = 0.7;
        double delta2 = 2 * mu * mu;
        double expected = 2 * (h * h / (h * h + 2)) * (1 - Math.Exp(-delta2 / (2 * (h * h + 2))));
        using var x = Gaussian(2000, 2, 0, 11);
        using var y = Gaussian(2000, 2, mu, 12);
        double got = MaximumMeanDiscrepancy.Squared(x, y, [h]);
        Assert.InRange(got, expected - 0.015, expected + 0.015);
        Assert.True(got > 0.05);
    }

    [Fact]
    public void MmdAgreesWithADirectComputationAcrossChunks()
    {
        // 3000 × 3000 pairs exceed one 2.5 M-element block, so several chunks are summed.
        using var x = Gaussian(3000, 2, 0, 21);
        using var y = Gaussian(1000, 2, 0.3, 22);
        double[] hs = [0.4, 1.3];
        double got = MaximumMeanDiscrepancy.Squared(x, y, hs);
        double K(Tensor a, Tensor b, bool diag)
        {
            using var scope = NewDisposeScope();
            var d2 = cdist(a, b).square();
            var k = hs.Select(hh => d2.mul(-1 / (2 * hh * hh)).exp()).Aggregate((p, q) => p + q);
            double n = a.shape[0], m = b.shape[0];
            return diag ? (k.sum().item<double>() - n * hs.Length) / (n * (n - 1)) : k.sum().item<double>() / (n * m);
        }
        double direct = K(x, x, true) + K(y, y, true) - 2 * K(x, y, false);
        Assert.Equal(direct, got, 1e-6);
    }

    [Fact]
    public void DefaultBandwidthsAreTheMedianDistanceTimesHalfOneTwo()
    {
        using var pts = tensor(new double[] { 0, 0, 1, 0, 3, 0 }, [3, 2]);   // distances 1, 2, 3
        Assert.Equal(2.0, MaximumMeanDiscrepancy.MedianPairwiseDistance(pts), 1e-12);
        Assert.Equal([1.0, 2.0, 4.0], MaximumMeanDiscrepancy.DefaultBandwidths(pts));
    }

    // E|Z| for Z ~ N(m, s²) = s √(2/π) e^{−m²/(2s²)} + m (1 − 2Φ(−m/s)).
    static double MeanAbs(double m, double s) => s * Math.Sqrt(2 / Math.PI) * Math.Exp(-m * m / (2 * s * s)) + m * (1 - 2 * Phi(-m / s));
    static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));
    static double Erf(double x)   // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7
    {
        double t = 1 / (1 + 0.3275911 * Math.Abs(x));
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return Math.Sign(x) * y;
    }

    [Fact]
    public void EnergyDistanceMatchesTheOneDimensionalGaussianClosedForm()
    {
        foreach (double mu in new[] { 0.5, 1.5 })
        {
            double expected = 2 * MeanAbs(mu, Math.Sqrt(2)) - 2 * MeanAbs(0, Math.Sqrt(2));
            using var x = Gaussian(2000, 1, 0, 31);
            using var y = Gaussian(2000, 1, mu, 32);
            double got = EnergyDistance.Compute(x, y);
            Assert.InRange(got, expected - 0.03, expected + 0.03);
        }
    }

    [Fact]
    public void EnergyDistanceIsNearZeroForEqualDistributionsAndGrowsWithTheShift()
    {
        var values = new[] { 0.0, 0.25, 0.5, 1.0, 2.0 }.Select(mu =>
        {
            using var x = Gaussian(1000, 2, 0, 41);
            using var y = Gaussian(1000, 2, mu, 42);
            return EnergyDistance.Compute(x, y);
        }).ToArray();
        Assert.True(Math.Abs(values[0]) < 0.01, $"{values[0]}");
        for (int i = 1; i < values.Length; i++) Assert.True(values[i] > values[i - 1], string.Join(", ", values));
    }

    [Fact]
    public void BadShapesAreDataErrors()
    {
        using var good = zeros(10, 2);
        using var flat = zeros(10);
        using var three = zeros(10, 3);
        using var one = zeros(1, 2);
        Assert.Throws<DataException>(() => MaximumMeanDiscrepancy.Squared(flat, good, [1.0]));
        Assert.Throws<DataException>(() => MaximumMeanDiscrepancy.Squared(good, three, [1.0]));
        Assert.Throws<DataException>(() => MaximumMeanDiscrepancy.Squared(good, good, [0.0]));
        Assert.Throws<DataException>(() => EnergyDistance.Compute(good, one));
    }
}
