using Langevin.Methods;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Langevin.Dmcmc;

namespace Langevin.Tests.Dmcmc;

/// <summary>The image noise-level estimator (<see cref="NoiseLevelCnn"/>) against the closed-form posterior of Gaussian images.</summary>
public sealed class NoiseLevelCnnTests(ITestOutputHelper output)
{
    [Fact]
    public void GivesFiniteLogitsAndGradientsFromCleanImagesToSigmaMax()
    {
        torch.manual_seed(1);
        using var net = new NoiseLevelCnn([1, 28, 28], 100);
        using var gen = new Generator(2);
        using var scope = NewDisposeScope();
        var x0 = rand([4, 1, 28, 28], generator: gen) * 2 - 1;
        var sigma = tensor(new[] { 0.0, 0.01, 1.0, 80.0 }, float32).reshape(4, 1, 1, 1);
        var logits = net.call(x0 + sigma * randn([4, 1, 28, 28], generator: gen));
        Assert.Equal([4L, 100L], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        nn.functional.cross_entropy(logits, tensor(new long[] { 99, 99, 50, 0 })).backward();
        foreach (var (name, p) in net.named_parameters())
        {
            Assert.True(p.grad is not null && p.grad.isfinite().all().item<bool>(), name);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} gets no gradient");
        }
    }

    [Fact]
    public void LearnsTheClosedFormNoiseLevelPosteriorOfGaussianImages()
    {
        // Pixels i.i.d. N(0, s²) on 8×8 images: p(σ_k | x) ∝ N(x; 0, (s² + σ_k²) I₆₄), the exact posterior of a one-component
        // mixture in 64 dimensions (ExactNoiseLevelPosterior), which the cross-entropy's minimiser equals.
        const double s = 0.5;
        const int side = 8, d = side * side;
        var levels = new GeometricSigmas(10, 0.05, 8);
        using var truth = new GaussianMixtureScore([1.0], [new double[d]], s, ScalarType.Float32);
        var exact = new ExactNoiseLevelPosterior(truth, levels);
        torch.manual_seed(11);
        using var net = new NoiseLevelCnn([1, side, side], levels.Levels, channels: 8, width: 64);
        var learned = new NoiseLevelClassifier(net, levels);
        using var adam = torch.optim.Adam(net.parameters(), lr: 3e-3);
        using var gen = new Generator(13);
        for (int step = 0; step < 300; step++)
        {
            using var scope = NewDisposeScope();
            var batch = s * randn([256, 1, side, side], generator: gen);
            adam.zero_grad();
            NoiseLevelClassification.Loss(learned, batch, gen).backward();
            adam.step();
        }
        using (var _ = no_grad())
        using (var scope = NewDisposeScope())
        {
            using var test = new Generator(17);
            const int n = 10_000;
            var k = randint(0, levels.Levels, [n], generator: test);
            var x = s * randn([n, 1, side, side], generator: test)
                + tensor(levels.ToArray(), float32).index_select(0, k).reshape(n, 1, 1, 1) * randn([n, 1, side, side], generator: test);
            var flat = x.reshape(n, d);
            double CrossEntropy(Tensor logits) => -nn.functional.log_softmax(logits.to(float64), 1).gather(1, k.unsqueeze(1)).mean().item<double>();
            double ceExact = CrossEntropy(exact.LevelLogits(flat)), ceLearned = CrossEntropy(learned.LevelLogits(x));
            double meanLogGap = (learned.PosteriorMeanLogSigma(x) - exact.PosteriorMeanLogSigma(flat)).abs().mean().item<double>();
            output.WriteLine($"cross-entropy: exact {ceExact:F4}, learned {ceLearned:F4}, uniform {Math.Log(levels.Levels):F4}; mean |ΔE[log σ | x]| {meanLogGap:F4}");
            Assert.True(ceLearned > ceExact - 0.02, "nothing beats the exact posterior (beyond MC error)");
            Assert.True(ceLearned < ceExact + 0.08, $"learned {ceLearned:F4} vs exact {ceExact:F4}");
            Assert.True(meanLogGap < 0.1, $"E[log σ | x] off by {meanLogGap:F3} on average (levels are {Math.Log(levels.Ratio):F2} apart in log σ)");
        }
    }

    [Fact]
    public void DmcmcOnImagesBuildsTheCnnEstimator()
    {
        var config = new TrainConfig
        {
            Network = new NetworkConfig { Kind = "unet", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1 },
            Settings = new DmcmcConfig { Levels = 10, EstimatorChannels = 4, EstimatorWidth = 8, Edm = new EdmConfig { SigmaData = 0.5 } },
        };
        using var method = (DmcmcMethod)MethodRegistry.Create(config, [1, 8, 8]);
        Assert.IsType<NoiseLevelCnn>(method.Estimator.Network);
        using var gen = new Generator(1);
        using (var batch = randn([4, 1, 8, 8]))
        using (var loss = method.Loss(batch, gen)) Assert.True(double.IsFinite(loss.item<float>()));
        using var samples = method.Sample(4, gen, sampler: new SamplerSettings("dlg", 2,
            new Dictionary<string, string> { ["chains"] = "2", ["gibbs-steps"] = "1", ["burn-in"] = "1", ["init-steps"] = "2" }));
        Assert.Equal([4L, 1L, 8L, 8L], samples.shape);
        Assert.True(samples.abs().max().item<float>() <= 1, "image samples are clamped to [−1, 1]");
        Assert.Equal(3 + 1 + 2 * (1 + 3), method.LastCost!.ScoreEvaluations + method.LastCost.HeunEvaluations);
    }
}
