using Langevin.Mcmc;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Mcmc;

public class McmcKernelTests(ITestOutputHelper output)
{
    const double Rho = 0.9;
    static CorrelatedGaussian Gauss() => new([1.0, -0.5], new[,] { { 1.0, Rho }, { Rho, 1.0 } });

    /// <summary>Runs burn-in then averages the first two moments over every chain and every kept step.</summary>
    internal static (double[] Mean, double[,] Cov, Tensor Last) Moments(IMcmcKernel k, Tensor x0, int burn, int keep, Generator gen)
    {
        var x = x0.alias();
        for (int i = 0; i < burn; i++) { var n = k.Step(x, gen); x.Dispose(); x = n; }
        long d = x.shape[1];
        var s1 = zeros(d, float64);
        var s2 = zeros(d, d, float64);
        for (int i = 0; i < keep; i++)
        {
            using var scope = NewDisposeScope();
            var n = k.Step(x, gen);
            x.Dispose(); x = n.MoveToOuterDisposeScope();
            s1.add_(x.sum([0]));
            s2.add_(x.T.matmul(x));
        }
        double count = keep * x.shape[0];
        var mean = (s1 / count).data<double>().ToArray();
        var m2 = (s2 / count).data<double>().ToArray();
        var cov = new double[d, d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) cov[i, j] = m2[i * d + j] - mean[i] * mean[j];
        return (mean, cov, x);
    }

    void AssertGaussianMoments(string name, IMcmcKernel k, double tol, double covTol, int burn = 300, ulong seed = 7)
    {
        var gen = new Generator(seed);
        using var x0 = randn([2000, 2], float64, generator: gen); // deliberately not the target: the kernel has to get there
        var (mean, cov, last) = Moments(k, x0, burn, keep: 200, gen);
        last.Dispose();
        output.WriteLine($"{name}: mean ({mean[0]:F4}, {mean[1]:F4}) cov [[{cov[0, 0]:F4}, {cov[0, 1]:F4}], [{cov[1, 0]:F4}, {cov[1, 1]:F4}]]"
            + (k is McmcKernel mk ? $" accept {mk.AcceptanceRate:F3}" : ""));
        Assert.InRange(mean[0], 1.0 - tol, 1.0 + tol);
        Assert.InRange(mean[1], -0.5 - tol, -0.5 + tol);
        Assert.InRange(cov[0, 0], 1.0 - covTol, 1.0 + covTol);
        Assert.InRange(cov[1, 1], 1.0 - covTol, 1.0 + covTol);
        Assert.InRange(cov[0, 1], Rho - covTol, Rho + covTol);
    }

    [Fact]
    public void UlaMatchesCorrelatedGaussianUpToItsSmallBias() =>
        AssertGaussianMoments("ULA α=0.02", new UnadjustedLangevin(Gauss(), 0.02), tol: 0.06, covTol: 0.04, burn: 600); // O(α) bias ≈ 0.01 here

    [Fact]
    public void MalaMatchesCorrelatedGaussian()
    {
        var k = new Mala(Gauss(), 0.05);
        AssertGaussianMoments("MALA α=0.05", k, tol: 0.06, covTol: 0.03, seed: 99);
        Assert.InRange(k.AcceptanceRate, 0.5, 1.0);
    }

    [Fact]
    public void HmcMatchesCorrelatedGaussian()
    {
        var k = new Hmc(Gauss(), 0.25, 6);
        AssertGaussianMoments("HMC ε=0.25 L=6", k, tol: 0.06, covTol: 0.03);
        Assert.InRange(k.AcceptanceRate, 0.6, 1.0);
    }

    [Fact]
    public void UlaBiasShrinksWithTheStepSizeAsTheoryPredicts()
    {
        // For a Gaussian with precision eigenvalue λ, ULA's stationary variance along that eigenvector is 1/(λ(1 − αλ/2)).
        const double lambda = 1 / (1 - Rho); // the stiff direction (1, −1)/√2, variance 1 − ρ = 0.1
        var target = Gauss();
        var errors = new List<double>();
        foreach (double alpha in new[] { 0.1, 0.025 })
        {
            var gen = new Generator(11);
            using var x0 = target.Sample(2000, gen);
            var (_, cov, last) = Moments(new UnadjustedLangevin(target, alpha), x0, burn: 100, keep: 100, gen);
            last.Dispose();
            double stiffVar = 0.5 * (cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]);
            double predicted = 1 / (lambda * (1 - alpha * lambda / 2));
            output.WriteLine($"ULA α={alpha}: stiff-direction variance {stiffVar:F4} (exact 0.1, ULA theory {predicted:F4})");
            Assert.InRange(stiffVar, predicted * 0.93, predicted * 1.07);
            errors.Add(Math.Abs(stiffVar - (1 - Rho)));
        }
        Assert.True(errors[1] < errors[0] / 3, $"bias should shrink with α: {errors[0]:F4} → {errors[1]:F4}");
    }

    static void AssertMixtureStationary(string name, McmcKernel k, GaussianMixtureTarget t, ITestOutputHelper output, ulong seed = 3)
    {
        var gen = new Generator(seed);
        var x = t.Sample(2000, gen);
        int crossings = 0;
        using var start = t.NearestComponent(x);
        double w0 = start.to_type(float64).mean().item<double>();
        for (int i = 0; i < 150; i++) { var n = k.Step(x, gen); x.Dispose(); x = n; }
        using var comp = t.NearestComponent(x);
        crossings = (int)(comp != start).sum().item<long>();
        double w1 = comp.to_type(float64).mean().item<double>();
        double[] mean = x.mean([0]).data<double>().ToArray();
        x.Dispose();
        output.WriteLine($"{name}: weight of component 1 {w1:F4} (exact 0.7, initial draw {w0:F4}), mean ({mean[0]:F3}, {mean[1]:F3}), chains that changed mode {crossings}, accept {k.AcceptanceRate:F3}");
        Assert.InRange(w1, 0.66, 0.74);
        Assert.InRange(mean[0], 0.7 * 1.5 - 0.3 * 1.5 - 0.15, 0.7 * 1.5 - 0.3 * 1.5 + 0.15); // sd of the mean ≈ 1.5/√2000 = 0.034
        Assert.True(crossings > 20, "modes should be reachable: some chains must change mode");
    }

    static GaussianMixtureTarget Mixture() => new([0.3, 0.7], [[-1.5, 0.0], [1.5, 0.0]], std: 0.6);

    [Theory]
    [InlineData(3ul)]
    [InlineData(4ul)]
    public void MalaKeepsMixtureWeightsStationary(ulong seed) =>
        AssertMixtureStationary("MALA mixture", new Mala(Mixture(), 0.1), Mixture(), output, seed);

    [Fact]
    public void HmcKeepsMixtureWeightsStationary() =>
        AssertMixtureStationary("HMC mixture", new Hmc(Mixture(), 0.25, 8), Mixture(), output);

    [Fact]
    public void HmcOnTheBananaMatchesExactMoments()
    {
        var t = new BananaTarget(a: 1.0, b: 1.0);
        var k = new Hmc(t, 0.2, 10);
        var gen = new Generator(5);
        using var x0 = randn([2000, 2], float64, generator: gen);
        var adapted = k.Warmup(x0, 150, gen);
        var (mean, cov, last) = Moments(k, adapted, burn: 0, keep: 150, gen);
        adapted.Dispose(); last.Dispose();
        output.WriteLine($"HMC banana: adapted ε {k.StepSize:F4}, accept {k.AcceptanceRate:F3}, divergences {k.Divergences}, E[x2] {mean[1]:F4} (0), Var[x1] {cov[0, 0]:F4} (1), E[x1] {mean[0]:F4}, Var[x2] {cov[1, 1]:F4} (3)");
        Assert.InRange(mean[1], -0.1, 0.1);
        Assert.InRange(cov[0, 0], 0.92, 1.08);
        Assert.InRange(cov[1, 1], 2.6, 3.4);
        Assert.InRange(k.AcceptanceRate, 0.5, 0.8);
    }

    [Fact]
    public void AnalyticScoresMatchAutograd()
    {
        var gen = new Generator(1);
        foreach (var t in new Target[] { Gauss(), new BananaTarget(1.3, 0.7), new NealsFunnel(5), Mixture() })
        {
            using var x = ((IExactSampler)t).Sample(16, gen);
            using var s = t.Score(x);
            using var g = Target.ScoreByAutograd(t, x);
            Assert.True(s.allclose(g, rtol: 1e-9, atol: 1e-9), t.GetType().Name);
        }
    }

    [Fact]
    public void ExactSamplersHaveTheStatedMoments()
    {
        var gen = new Generator(2);
        using var f = new NealsFunnel(4).Sample(100_000, gen);
        double varV = f[.., 0].var().item<double>();
        Assert.InRange(varV, 9 * 0.97, 9 * 1.03);
        using var b = new BananaTarget(2.0, 0.5).Sample(100_000, gen);
        Assert.InRange(b[.., 1].mean().item<double>(), -0.05, 0.05);
        Assert.InRange(b[.., 0].var().item<double>(), 4 * 0.97, 4 * 1.03);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void NonPositiveStepSizeIsAUsageError(double step)
    {
        Assert.ThrowsAny<UsageException>(() => new UnadjustedLangevin(Gauss(), step));
        Assert.ThrowsAny<UsageException>(() => new Mala(Gauss(), step));
        Assert.ThrowsAny<UsageException>(() => new Hmc(Gauss(), step, 5));
    }

    [Fact]
    public void ZeroLeapfrogStepsIsAUsageError()
    {
        var e = Assert.ThrowsAny<UsageException>(() => new Hmc(Gauss(), 0.1, 0));
    }

    sealed class NaNAfterOriginTarget : Target
    {
        public override int Dim => 1;
        public override Tensor LogDensity(Tensor x) => (-0.5 * x.square().sum(1)).sqrt().neg(); // NaN-free only at 0
        public override Tensor Score(Tensor x) => full_like(x, double.NaN);
    }

    [Fact]
    public void NaNScoreIsADataErrorNamingTheStep()
    {
        var k = new UnadjustedLangevin(new NaNAfterOriginTarget(), 0.1);
        using var x = zeros(4, 1, float64);
        var e = Assert.Throws<DataException>(() => k.Step(x, new Generator(0)));
        Assert.Equal("target returned NaN gradients at step 1", e.Message);
    }
}
