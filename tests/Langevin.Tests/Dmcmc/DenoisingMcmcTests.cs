using Langevin.Methods;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Langevin.Dmcmc;

namespace Langevin.Tests.Dmcmc;

/// <summary>Denoising MCMC (Kim &amp; Ye 2022) against exact answers: Gaussian mixtures with their exact denoiser and noise-level posterior.</summary>
public sealed class DenoisingMcmcTests(ITestOutputHelper output)
{
    static readonly GeometricSigmas Levels = new(80, 0.01, 60);

    [Fact]
    public void LangevinXAtAFixedSigmaHasTheUlaStationaryLawOfTheSmoothedGaussian()
    {
        // N(μ, s²I) smoothed by σ is N(μ, v I), v = s² + σ²; ULA x ← x + α∇log p + √(2α) z with α = η/2 keeps N(μ, v/(1 − α/2v)) exactly.
        const int n = 8_000, steps = 300;
        const double s = 0.5, eta = 0.1;
        using var truth = new GaussianMixtureScore([1.0], [[1.0, -2.0]], s);
        var dlg = new DenoisingLangevinGibbs(truth, new ExactNoiseLevelPosterior(truth, Levels), new DlgSettings(StepSize: eta));
        using var gen = new Generator(3);
        using var scope = NewDisposeScope();
        var sigma = cat([full([n / 2], 0.5, float64), full([n / 2], 1.5, float64)]);     // a σ per chain: two groups
        var x = zeros([n, 2], float64);
        for (int i = 0; i < steps; i++) x = dlg.LangevinX(x, sigma, gen);
        foreach (var (lo, sg) in new[] { (0, 0.5), (n / 2, 1.5) })
        {
            var g = x[lo..(lo + n / 2)];
            double v = s * s + sg * sg, alpha = eta / 2, expected = v / (1 - alpha / (2 * v));
            var mean = g.mean([0]);
            var variance = g.var([0]);
            double se = Math.Sqrt(expected / (n / 2));
            output.WriteLine($"σ = {sg}: mean {mean[0].item<double>():F4}, {mean[1].item<double>():F4}; var {variance[0].item<double>():F4}, {variance[1].item<double>():F4} vs {expected:F4}");
            Assert.InRange(mean[0].item<double>(), 1 - 4 * se, 1 + 4 * se);
            Assert.InRange(mean[1].item<double>(), -2 - 4 * se, -2 + 4 * se);
            for (int d = 0; d < 2; d++)
                Assert.InRange(variance[d].item<double>(), expected * (1 - 4 * Math.Sqrt(2.0 / (n / 2))), expected * (1 + 4 * Math.Sqrt(2.0 / (n / 2))));
        }
    }

    [Fact]
    public void LangevinXKeepsTheSmoothedMixtureItStartsIn()
    {
        // Start in p_σ exactly (mixture samples + σ noise); a small step must keep the weights and the moments.
        const int n = 8_000;
        const double sigma = 0.4, eta = 0.004;
        using var truth = new GaussianMixtureScore([0.7, 0.3], [[-2.0, 0.0], [2.0, 0.0]], 0.3);
        var dlg = new DenoisingLangevinGibbs(truth, new ExactNoiseLevelPosterior(truth, Levels), new DlgSettings(StepSize: eta));
        using var gen = new Generator(5);
        using var scope = NewDisposeScope();
        var x = truth.Sample(n, gen) + sigma * randn([n, 2], generator: gen, dtype: float64);
        var sigmas = full([n], sigma, float64);
        for (int i = 0; i < 200; i++) x = dlg.LangevinX(x, sigmas, gen);
        double right = x[.., 0].gt(0).to(float64).mean().item<double>();
        double v = 0.3 * 0.3 + sigma * sigma;
        output.WriteLine($"right-mode share {right:F4} (0.3); var y {x[.., 1].var().item<double>():F4} ({v:F4})");
        Assert.InRange(right, 0.3 - 4 * Math.Sqrt(0.21 / n), 0.3 + 4 * Math.Sqrt(0.21 / n));
        Assert.InRange(x[.., 1].var().item<double>(), v * (1 - 4 * Math.Sqrt(2.0 / n)) , v * (1 + 4 * Math.Sqrt(2.0 / n)) * (1 + eta));
    }

    [Fact]
    public void TheEstimatorLearnsTheClosedFormNoiseLevelPosteriorOfGaussianData()
    {
        // Data N(0, s²I): the cross-entropy's minimiser is p(σ_k | x) ∝ N(x; 0, (s² + σ_k²) I) (ExactNoiseLevelPosterior).
        const double s = 0.5;
        var levels = new GeometricSigmas(10, 0.05, 8);
        using var truth = new GaussianMixtureScore([1.0], [[0.0, 0.0]], s, ScalarType.Float32);
        var exact = new ExactNoiseLevelPosterior(truth, levels);
        torch.manual_seed(11);
        using var net = new NoiseLevelMlp(2, levels.Levels, width: 64, depth: 2);
        var learned = new NoiseLevelClassifier(net, levels);
        using var adam = torch.optim.Adam(net.parameters(), lr: 3e-3);
        using var gen = new Generator(13);
        for (int step = 0; step < 400; step++)
        {
            using var scope = NewDisposeScope();
            var batch = s * randn([512, 2], generator: gen);
            adam.zero_grad();
            NoiseLevelClassification.Loss(learned, batch, gen).backward();
            adam.step();
        }
        using (var _ = no_grad())
        using (var scope = NewDisposeScope())
        {
            using var test = new Generator(17);
            var x0 = s * randn([20_000, 2], generator: test);
            var k = randint(0, levels.Levels, [20_000], generator: test);
            var x = x0 + tensor(levels.ToArray(), float32).index_select(0, k).unsqueeze(1) * randn([20_000, 2], generator: test);
            double CrossEntropy(INoiseLevelEstimator e) => -nn.functional.log_softmax(e.LevelLogits(x).to(float64), 1).gather(1, k.unsqueeze(1)).mean().item<double>();
            double ceExact = CrossEntropy(exact), ceLearned = CrossEntropy(learned);
            double meanLogGap = (learned.PosteriorMeanLogSigma(x) - exact.PosteriorMeanLogSigma(x)).abs().mean().item<double>();
            output.WriteLine($"cross-entropy: exact {ceExact:F4}, learned {ceLearned:F4}, uniform {Math.Log(levels.Levels):F4}; mean |ΔE[log σ | x]| {meanLogGap:F4}");
            Assert.True(ceLearned > ceExact - 0.02, "nothing beats the exact posterior (beyond MC error)");
            Assert.True(ceLearned < ceExact + 0.03, $"learned {ceLearned:F4} vs exact {ceExact:F4}");
            Assert.True(meanLogGap < 0.1, $"E[log σ | x] off by {meanLogGap:F3} on average (levels are {Math.Log(levels.Ratio):F2} apart in log σ)");
        }
    }

    [Fact]
    public void PerItemHeunEqualsHeunRunItemByItem()
    {
        using var truth = new GaussianMixtureScore([0.6, 0.4], [[-1.0, 0.5], [1.5, -0.5]], 0.4);
        using var gen = new Generator(2);
        using var scope = NewDisposeScope();
        double[] starts = [3.0, 0.7, 12.0];
        var ladders = stack(starts.Select(st => tensor(SamplingSigmas.Karras(5, 0.002, st), float64)).ToArray());
        var x = randn([3, 2], generator: gen, dtype: float64) * tensor(starts, float64).unsqueeze(1);
        int nfe = 0;
        var together = DiffusionSamplers.HeunFrom(truth, x, ladders, (d, _) => nfe = d);
        Assert.Equal(9, nfe);
        for (int b = 0; b < 3; b++)
        {
            var alone = DiffusionSamplers.Heun(truth, x[b..(b + 1)], SamplingSigmas.Karras(5, 0.002, starts[b]));
            Assert.True((alone - together[b..(b + 1)]).abs().max().item<double>() < 1e-12);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DlgWithTheExactDenoiserAndPosteriorReproducesTheMixture(bool sampleSigma)
    {
        const int chains = 600, perChain = 3;
        double[] weights = [0.5, 0.3, 0.2];
        double[][] means = [[-2.0, 0.0], [2.0, 1.0], [0.0, -2.5]];
        using var truth = new GaussianMixtureScore(weights, means, 0.25, ScalarType.Float32);
        var settings = new DlgSettings(StepSize: 0.02, GibbsSteps: 5, HeunSteps: 8, BurnIn: 10, InitSteps: 18, SampleSigma: sampleSigma);
        var dlg = new DenoisingLangevinGibbs(truth, new ExactNoiseLevelPosterior(truth, new GeometricSigmas(80, 0.01, 30)), settings);
        using var gen = new Generator(21);
        using var scope = NewDisposeScope();
        var (x, cost) = dlg.Sample(chains, perChain, [2], gen);
        Assert.Equal([chains * perChain, 2L], x.shape);
        // cost: start-up Heun (2·18 − 1) + burn-in, then per sample 5 Gibbs steps and a Heun hand-off of 2·8 − 1
        Assert.Equal(35 + 10 + 5 * perChain, cost.ScoreEvaluations);
        Assert.Equal(1 + 10 + 5 * perChain, cost.EstimatorEvaluations);
        Assert.Equal(15 * perChain, cost.HeunEvaluations);
        Assert.Equal((35 + 10 + 5 * perChain + 15 * perChain) / (double)perChain, cost.DenoiserPerSample, 9);
        var nearest = (x.unsqueeze(1) - truth.Means.unsqueeze(0)).square().sum([2]).argmin(1);
        output.WriteLine($"σ at hand-off {cost.MeanStartSigma:F3}");
        for (int k = 0; k < 3; k++)
        {
            var inK = nearest.eq(k);
            double share = inK.to(float64).mean().item<double>();
            var mean = x[inK].mean([0]);
            var std = (x[inK] - mean).square().mean().sqrt().to(float64).item<double>();   // per-coordinate spread, pooled
            output.WriteLine($"component {k}: share {share:F3} ({weights[k]}), mean {mean[0].item<float>():F3}, {mean[1].item<float>():F3}, std {std:F3}");
            // samples of one chain are correlated: allow ~3 s.e. of the chain count (600) and a little sampler bias
            Assert.InRange(share, weights[k] - 0.06, weights[k] + 0.06);
            Assert.InRange(mean[0].item<float>(), means[k][0] - 0.05, means[k][0] + 0.05);
            Assert.InRange(mean[1].item<float>(), means[k][1] - 0.05, means[k][1] + 0.05);
            // The spread only with the paper's posterior mode: with σ drawn from p(σ | x), keeping the smallest of 5 draws
            // picks σ's below the state's real noise level, Heun leaves that noise in, and the components come out wider
            // (measured 0.32 for 0.25 here; docs/methods/dmcmc.md).
            if (!sampleSigma) Assert.InRange(std, 0.25 * 0.85, 0.25 * 1.15);
        }
    }

    [Fact]
    public void BadSettingsAreUsageErrors()
    {
        using var truth = new GaussianMixtureScore([1.0], [[0.0, 0.0]], 0.5);
        var exact = new ExactNoiseLevelPosterior(truth, Levels);
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(StepSize: 0)));
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(StepSize: -1)));
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(HeunSteps: 0)));
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(GibbsSteps: 0)));
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(SigmaMin: 0)));
        Assert.ThrowsAny<UsageException>(() => new DenoisingLangevinGibbs(truth, exact, new DlgSettings(SigmaMin: 0.05)));   // above the estimator's lowest level
    }

    [Fact]
    public void DmcmcMethodTrainsBothNetworksAndSamplesWithDlgAndEdm()
    {
        var config = new TrainConfig
        {
            Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 },
            Settings = new DmcmcConfig { Levels = 10, EstimatorWidth = 8, EstimatorDepth = 1, Edm = new EdmConfig { SigmaData = 0.5 } },
        };
        using var method = (DmcmcMethod)MethodRegistry.Create(config, [2]);
        var names = method.Network.named_parameters().Select(p => p.name).ToList();
        Assert.Contains(names, n => n.StartsWith("denoiser.", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("estimator.", StringComparison.Ordinal));
        using var gen = new Generator(1);
        using (var batch = randn([8, 2]))
        using (var loss = method.Loss(batch, gen)) Assert.True(double.IsFinite(loss.item<float>()));
        using var s = method.Sample(10, gen, sampler: new SamplerSettings("dlg", 2, new Dictionary<string, string> { ["chains"] = "4", ["gibbs-steps"] = "2" }));
        Assert.Equal([10L, 2L], s.shape);
        Assert.Equal(4, method.LastCost!.Chains);
        Assert.Equal(3, method.LastCost.SamplesPerChain);
        using var e = method.Sample(5, gen, sampler: new SamplerSettings("edm", 3));
        Assert.Equal([5L, 2L], e.shape);
        Assert.ThrowsAny<UsageException>(() => method.Sample(4, gen, sampler: new SamplerSettings("dlg", 0)));
        Assert.ThrowsAny<UsageException>(() => method.Sample(4, gen, sampler: new SamplerSettings("dlg", Options: new Dictionary<string, string> { ["eta"] = "1" })));
        Assert.ThrowsAny<UsageException>(() => method.Sample(4, gen, sampler: new SamplerSettings("ddim")));
    }
}
