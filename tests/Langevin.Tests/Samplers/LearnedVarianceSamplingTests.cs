using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>
/// DDPM ancestral sampling with improved DDPM's learned variance (Nichol &amp; Dhariwal 2021, Eq. 15) over respaced schedules:
/// v ≡ 1 and v ≡ 0 are the fixed β_t and β̃_t samplers, and a known v gives the closed-form Σ of the respaced β's.
/// </summary>
public class LearnedVarianceSamplingTests
{
    static readonly double[] Weights = [0.4, 0.6];
    static readonly double[][] Means = [[-1.0, 0.5], [1.0, -0.5]];

    /// <summary>The exact denoiser of a mixture with a given v per element (a function of x and σ) as its "learned" variance.</summary>
    sealed class KnownVarianceModel(GaussianMixtureScore mixture, Func<Tensor, Tensor, Tensor> v) : IVarianceModel
    {
        public Tensor Score(Tensor x, Tensor sigma) => mixture.Score(x, sigma);
        public (Tensor Denoised, Tensor V) DenoiseWithVariance(Tensor x, Tensor sigma) => (mixture.Denoise(x, sigma), v(x, sigma));
    }

    [Theory]
    [InlineData("leading", 50)]
    [InlineData("trailing", 25)]      // its last timestep is above 0, so the last step is noised too
    [InlineData("linspace", 200)]
    public void VOfOneIsFixedLargeAndVOfZeroIsFixedSmallOnRespacedSchedules(string spacing, int steps)
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, 0.3);
        using var scope = NewDisposeScope();
        var process = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule());
        var noise = randn([64, 2], dtype: float64, generator: new Generator(3));
        foreach (var (v, fixedName) in new[] { (1.0, "fixed-large"), (0.0, "fixed-small") })
        {
            var learned = new KnownVarianceModel(mixture, (x, _) => full_like(x, v));
            var r = new SamplerRequest { Sampler = "ddpm", Steps = steps, Spacing = spacing };
            using var g1 = new Generator(7);
            using var g2 = new Generator(7);
            var a = SamplerCatalog.Run(learned, noise, r with { Variance = "learned" }, process, g1).Output;
            var b = SamplerCatalog.Run(mixture, noise, r with { Variance = fixedName }, process, g2).Output;
            double diff = (a - b).abs().max().item<double>();
            Assert.True(diff < 1e-9, $"{spacing} {steps}: v ≡ {v} differs from {fixedName} by {diff}");
            Assert.True(a.std().item<double>() > 0.3);   // real samples, not a constant
        }
    }

    [Fact]
    public void AKnownVGivesTheClosedFormVarianceOfTheRespacedBetas()
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, 0.3);
        using var scope = NewDisposeScope();
        var schedule = new VpDiscreteSchedule();
        int t = 600, prev = 550;                                               // one strided step
        double sigma = schedule.Sigma(t), sigmaPrev = schedule.Sigma(prev);
        // improved-diffusion's respacing: β = 1 − ᾱ_t/ᾱ_prev, β̃ = β (1 − ᾱ_prev)/(1 − ᾱ_t), in the VP frame
        double abar = schedule.AlphasCumprod[t], abarPrev = schedule.AlphasCumprod[prev];
        double beta = 1 - abar / abarPrev, betaTilde = beta * (1 - abarPrev) / (1 - abar);
        var model = new KnownVarianceModel(mixture, (x, _) => (x.narrow(1, 0, 1).tanh() + 1) / 2 * ones_like(x)); // v ∈ (0, 1), per item
        var x = randn([500, 2], dtype: float64, generator: new Generator(1)) * sigma;
        using var g1 = new Generator(5);
        var stepped = DiffusionSamplers.Ddpm(model, x, [sigma, sigmaPrev, 0], g1, DdpmVariance.Learned);
        // rerun only the first step: the same generator state gives the same z
        using var g2 = new Generator(5);
        var first = DiffusionSamplers.Ddpm(model, x, [sigma, sigmaPrev], g2, DdpmVariance.Learned, noiseLastStep: true);
        using var g3 = new Generator(5);
        var z = randn(x.shape, generator: g3, dtype: float64);
        var x0 = mixture.Denoise(x, full([500], sigma, dtype: float64));
        var mean = x0 + sigmaPrev * sigmaPrev / (sigma * sigma) * (x - x0);
        var v = (x.narrow(1, 0, 1).tanh() + 1) / 2;
        var sigmaVp = (v * Math.Log(beta) + (1 - v) * Math.Log(betaTilde)).exp();   // Σ (Nichol & Dhariwal 2021, Eq. 15)
        var expected = mean + (sigmaVp / abarPrev).sqrt() * z;                        // in the σ-frame: Σ/ᾱ_prev
        double err = (first - expected).abs().max().item<double>();
        Assert.True(err < 1e-9, $"max error {err}");
        Assert.False(stepped.isnan().any().item<bool>());
        // and the variance really lies strictly between the two fixed ones
        var (small, large) = DiffusionSamplers.DdpmVariances(sigma, sigmaPrev);
        Assert.Equal(betaTilde / abarPrev, small, 1e-12);
        Assert.Equal(beta / abarPrev, large, 1e-12);
    }

    [Fact]
    public void LearnedVarianceOnAModelWithoutOneIsAOneLineUsageError()
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, 0.3);
        using var scope = NewDisposeScope();
        var process = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule());
        var e = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Run(mixture, randn([4, 2], dtype: float64),
            new SamplerRequest { Sampler = "ddpm", Steps = 5, Variance = "learned" }, process, null));
        Assert.Equal($"variance learned needs a model with a learned variance ({LearnedVarianceModel.HowToTrain})", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        var bad = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(new SamplerRequest { Sampler = "ddpm", Variance = "learnt" }, process));
        Assert.Contains("fixed-small, fixed-large or learned", bad.Message);
        Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(new SamplerRequest { Sampler = "ddim", Variance = "learned" }, process));
    }

    /// <summary>A network that returns a fixed [F, v_raw] output whatever its input.</summary>
    sealed class FixedOutputNetwork(Tensor output) : nn.Module<Tensor, Tensor, Tensor>("fixed")
    {
        public override Tensor forward(Tensor x, Tensor t) => output.alias();
    }

    [Fact]
    public void TheAdapterSplitsTheNetworkOutputIntoTheDenoiserAndV()
    {
        using var scope = NewDisposeScope();
        var schedule = new VpDiscreteSchedule();
        var f = randn([3, 1, 4, 4], dtype: float64, generator: new Generator(2));
        var vRaw = rand([3, 1, 4, 4], dtype: float64, generator: new Generator(4)) * 2 - 1;
        var pre = ScaledFramePreconditioning.VpDiscrete(schedule, Prediction.Epsilon);
        var learned = new LearnedVarianceModel(new PreconditionedDenoiser(new FixedOutputNetwork(cat([f, vRaw], 1)), pre));
        var x = randn([3, 1, 4, 4], dtype: float64);
        var sigma = full([3], 2.0, dtype: float64);
        var (d, v) = learned.DenoiseWithVariance(x, sigma);
        Assert.True((d - (x - 2.0 * f)).abs().max().item<double>() < 1e-12);         // ε-prediction: D = x − σ ε
        Assert.True((v - (vRaw + 1) / 2).abs().max().item<double>() < 1e-15);
        Assert.True((learned.Denoise(x, sigma) - d).abs().max().item<double>() < 1e-12);
        var plain = new LearnedVarianceModel(new PreconditionedDenoiser(new FixedOutputNetwork(f), pre));
        Assert.Contains("--loss hybrid", Assert.ThrowsAny<UsageException>(() => plain.DenoiseWithVariance(x, sigma)).Message);
    }
}
