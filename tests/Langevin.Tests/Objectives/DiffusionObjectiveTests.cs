using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Tests.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Objectives;

/// <summary>
/// The losses at the exact model of Gaussian data N(μ, s²I) equal their irreducible minimum: the posterior variance of
/// the target. With x = x₀ + σε, Var(x₀|x) = s²σ²/(s²+σ²) per dimension, and F* = (x₀ − c_skip x)/c_out.
/// </summary>
public class DiffusionObjectiveTests(ITestOutputHelper output)
{
    const double S = 0.4;
    const int Batch = 80_000;
    static readonly VpDiscreteSchedule Linear = new();

    static GaussianMixtureScore Gaussian() => new([1.0], [[0.7, -0.3]], S);

    /// <summary>Checks mean(losses) = expected within 4 standard errors, and that the test could tell a 5% error apart.</summary>
    void AssertMean(Tensor losses, double expected, string what)
    {
        double mean = losses.mean().item<double>(), se = losses.std().item<double>() / Math.Sqrt(losses.shape[0]);
        output.WriteLine($"{what}: loss {mean:F5} ± {se:F5}, irreducible minimum {expected:F5}");
        Assert.True(Math.Abs(mean - expected) < 4 * se, $"{what}: loss {mean:F5} is not the minimum {expected:F5} (SE {se:F5})");
        Assert.True(4 * se < 0.05 * expected, $"{what}: the Monte-Carlo error {se:F5} is too large to test");
    }

    [Theory]
    [InlineData(Prediction.Epsilon)]
    [InlineData(Prediction.X0)]
    [InlineData(Prediction.V)]
    public void DdpmSimpleLossAtTheExactModelIsThePosteriorVarianceOfItsTarget(Prediction prediction)
    {
        using var scope = NewDisposeScope();
        using var truth = Gaussian();
        using var gen = new Generator(1);
        var model = new PreconditionedDenoiser(ExactNetworks.VpDiscrete(truth, Linear, prediction),
            ScaledFramePreconditioning.VpDiscrete(Linear, prediction));
        var losses = new DdpmSimpleLoss(Linear).Losses(model, truth.Sample(Batch, gen), gen);
        Assert.Equal([Batch], losses.shape);
        // Var(F*|x) per dimension averaged over t ~ U{0..T−1}: ε: s²/(s²+σ²); x₀: s²σ²/(s²+σ²); v: (1+σ²)s²/(s²+σ²).
        double expected = Linear.Sigmas().Average(sigma => prediction switch
        {
            Prediction.Epsilon => S * S / (S * S + sigma * sigma),
            Prediction.X0 => S * S * sigma * sigma / (S * S + sigma * sigma),
            _ => (1 + sigma * sigma) * S * S / (S * S + sigma * sigma),
        });
        AssertMean(losses, expected, $"L_simple ({prediction})");
    }

    [Fact]
    public void EdmLossAtTheExactModelIsItsWeightedPosteriorVariance()
    {
        using var scope = NewDisposeScope();
        using var truth = Gaussian();
        using var gen = new Generator(2);
        const double sd = 0.5;
        var model = new PreconditionedDenoiser(ExactNetworks.Edm(truth, sd), new EdmPreconditioning(sd));
        var loss = new EdmLoss(sd);
        var losses = loss.Losses(model, truth.Sample(Batch, gen), gen);
        // E_σ[λ(σ) s²σ²/(s²+σ²)] with λ = (σ²+σ_d²)/(σσ_d)², ln σ ~ N(−1.2, 1.2²): trapezoid over z ∈ [−8, 8].
        double expected = 0;
        const int n = 16_000;
        for (int i = 0; i <= n; i++)
        {
            double z = -8 + 16.0 * i / n, sigma = Math.Exp(-1.2 + 1.2 * z);
            double f = (sigma * sigma + sd * sd) / Math.Pow(sigma * sd, 2) * S * S * sigma * sigma / (S * S + sigma * sigma);
            expected += (i == 0 || i == n ? 0.5 : 1) * f * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI) * (16.0 / n);
        }
        AssertMean(losses, expected, "EDM");
    }

    [Fact]
    public void EdmSigmasAreLogNormal()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(4);
        var logSigma = new EdmLoss(0.5).SampleSigmas(50_000, gen, float64, CPU).log();
        Assert.InRange(logSigma.mean().item<double>(), -1.2 - 0.02, -1.2 + 0.02);   // SE 1.2/√50000 = 0.0054
        Assert.InRange(logSigma.std().item<double>(), 1.2 - 0.015, 1.2 + 0.015);
    }

    [Fact]
    public void LossesOfARealNetworkAreFiniteAndFallWithTraining()
    {
        using var scope = NewDisposeScope();
        manual_seed(0);
        using var gen = new Generator(9);
        var net = new ScoreMlp(new ScoreMlpConfig(2, 32, 2));
        var model = new PreconditionedDenoiser(net, ScaledFramePreconditioning.VpDiscrete(Linear, Prediction.Epsilon));
        var objective = new DdpmSimpleLoss(Linear);
        using var truth = Gaussian();
        var data = truth.Sample(512, gen).to(float32);
        var optimizer = optim.Adam(net.parameters(), 3e-3);
        double first = 0, last = 0;
        for (int i = 0; i < 150; i++)
        {
            using var step = NewDisposeScope();
            var loss = objective.Loss(model, data, gen);
            Assert.True(double.IsFinite(loss.item<float>()));
            if (i < 10) first += loss.item<float>() / 10;
            if (i >= 140) last += loss.item<float>() / 10;
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        output.WriteLine($"ε-MSE {first:F3} → {last:F3}");
        Assert.True(last < 0.7 * first, $"the ε-MSE did not fall: {first:F3} → {last:F3}");
    }
}
