using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

/// <summary>
/// Each adapter wrapped around an EXACT network — one that computes the true ε, x₀, v, score or EDM's F of a Gaussian
/// mixture from their definitions — must give the mixture's exact denoiser and score: this checks each adapter's algebra.
/// </summary>
public class ParameterisationTests
{
    static readonly VpDiscreteSchedule Linear = new();
    static readonly VpDiscreteSchedule Cosine = new(1000, VpDiscreteSchedule.Cosine);

    static GaussianMixtureScore Mixture() => new([0.3, 0.7], [[1.0, -0.5], [-2.0, 1.5]], 0.4);

    sealed class Unused() : nn.Module<Tensor, Tensor, Tensor>("unused")
    {
        public override Tensor forward(Tensor x, Tensor t) => throw new InvalidOperationException("the target needs no network");
    }

    static Tensor VpScale(Tensor sigma) => ExactNetworks.VpScale(sigma);

    static (Tensor X, Tensor Sigma) Points(double sigmaMin, double sigmaMax, int n = 64)
    {
        using var gen = new Generator(3);
        var logSigma = rand([n], generator: gen, dtype: float64) * Math.Log(sigmaMax / sigmaMin) + Math.Log(sigmaMin);
        var sigma = logSigma.exp();
        var x = randn([n, 2], generator: gen, dtype: float64) * 2 + sigma.unsqueeze(1) * randn([n, 2], generator: gen, dtype: float64);
        return (x, sigma);
    }

    static void AssertMatchesTruth(PreconditionedDenoiser model, GaussianMixtureScore truth, Tensor x, Tensor sigma)
    {
        var d = model.Denoise(x, sigma);
        var exact = truth.Denoise(x, sigma);
        double err = ((d - exact).abs().max() / exact.abs().max()).item<double>();
        Assert.True(err < 1e-10, $"denoiser relative error {err:E2}");
        var s = model.Score(x, sigma);
        var exactScore = truth.Score(x, sigma);
        double serr = ((s - exactScore).abs() / (exactScore.abs() + 1e-3)).max().item<double>();
        Assert.True(serr < 1e-8, $"score relative error {serr:E2}");
    }

    [Theory]
    [InlineData(Prediction.Epsilon, "linear")]
    [InlineData(Prediction.X0, "linear")]
    [InlineData(Prediction.V, "linear")]
    [InlineData(Prediction.Score, "linear")]
    [InlineData(Prediction.Epsilon, "cosine")]
    [InlineData(Prediction.V, "cosine")]
    public void VpDiscreteAdaptersGiveTheExactDenoiser(Prediction prediction, string betas)
    {
        using var scope = NewDisposeScope();
        using var truth = Mixture();
        var schedule = betas == "linear" ? Linear : Cosine;
        var net = ExactNetworks.VpDiscrete(truth, schedule, prediction);
        var model = new PreconditionedDenoiser(net, ScaledFramePreconditioning.VpDiscrete(schedule, prediction));
        var (x, sigma) = Points(schedule.Sigma(0) * 1.01, schedule.Sigma(schedule.T - 1) * 0.99);
        AssertMatchesTruth(model, truth, x, sigma);
    }

    [Fact]
    public void EdmAdapterGivesTheExactDenoiser()
    {
        using var scope = NewDisposeScope();
        using var truth = Mixture();
        const double sd = 0.5;
        var net = ExactNetworks.Edm(truth, sd);
        var model = new PreconditionedDenoiser(net, new EdmPreconditioning(sd));
        var (x, sigma) = Points(0.002, 80);
        AssertMatchesTruth(model, truth, x, sigma);
    }

    [Theory]
    [InlineData(Prediction.Epsilon)]
    [InlineData(Prediction.X0)]
    [InlineData(Prediction.V)]
    [InlineData(Prediction.Score)]
    public void TrainingTargetsAreTheDefinitions(Prediction prediction)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(5);
        var x0 = randn([32, 2], generator: gen, dtype: float64);
        var n = randn([32, 2], generator: gen, dtype: float64);
        var sigma = rand([32], generator: gen, dtype: float64) * 20 + 0.01;
        var model = new PreconditionedDenoiser(new Unused(), ScaledFramePreconditioning.VpDiscrete(Linear, prediction));
        var alpha = VpScale(sigma).unsqueeze(1);
        var s = sigma.unsqueeze(1);
        var expected = prediction switch
        {
            Prediction.Epsilon => n,
            Prediction.X0 => x0,
            Prediction.V => alpha * n - s * alpha * x0,   // Salimans & Ho 2022, §4
            _ => -n / (s * alpha),                         // ∇ log N(x_vp; α x₀, σ_vp²) = −ε/σ_vp
        };
        double err = (model.Target(x0, n, sigma) - expected).abs().max().item<double>();
        Assert.True(err < 1e-12, $"{prediction} target error {err:E2}");
    }

    [Fact]
    public void VectorisedSigmaToTMatchesTheScalarOneAndTToSigmaInvertsIt()
    {
        using var scope = NewDisposeScope();
        var sigmas = tensor(new[] { 0.001, 0.01, 0.0123, 0.5, 1.0, 3.3, 80.0, 156.0, 500.0 }, float64);
        var t = Linear.SigmaToT(sigmas);
        for (int i = 0; i < sigmas.shape[0]; i++)
            Assert.Equal(Linear.SigmaToT(sigmas[i].item<double>()), t[i].item<double>(), 12);
        var integer = tensor(new[] { 0.0, 1, 17, 500, 998, 999 }, float64);
        var roundTrip = Linear.SigmaToT(Linear.TToSigma(integer));
        Assert.True((roundTrip - integer).abs().max().item<double>() < 1e-9);
        var inner = tensor(new[] { 0.02, 1.0, 100.0 }, float64);
        Assert.True(((Linear.TToSigma(Linear.SigmaToT(inner)) - inner).abs() / inner).max().item<double>() < 1e-12);
    }
}
