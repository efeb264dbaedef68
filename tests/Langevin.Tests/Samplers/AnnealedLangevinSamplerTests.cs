using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

public class AnnealedLangevinSamplerTests
{
    static GaussianMixtureScore Mixture() =>
        new([0.3, 0.7], [[-2.0, 0.0], [2.0, 1.0]], std: 0.3);

    [Fact]
    public void MixtureScoreMatchesFiniteDifferencesOfTheLogDensity()
    {
        using var m = Mixture();
        using var x = tensor(new double[] { 0.3, -0.2, 1.5, 0.7 }, [2, 2]);
        const double sigma = 0.5, v = 0.3 * 0.3 + sigma * sigma, h = 1e-5;
        double LogP(double a, double b)
        {
            double p = 0.3 * Math.Exp(-((a + 2) * (a + 2) + b * b) / (2 * v)) + 0.7 * Math.Exp(-((a - 2) * (a - 2) + (b - 1) * (b - 1)) / (2 * v));
            return Math.Log(p);
        }
        var score = m.Score(x, tensor(sigma, float64)).data<double>().ToArray();
        var xs = x.data<double>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            double a = xs[2 * i], b = xs[2 * i + 1];
            Assert.Equal((LogP(a + h, b) - LogP(a - h, b)) / (2 * h), score[2 * i], 5);
            Assert.Equal((LogP(a, b + h) - LogP(a, b - h)) / (2 * h), score[2 * i + 1], 5);
        }
    }

    [Fact]
    public void AnnealedLangevinOnTheExactScoreReproducesTheMixture()
    {
        using var m = Mixture();
        var sigmas = new GeometricSigmas(6, 0.01, NcsnV2Techniques.Levels(6, 0.01, 2) * 3);
        var sampler = new AnnealedLangevinSampler(sigmas, 30, NcsnV2Techniques.StepSize(sigmas, 30));
        using var gen = new Generator(1);
        const int n = 4000;
        using var x = sampler.Sample(m, randn([n, 2], generator: gen, dtype: float64) * 6, gen);
        var left = x[.., 0] < 0;
        double leftShare = left.to(float64).mean().item<double>();
        Assert.InRange(leftShare, 0.3 - 0.035, 0.3 + 0.035);        // ±4.8 MC standard errors
        var l = x[left]; var r = x[~left];
        Assert.Equal(-2.0, l.reshape(-1, 2)[.., 0].mean().item<double>(), 1);
        Assert.Equal(1.0, r.reshape(-1, 2)[.., 1].mean().item<double>(), 1);
        double std = r.reshape(-1, 2)[.., 0].std().item<double>();
        Assert.InRange(std, 0.27, 0.33);
    }

    [Fact]
    public void InpaintingKeepsKnownEntriesAndSamplesTheConditional()
    {
        // Condition the mixture on x₁ = 1: the exact posterior puts 99.8% of its mass on the right component (x₀ ≈ 2).
        // NCSN's clamping of noised observations is an approximation of that posterior (it decides the component
        // while the observation is still drowned in noise), so we ask for a clear majority, not the exact share.
        using var m = Mixture();
        var sigmas = new GeometricSigmas(6, 0.01, 30);
        var sampler = new AnnealedLangevinSampler(sigmas, 30, NcsnV2Techniques.StepSize(sigmas, 30));
        using var gen = new Generator(2);
        const int n = 1000;
        using var observed = zeros([n, 2], float64); observed[.., 1] = 1.0;
        using var mask = zeros([n, 2], float64); mask[.., 1] = 1.0;
        using var x = sampler.Inpaint(m, observed, mask, randn([n, 2], generator: gen, dtype: float64) * 6, gen);
        Assert.True(x[.., 1].eq(1.0).all().item<bool>());
        var x0 = x[.., 0];
        Assert.True((x0.abs() - 2).abs().lt(1.2).all().item<bool>(), "every x₀ lies near a component");
        Assert.InRange(x0.gt(0).to(float64).mean().item<double>(), 0.6, 1.0);
    }

    [Fact]
    public void DenoisingScoreMatchingLossIsMinimisedByTheTrueScore()
    {
        // For x ~ N(0, s²) the optimal network output is F*(x̃, σ) = σ s*(x̃) = −σ x̃/(s² + σ²);
        // the loss at F* equals the closed form E½‖F* + z‖² = ½ D s²/(s² + σ²) averaged over levels.
        var sigmas = new GeometricSigmas(2, 0.1, 5);
        const double s = 0.5;
        var levels = sigmas.ToArray();
        double expected = levels.Average(sig => 0.5 * 2 * s * s / (s * s + sig * sig));
        var net = new OptimalGaussianNetwork(s);
        var model = new NoiseConditionalScoreModel(net);
        var loss = new DenoisingScoreMatching(sigmas);
        using var gen = new Generator(3);
        using var x0 = randn([200_000, 2], generator: gen, dtype: float64) * s;
        double value = loss.Loss(model, x0, gen).item<double>();
        Assert.Equal(expected, value, 2);
    }

    sealed class OptimalGaussianNetwork(double s) : nn.Module<Tensor, Tensor, Tensor>("optimal")
    {
        public override Tensor forward(Tensor x, Tensor t)
        {
            var sigma = (t / 100.0).exp().unsqueeze(1);
            return -sigma * x / (s * s + sigma * sigma);
        }
    }
}
