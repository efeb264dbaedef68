using Langevin.Mcmc;
using Xunit.Abstractions;

namespace Langevin.Tests.Mcmc;

public class DiagnosticsTests(ITestOutputHelper output)
{
    static double[] Normal(Random r, int n)
    {
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
        return x;
    }

    static double[] Ar1(Random r, int n, double phi)
    {
        var z = Normal(r, n);
        var x = new double[n];
        x[0] = z[0] / Math.Sqrt(1 - phi * phi);
        for (int i = 1; i < n; i++) x[i] = phi * x[i - 1] + z[i];
        return x;
    }

    [Fact]
    public void EssOfAnIidChainIsAboutN()
    {
        const int n = 20_000;
        double ess = EffectiveSampleSize.Compute(Normal(new Random(1), n));
        output.WriteLine($"iid n={n}: ESS {ess:F0} ({ess / n:F3} n)");
        Assert.InRange(ess, 0.8 * n, 1.2 * n);
    }

    [Fact]
    public void EssOfAnAr1ChainMatchesTheory()
    {
        const int n = 50_000;
        const double phi = 0.9;
        double expected = n * (1 - phi) / (1 + phi); // integrated autocorrelation time of AR(1) is (1+φ)/(1−φ)
        double ess = EffectiveSampleSize.Compute(Ar1(new Random(2), n, phi));
        output.WriteLine($"AR(1) φ={phi} n={n}: ESS {ess:F0}, theory {expected:F0} (ratio {ess / expected:F3})");
        Assert.InRange(ess, 0.8 * expected, 1.2 * expected);
    }

    [Fact]
    public void EssOfAConstantChainIsNaN() => Assert.True(double.IsNaN(EffectiveSampleSize.Compute([1, 1, 1, 1, 1])));

    [Fact]
    public void RHatIsAboutOneForChainsFromOneDistribution()
    {
        var r = new Random(3);
        var chains = Enumerable.Range(0, 4).Select(_ => Ar1(r, 2000, 0.5)).ToArray();
        double rhat = RHat.Compute(chains);
        output.WriteLine($"R̂ same distribution: {rhat:F4}");
        Assert.InRange(rhat, 0.99, 1.01);
    }

    [Fact]
    public void RHatFlagsChainsWithDifferentMeans()
    {
        var r = new Random(4);
        var chains = Enumerable.Range(0, 4).Select(j => Normal(r, 1000).Select(v => v + (j == 3 ? 1.0 : 0.0)).ToArray()).ToArray();
        double rhat = RHat.Compute(chains);
        output.WriteLine($"R̂ one chain shifted by 1 sd: {rhat:F4}");
        Assert.True(rhat > 1.1, $"R̂ = {rhat}");
    }

    [Fact]
    public void SplitRHatFlagsADriftingSingleChain()
    {
        var r = new Random(5);
        var chain = Normal(r, 2000).Select((v, i) => v + 2.0 * i / 2000).ToArray();
        double rhat = RHat.Compute([chain]);
        output.WriteLine($"split-R̂ of one drifting chain: {rhat:F4}");
        Assert.True(rhat > 1.1, $"R̂ = {rhat}");
    }
}
