using Langevin.Guidance;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Guidance;

/// <summary>
/// Guidance against the exact answers of a Gaussian mixture whose components are the classes: p(y | x_σ) and p_σ(x | y) are
/// closed form, so classifier guidance at s = 1 must give the class-conditional distribution, CFG at w = 0 the conditional
/// model, and larger scales must concentrate samples where the class is certain.
/// </summary>
public class GuidanceTests(ITestOutputHelper output)
{
    // three overlapping classes: their posteriors are soft, so guidance has something to sharpen
    static GaussianMixtureScore Mixture() => new([0.5, 0.3, 0.2], [[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]], 0.5);

    /// <summary>The exact conditional model as a class-conditional denoiser: component y's score, the mixture's for "no class" (3).</summary>
    sealed class ExactConditional(GaussianMixtureScore mixture, Tensor labels) : IScoreModel
    {
        public Tensor Score(Tensor x, Tensor sigma)
        {
            using var scope = NewDisposeScope();
            var none = labels.eq(3);
            var component = mixture.ComponentScore(x, sigma, labels.clamp(0, 2));
            var all = mixture.Score(x, sigma);
            return where(none.unsqueeze(1), all, component).MoveToOuterDisposeScope();
        }
    }

    static Tensor Labels(long k, long n) => full([n], k, ScalarType.Int64);

    static Tensor SampleGuided(IScoreModel model, long n, int steps, ulong seed, string sampler = "heun")
    {
        using var gen = new Generator(seed);
        var process = new SamplingProcess(SamplingProcess.Edm, SigmaMin: 0.002, SigmaMax: 80);   // σ_max ≫ the data's spread: the start's bias, ∝ μ/σ_max, stays < 0.01
        var request = new SamplerRequest { Sampler = sampler, Steps = steps };
        var z = randn([n, 2], ScalarType.Float64, generator: gen);
        return SamplerCatalog.Run(model, z, request, process, gen).Output;
    }

    [Fact]
    public void TheClassifierGradientPlusTheScoreIsTheClassConditionalScore()
    {
        using var mixture = Mixture();
        using var gen = new Generator(5);
        var x = randn([64, 2], ScalarType.Float64, generator: gen) * 2;
        foreach (double sigma in new[] { 0.01, 0.3, 1.0, 5.0 })
        {
            var s = tensor(sigma, ScalarType.Float64);
            for (long k = 0; k < 3; k++)
            {
                var labels = Labels(k, 64);
                var guided = new GuidedDenoiser(labels, new GuidanceScales(Classifier: 1), unconditional: mixture, classifier: new MixtureClassifier(mixture));
                var exact = mixture.ComponentScore(x, s, labels);        // ∇ log p_σ(x | y) = ∇ log p_σ(x) + ∇ log p(y | x, σ)
                double err = (guided.Score(x, s) - exact).abs().max().item<double>();
                Assert.True(err < 1e-9, $"σ {sigma}, class {k}: guided score differs from the conditional one by {err}");
                Assert.Equal(1, guided.NetworkEvaluations);
                Assert.Equal(1, guided.ClassifierEvaluations);
            }
        }
    }

    [Theory]
    [InlineData("heun", 40)]
    [InlineData("ddim", 100)]
    [InlineData("dpmpp-2m", 40)]
    [InlineData("euler-ancestral", 200)]
    public void ClassifierGuidanceAtScaleOneSamplesTheClassConditionalDistribution(string sampler, int steps)
    {
        using var mixture = Mixture();
        double[][] means = [[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]];
        for (long k = 0; k < 3; k++)
        {
            var guided = new GuidedDenoiser(Labels(k, 4000), new GuidanceScales(Classifier: 1), unconditional: mixture, classifier: new MixtureClassifier(mixture));
            var samples = SampleGuided(guided, 4000, steps, (ulong)(10 + k), sampler);
            var mean = samples.mean([0]);
            var std = samples.std(0);
            output.WriteLine($"{sampler} class {k}: mean ({mean[0].item<double>():F3}, {mean[1].item<double>():F3}) std ({std[0].item<double>():F3}, {std[1].item<double>():F3})");
            // 4000 samples: the mean's standard error is 0.5/√4000 ≈ 0.008
            Assert.True(Math.Abs(mean[0].item<double>() - means[k][0]) < 0.05 && Math.Abs(mean[1].item<double>() - means[k][1]) < 0.05, $"{sampler} class {k}: mean off");
            Assert.True(Math.Abs(std[0].item<double>() - 0.5) < 0.04 && Math.Abs(std[1].item<double>() - 0.5) < 0.04, $"{sampler} class {k}: spread off");
        }
    }

    [Fact]
    public void ClassifierFreeGuidanceAtWeightZeroIsTheConditionalModelAndCostsOneCall()
    {
        using var mixture = Mixture();
        using var gen = new Generator(8);
        var x = randn([32, 2], ScalarType.Float64, generator: gen);
        var s = tensor(0.7, ScalarType.Float64);
        var labels = Labels(1, 32);
        var cfg0 = new GuidedDenoiser(labels, new GuidanceScales(Cfg: 0), y => new ExactConditional(mixture, y), classes: 3);
        Assert.Equal(0.0, (cfg0.Score(x, s) - mixture.ComponentScore(x, s, labels)).abs().max().item<double>(), 12);
        Assert.Equal(1, cfg0.NetworkEvaluations);
        // w > 0: (1 + w) s(x|y) − w s(x) in one call on the doubled batch, counted as two evaluations
        var cfg2 = new GuidedDenoiser(labels, new GuidanceScales(Cfg: 2), y => new ExactConditional(mixture, y), classes: 3);
        var expected = 3 * mixture.ComponentScore(x, s, labels) - 2 * mixture.Score(x, s);
        Assert.True((cfg2.Score(x, s) - expected).abs().max().item<double>() < 1e-12);
        Assert.Equal(2, cfg2.NetworkEvaluations);
    }

    [Fact]
    public void LargerScalesConcentrateTheSamplesWhereTheClassIsCertain()
    {
        using var mixture = Mixture();
        double previous = 0;
        foreach (double scale in new[] { 1.0, 2.0, 4.0 })
        {
            var labels = Labels(1, 2000);
            var guided = new GuidedDenoiser(labels, new GuidanceScales(Classifier: scale), unconditional: mixture, classifier: new MixtureClassifier(mixture));
            var samples = SampleGuided(guided, 2000, 60, 21);
            // the exact p(y = 1 | x) of the clean mixture at each sample
            var posterior = mixture.ComponentLogPosterior(samples, tensor(0.0, ScalarType.Float64)).exp().select(1, 1);
            double certain = (posterior > 0.9).to(ScalarType.Float64).mean().item<double>();
            output.WriteLine($"s = {scale}: {certain:P1} of the samples have p(y = 1 | x) > 0.9");
            Assert.True(certain > previous + 0.02 || certain > 0.99, $"s = {scale}: {certain} is not above {previous}");
            if (scale == 1) Assert.True(certain < 0.9, $"s = 1 samples the conditional itself, not only its certain part ({certain:P1})");
            previous = certain;
        }
        Assert.True(previous > 0.95, $"at s = 4 only {previous:P1} of the samples are certain");
    }

    /// <summary>
    /// The 8gaussians ring with its component as the label, sampled by exact scores: classifier guidance at s = 1 and CFG at w = 0
    /// are the class-conditional distribution (≈ 98.9% of a 2-D Gaussian lies within 3σ of its mean), while s ≫ 1 and w ≫ 0
    /// push the samples past their mode, away from the other classes — the overshoot the trained 2-D sweep shows, a property of
    /// guidance itself (docs/methods/guidance.md).
    /// </summary>
    [Fact]
    public void OnTheRingStrongGuidanceOvershootsTheModeEvenWithExactScores()
    {
        var toy = Langevin.Data.Toy2D.TryGet("8gaussians")!;
        var modes = toy.Modes!.Select(m => new double[] { m.X, m.Y }).ToArray();
        double std = toy.ComponentStd!.Value, radius = Math.Sqrt(modes[0][0] * modes[0][0] + modes[0][1] * modes[0][1]);
        using var ring = new GaussianMixtureScore([.. Enumerable.Repeat(1.0, 8)], modes, std);
        var labels = tensor(Enumerable.Range(0, 2000).Select(i => (long)(i % 8)).ToArray());
        var centres = tensor(modes.SelectMany(m => m).ToArray(), [8, 2]).to(ScalarType.Float64).index_select(0, labels);
        (double Within, double Radius) Measure(IScoreModel model)
        {
            var x = SampleGuided(model, 2000, 60, 31);
            double within = ((x - centres).norm(1) <= 3 * std).to(ScalarType.Float64).mean().item<double>();
            return (within, x.norm(1).mean().item<double>());
        }
        IScoreModel Classifier(double s) => new GuidedDenoiser(labels, new GuidanceScales(Classifier: s), unconditional: ring, classifier: new MixtureClassifier(ring));
        IScoreModel Cfg(double w) => new GuidedDenoiser(labels, new GuidanceScales(Cfg: w), y => new ExactRing(ring, y), classes: 8);
        foreach (var (name, model, exact) in new[] { ("s = 1", Classifier(1), true), ("w = 0", Cfg(0), true), ("s = 8", Classifier(8), false), ("w = 4", Cfg(4), false) })
        {
            var (within, r) = Measure(model);
            output.WriteLine($"{name}: {within:P1} within 3σ of the own mode, mean radius {r:F3} (modes at {radius:F3}, σ {std})");
            if (exact) Assert.True(Math.Abs(within - 0.989) < 0.015 && Math.Abs(r - radius) < 0.02, $"{name}: {within:P1} within 3σ, radius {r:F3}: not the conditional");
            else Assert.True(r > radius + std && within < 0.8, $"{name}: radius {r:F3}, {within:P1} within 3σ: guidance should push past the mode");
        }
    }

    /// <summary>The ring's exact conditional model: component y's score, the mixture's for "no class" (8).</summary>
    sealed class ExactRing(GaussianMixtureScore ring, Tensor labels) : IScoreModel
    {
        public Tensor Score(Tensor x, Tensor sigma)
        {
            using var scope = NewDisposeScope();
            var component = ring.ComponentScore(x, sigma, labels.clamp(0, 7));
            return where(labels.eq(8).unsqueeze(1), ring.Score(x, sigma), component).MoveToOuterDisposeScope();
        }
    }

    [Fact]
    public void GuidanceBelowASigmaLeavesTheHighNoiseStepsUnguided()
    {
        using var mixture = Mixture();
        using var gen = new Generator(2);
        var x = randn([8, 2], ScalarType.Float64, generator: gen);
        var labels = Labels(2, 8);
        var guided = new GuidedDenoiser(labels, new GuidanceScales(Classifier: 4, BelowSigma: 1.0), unconditional: mixture, classifier: new MixtureClassifier(mixture));
        var high = tensor(3.0, ScalarType.Float64);
        Assert.Equal(0.0, (guided.Score(x, high) - mixture.Score(x, high)).abs().max().item<double>());
        Assert.Equal(0, guided.ClassifierEvaluations);
        var low = tensor(0.5, ScalarType.Float64);
        Assert.True((guided.Score(x, low) - mixture.Score(x, low)).abs().max().item<double>() > 0.1);
        Assert.Equal(1, guided.ClassifierEvaluations);
    }

    [Fact]
    public void DdimWithTheGuidedScoreIsThePapersAlgorithmTwoStep()
    {
        // Dhariwal & Nichol 2021, Alg. 2: ε̂ = ε_θ(x_t) − √(1 − ᾱ_t) ∇_{x_t} log p(y | x_t);
        // x_{t−1} = √ᾱ_{t−1} (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t + √(1 − ᾱ_{t−1}) ε̂ — in the VP frame, with the exact mixture.
        using var mixture = Mixture();
        var schedule = new VpDiscreteSchedule(1000, VpDiscreteSchedule.Linear);
        using var gen = new Generator(4);
        var xt = randn([16, 2], ScalarType.Float64, generator: gen);
        var labels = Labels(0, 16);
        int t = 600, prev = 580;
        double sigmaT = schedule.Sigma(t), sigmaP = schedule.Sigma(prev);
        double abT = 1 / (1 + sigmaT * sigmaT), abP = 1 / (1 + sigmaP * sigmaP);   // ᾱ = 1/(1 + σ²)
        // σ-frame x = x_t/√ᾱ_t; ε = −σ s(x, σ); ∇_{x_t} log p(y | x_t) = ∇_x log p(y | x, σ)/√ᾱ_t
        var x = xt / Math.Sqrt(abT);
        var sig = tensor(sigmaT, ScalarType.Float64);
        var eps = -sigmaT * mixture.Score(x, sig);
        var grad = GuidedDenoiser.ClassifierGradient(new MixtureClassifier(mixture), x, sig, labels) / Math.Sqrt(abT);
        var epsHat = eps - Math.Sqrt(1 - abT) * grad;
        var paper = Math.Sqrt(abP) * (xt - Math.Sqrt(1 - abT) * epsHat) / Math.Sqrt(abT) + Math.Sqrt(1 - abP) * epsHat;
        // ours: the catalog's DDIM (η = 0) step in the σ-frame over the guided model, back to the VP frame
        var guided = new GuidedDenoiser(labels, new GuidanceScales(Classifier: 1), unconditional: mixture, classifier: new MixtureClassifier(mixture));
        var ours = DiffusionSamplers.Ddim(guided, x, [sigmaT, sigmaP], 0, null) * Math.Sqrt(abP);
        double err = (ours - paper).abs().max().item<double>();
        Assert.True(err < 1e-9, $"DDIM step differs from Alg. 2 by {err}");
    }

    [Fact]
    public void LabelsParseIntoEqualBlocksAndBadOnesAreRefusedInOneLine()
    {
        Assert.Equal(new long[] { 0, 0, 1, 1, 2, 2 }, ClassGuidance.ParseLabels("all", 3, 6).data<long>().ToArray());
        Assert.Equal(new long[] { 4, 4, 4 }, ClassGuidance.ParseLabels("4", 10, 3).data<long>().ToArray());
        Assert.Equal(new long[] { 7, 7, 2, 2 }, ClassGuidance.ParseLabels("7,2", 10, 4).data<long>().ToArray());
        Assert.Equal(2, ClassGuidance.RowColumns(ClassGuidance.ParseLabels("all", 3, 6)));
        var e = Assert.Throws<SettingException>(() => ClassGuidance.ParseLabels("10", 10, 4));
        Assert.Contains("'10' is not a class", e.Message);
        Assert.Throws<SettingException>(() => ClassGuidance.ParseLabels("all", 10, 4));
        Assert.Throws<SettingException>(() => new GuidanceScales(Cfg: -1).Validate());
    }
}
