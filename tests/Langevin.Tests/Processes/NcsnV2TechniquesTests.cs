using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Processes;

public class NcsnV2TechniquesTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-3.0, 0.0013498980316301)]
    [InlineData(2.5, 0.9937903346742238)]
    public void NormalCdfMatchesTables(double x, double expected) =>
        Assert.Equal(expected, NcsnV2Techniques.NormalCdf(x), 6);

    [Theory]
    [InlineData(2)]
    [InlineData(784)]
    [InlineData(3072)]
    public void RatioSolvesTechniqueTwo(long d)
    {
        double g = NcsnV2Techniques.Ratio(d);
        double s = Math.Sqrt(2.0 * d);
        double value = NcsnV2Techniques.NormalCdf(s * (g - 1) + 3 * g) - NcsnV2Techniques.NormalCdf(s * (g - 1) - 3 * g);
        Assert.InRange(value, 0.5 - 1e-6, 0.5 + 1e-6);
        Assert.InRange(g, 0.0, 1.0);
    }

    [Fact]
    public void Cifar10LevelCountIsNearThePapers232()
    {
        // NCSNv2 used σ₁ = 50, σ_L = 0.01 and L = 232 for CIFAR-10 (D = 3072), from Technique 2.
        int levels = NcsnV2Techniques.Levels(50, 0.01, 3 * 32 * 32);
        Assert.InRange(levels, 200, 260);
    }

    [Fact]
    public void StepSizeBringsTheVarianceRatioClosestToOne()
    {
        var sigmas = new GeometricSigmas(50, 0.01, 232);
        const int T = 5;
        double Ratio(double eps)
        {
            double sl2 = 1e-4, gamma = 1 / sigmas.Ratio, a = 1 - eps / sl2, b = 2 * eps / (sl2 - sl2 * a * a);
            return Math.Pow(a, 2 * T) * (gamma * gamma - b) + b;
        }
        double best = NcsnV2Techniques.StepSize(sigmas, T);
        // Nothing nearby comes closer to 1 (the ratio is Eq. 4's s_T²/σ_i²).
        foreach (double f in new[] { 0.5, 0.9, 0.99, 1.01, 1.1, 2.0 })
            Assert.True(Math.Abs(Ratio(best) - 1) <= Math.Abs(Ratio(best * f) - 1) + 1e-12, $"ε·{f} is closer to 1");
        // The paper's CIFAR-10 setting (σ₁ = 50, σ_L = 0.01, L = 232, T = 5) uses ε = 6.2e-6.
        Assert.InRange(best, 5.5e-6, 7e-6);
    }

    [Fact]
    public void SigmaMaxIsTheLargestPairwiseDistance()
    {
        using var x = tensor(new float[] { 0, 0, 3, 4, 1, 1, -3, -4 }, [4, 2]);
        using var gen = new Generator(0);
        Assert.Equal(10.0, NcsnV2Techniques.SigmaMax(x, gen), 5);
    }

    [Fact]
    public void GeometricSigmasEndpointsAndRatio()
    {
        var s = new GeometricSigmas(10, 0.01, 4);
        Assert.Equal(10, s[0], 12);
        Assert.Equal(0.01, s[3], 12);
        Assert.Equal(s[1] / s[0], s.Ratio, 12);
        Assert.ThrowsAny<UsageException>(() => new GeometricSigmas(0.01, 0.1, 4).Validate());
    }
}
