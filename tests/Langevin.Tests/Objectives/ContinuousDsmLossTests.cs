using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Tests.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Objectives;

public class ContinuousDsmLossTests(ITestOutputHelper output)
{
    const double S = 0.4;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MarginalMomentsSolveTheSdesMomentEquations(bool subVp)
    {
        // For dx = −½β x dt + g dw: dm/dt = −½β m and d(std²)/dt = −β std² + g² (Song et al. 2021, Eq. 5.50 of Särkkä & Solin).
        var sde = new VpSde(subVp: subVp);
        const double h = 1e-6;
        foreach (double t in new[] { 0.01, 0.3, 0.8 })
        {
            var tt = tensor(new[] { t - h, t, t + h }, float64);
            var m = sde.MeanCoefficient(tt).data<double>().ToArray();
            var v = sde.Std(tt).square().data<double>().ToArray();
            double beta = sde.Beta(tt)[1].item<double>(), g2 = sde.Diffusion(tt)[1].square().item<double>();
            Assert.Equal(-0.5 * beta * m[1], (m[2] - m[0]) / (2 * h), 6);
            Assert.Equal(-beta * v[1] + g2, (v[2] - v[0]) / (2 * h), 5);
        }
        var ts = tensor(new[] { 1e-5, 0.01, 0.5, 1.0 }, float64);
        Assert.True((sde.SigmaToT(sde.Sigma(ts)) - ts).abs().max().item<double>() < 1e-8);
        Assert.True((sde.InputScale(sde.Sigma(ts)) - sde.MeanCoefficient(ts)).abs().max().item<double>() < 1e-12);
    }

    static PreconditionedDenoiser ExactModel(GaussianMixtureScore truth, VpSde sde) =>
        new(ExactNetworks.Scaled(truth, label => sde.Sigma(label / 999), sde.InputScale, Prediction.Epsilon),
            new ScaledFramePreconditioning(Prediction.Epsilon, sde.InputScale, sigma => sde.SigmaToT(sigma) * 999)); // score_sde: labels 999·t

    /// <summary>∫ f over [ε, 1] on a log-spaced trapezoid grid (the likelihood weight g²/std² ~ 1/t near 0).</summary>
    static double Integral(Func<double, double> f, double eps = 1e-5, int n = 40_000)
    {
        double total = 0, a = Math.Log(eps);
        for (int i = 0; i <= n; i++)
        {
            double u = a - a * i / n, t = Math.Exp(u);
            total += (i == 0 || i == n ? 0.5 : 1) * f(t) * t * (-a / n);
        }
        return total;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void AtTheExactModelTheLossIsItsIrreducibleMinimum(bool subVp, bool likelihood)
    {
        using var scope = NewDisposeScope();
        using var truth = new GaussianMixtureScore([1.0], [[0.5, -0.2]], S);
        using var gen = new Generator(11);
        var sde = new VpSde(subVp: subVp);
        var loss = new ContinuousDsmLoss(sde, likelihoodWeighting: likelihood, importanceSampling: likelihood);
        var losses = loss.Losses(ExactModel(truth, sde), truth.Sample(80_000, gen), gen);
        // ‖std·s + z‖² = ‖σ s_σ + z‖² has conditional minimum Var(z|x) = s²/(s²+σ²); likelihood weighting multiplies by g²/std².
        double Sigma(double t) => sde.Sigma(tensor(t)).item<double>();
        double Weight(double t) => likelihood ? sde.Diffusion(tensor(t)).square().item<double>() / sde.Std(tensor(t)).square().item<double>() : 1;
        double expected = Integral(t => Weight(t) * S * S / (S * S + Sigma(t) * Sigma(t)), n: 4000) / (1 - 1e-5);
        double mean = losses.mean().item<double>(), se = losses.std().item<double>() / Math.Sqrt(80_000);
        output.WriteLine($"subVP {subVp}, likelihood {likelihood}: loss {mean:F4} ± {se:F4}, minimum {expected:F4}");
        Assert.True(Math.Abs(mean - expected) < 4 * se + 1e-3 * expected, $"loss {mean} vs minimum {expected} (SE {se})");
        Assert.True(4 * se < 0.05 * expected, "Monte-Carlo error too large to test");
    }

    [Fact]
    public void ImportanceSampledTimesFollowTheLikelihoodWeight()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(12);
        var sde = new VpSde();
        var loss = new ContinuousDsmLoss(sde, true, true);
        var t = loss.SampleTimes(100_000, gen, float64, CPU);
        Assert.True(t.min().item<double>() >= 1e-5 && t.max().item<double>() <= 1);
        // P(t ≤ 0.1) = ∫_ε^0.1 g²/std² / ∫_ε^1 g²/std².
        double W(double x) => sde.Diffusion(tensor(x)).square().item<double>() / sde.Std(tensor(x)).square().item<double>();
        double p = Integral(W, n: 4000) is var all ? IntegralTo(W, 0.1) / all : 0;
        double observed = t.le(0.1).to(float64).mean().item<double>();
        Assert.True(Math.Abs(observed - p) < 4 * Math.Sqrt(p * (1 - p) / 100_000), $"P(t ≤ 0.1): {observed} vs {p}");
        Assert.Equal(Integral(W, n: 4000) / (1 - 1e-5), loss.ImportanceWeight, 3);
        Assert.ThrowsAny<UsageException>(() => new ContinuousDsmLoss(new VpSde(subVp: true), true, true));
    }

    static double IntegralTo(Func<double, double> f, double upper, double eps = 1e-5, int n = 4000)
    {
        double total = 0, a = Math.Log(eps), b = Math.Log(upper);
        for (int i = 0; i <= n; i++)
        {
            double u = a + (b - a) * i / n, t = Math.Exp(u);
            total += (i == 0 || i == n ? 0.5 : 1) * f(t) * t * ((b - a) / n);
        }
        return total;
    }
}
