using Langevin.Adversarial;
using Langevin.Methods;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

public class TdpmMethodTests(ITestOutputHelper output)
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-tdpm-").FullName;

    static TrainConfig Small(TdpmConfig settings, int steps) => new()
    {
        Settings = settings, Data = "test-points", Steps = steps, BatchSize = 128, CheckpointEvery = steps, SampleEvery = 0, LogEvery = 50,
        Seed = 1, Threads = 1, EmaDecay = 0.99, LearningRate = 2e-3, Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2 },
    };

    static TdpmMethod Trained(TdpmConfig settings, int steps, Tensor data)
    {
        var r = Trainer.Run(new TrainRequest(Small(settings, steps), TempDir(), Quiet: true, Previews: false), data);
        return (TdpmMethod)TrainedRuns.OpenCheckpoint(r.Checkpoint);
    }

    [Fact]
    public void ATruncatedTableIsTheFullTablesFirstSteps()
    {
        var full = new VpDiscreteSchedule(1000);
        var cut = full.Truncated(100);
        Assert.Equal(100, cut.T);
        Assert.Equal(full.Betas[..100], cut.Betas);
        Assert.Equal(full.AlphasCumprod[..100], cut.AlphasCumprod);
        for (int t = 0; t < 100; t += 9) Assert.Equal(full.Sigma(t), cut.Sigma(t));
        Assert.Equal(full.SigmaToT(full.Sigma(42) * 1.01), cut.SigmaToT(full.Sigma(42) * 1.01), 12);
        Assert.Same(full, full.Truncated(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => full.Truncated(1001));
        // a linspace plan on the cut table starts at its last step
        Assert.Equal(cut.Sigma(99), SamplingPlan.Discrete(cut, 10, TimestepSpacing.Linspace, 0, karras: false).Sigmas[0], 12);
    }

    /// <summary>
    /// The catalog starts from the prior's sample at the truncation σ whatever the plan's initial scale (DDIM's √(1 + σ²), Euler's σ):
    /// the start times the scale is (√ᾱ G(z) + √(1 − ᾱ) ε)·√(1 + σ₀²); a plan starting elsewhere (ddim's leading spacing, EDM's σ's) is refused in one line;
    /// the prior's call counts in the NFE.
    /// </summary>
    [Fact]
    public void CatalogSamplersStartFromThePriorAtTheTruncationSigmaAndCountItsCall()
    {
        using var data = randn([256, 2], generator: new Generator(1));
        using var m = Trained(new TdpmConfig { Truncation = 20 }.ResolvedFor([2]) as TdpmConfig ?? throw new InvalidOperationException(), 2, data);
        double top = m.TruncationSigma;
        Assert.Equal(new VpDiscreteSchedule(1000).Sigma(19), top, 12);
        using var z = randn([5, 8], generator: new Generator(2));
        using var eps = randn([5, 2], generator: new Generator(4));
        var g = (nn.Module<Tensor, Tensor>)m.Component(AdversarialMethod<TdpmConfig>.Generator).Module;
        m.Eval();
        // the prior's sample in the VP frame: √ᾱ G(z) + √(1 − ᾱ) ε with ᾱ = 1/(1 + σ²) at the cut
        double abar = 1 / (1 + top * top);
        using var expected = (no_grad_call(g, z) * Math.Sqrt(abar) + eps * Math.Sqrt(1 - abar)) * Math.Sqrt(1 + top * top);
        foreach (var request in new[] { SamplerRequest.For("ddim", 5).With(SamplerOptions.Spacing, TimestepSpacing.Trailing), SamplerRequest.For("euler", 5) })
        {
            var plan = SamplerCatalog.Plan(request, m.Process);
            using var start = m.StartNoise(z, eps, plan);
            Assert.True((start * plan.InitialScale).allclose(expected, rtol: 1e-5, atol: 1e-6), request.Sampler);
        }
        var leading = Assert.Throws<SettingException>(() => m.CheckPlan(SamplerCatalog.Plan(SamplerRequest.For("ddim", 5), m.Process), "ddim"));
        Assert.Equal("sampler", leading.Setting);
        Assert.Contains("trailing", leading.Message);
        Assert.Throws<SettingException>(() => m.CheckPlan(SamplerCatalog.Plan(SamplerRequest.For("edm", 5), m.Process), "edm"));

        using var progress = new Generator(3);
        using var draw = MethodSampling.Run(m, new DrawRequest { N = 7, Sampler = "euler", Steps = 5 }, progress, ProgressRunners.Silent);
        Assert.Equal(6, draw.Evaluations);
        Assert.Equal([7L, 2L], draw.Samples.shape);
        Assert.Equal(11, m.FunctionEvaluations);                       // own: 1 + min(10, T_trunc) DDIM steps
        Assert.Equal(4, m.FunctionEvaluationsWith(new SamplerSettings(Steps: 3)));
        Assert.Throws<SettingException>(() => MethodSampling.Run(m, new DrawRequest { N = 2, Sampler = "ddim", Steps = 5 }, progress, ProgressRunners.Silent));
    }

    /// <summary>
    /// The prior's game compares real data and G's x̂₀ diffused the same way to the cut, q(x | x₀) = N(√ᾱ x₀, (1 − ᾱ) I) with ᾱ
    /// at step T_trunc − 1 (Ho et al. 2020, Eq. 4): a constant batch gives that mean and spread, and a fake is √ᾱ G(z) + √(1 − ᾱ) ε
    /// with z and then ε drawn from the step's generator — the noise is never the network's to make.
    /// </summary>
    [Fact]
    public void TheGameComparesRealAndGeneratedItemsDiffusedToTheCut()
    {
        var settings = new TdpmConfig { Truncation = 50 }.ResolvedFor([2]) as TdpmConfig ?? throw new InvalidOperationException();
        using var m = new TdpmMethod(Small(settings, 1), [2]);
        double abar = new VpDiscreteSchedule(1000).AlphasCumprod[49];
        using var c = full([20_000, 2], 1.5f);
        var real = m.Real(new Batch(c), new Generator(7)).X;
        Assert.Equal(Math.Sqrt(abar) * 1.5, real.mean().item<float>(), 2);
        Assert.Equal(Math.Sqrt(1 - abar), real.std().item<float>(), 2);

        using var given = randn([16, 2], generator: new Generator(8));
        using var fake = no_grad_fake(m, given, 9);
        using var draws = new Generator(9);
        using var z = randn([16, 8], generator: draws);
        using var eps = randn([16, 2], generator: draws);
        var g = (nn.Module<Tensor, Tensor>)m.Component(AdversarialMethod<TdpmConfig>.Generator).Module;
        using var expected = no_grad_call(g, z) * Math.Sqrt(abar) + eps * Math.Sqrt(1 - abar);
        Assert.True(fake.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    static Tensor no_grad_fake(TdpmMethod m, Tensor real, ulong seed)
    {
        using var _ = no_grad();
        return m.Fake(new DiscriminatorInput(real), new Generator(seed));
    }

    static Tensor no_grad_call(nn.Module<Tensor, Tensor> g, Tensor z)
    {
        using var _ = no_grad();
        return g.call(z);
    }

    /// <summary>Trained on N(2, 0.5²) with T_trunc = 50 (the prior makes x at σ ≈ 0.17), one prior call and 10 DDIM steps give the data's mean and spread
    /// (the prior with the shared defaults, G 2·10⁻⁴ / D 10⁻³; at 2·10⁻³ each its G collapsed to the mean, std 0.11).</summary>
    [Fact]
    public void ATruncatedChainWithALearnedPriorLearnsAOneDimensionalGaussian()
    {
        using var g = new Generator(5);
        using var data = randn([4096, 1], generator: g) * 0.5 + 2;
        using var m = Trained(new TdpmConfig { Truncation = 50, LatentDim = 4 }.ResolvedFor([1]) as TdpmConfig ?? throw new InvalidOperationException(), 2000, data);
        using var x = m.Sample(20_000, new Generator(6));
        double mean = x.mean().item<float>(), std = x.std().item<float>();
        output.WriteLine($"TDPM (T_trunc 50, 10 steps) on N(2, 0.5²): mean {mean:F3}, std {std:F3}");
        Assert.InRange(mean, 1.85, 2.15);
        Assert.InRange(std, 0.38, 0.62);
    }

    static TdpmConfig DenoiserPrior(int truncation) =>
        new TdpmConfig { Truncation = truncation, Prior = TdpmConfig.DenoiserPrior }.ResolvedFor([2], 2e-3);

    /// <summary>
    /// The denoiser prior (the official code's one U-Net with two Adams): "gen" is the very network of "model" with an Adam of
    /// its own (a tenth of the run's rate, β's (0, 0.99)) and no EMA; a fake is √ᾱ tanh(F(z, T_trunc)) + √(1 − ᾱ) ε with z
    /// item-shaped and drawn before ε, at the label one past the ε-loss's; checkpoints keep the weights once and the second
    /// Adam's moments; and a stop and resume gives the uninterrupted run's weights exactly, in fp32 and under bf16.
    /// </summary>
    [Fact]
    public void ADenoiserPriorIsTheDenoisersNetworkWithAnAdamOfItsOwn()
    {
        var settings = DenoiserPrior(30);
        Assert.Equal(2e-4, settings.GeneratorLearningRate);
        Assert.Equal((0.0, 0.99), (settings.Beta1, settings.Beta2));
        using (var m = new TdpmMethod(Small(settings, 1), [2]))
        {
            var gen = m.Component(AdversarialMethod<TdpmConfig>.Generator);
            var model = m.Component(TdpmMethod.Model);
            Assert.Same(model.Module, gen.Module);
            Assert.Equal((TdpmMethod.Model, false), (gen.SharesWeightsOf, gen.Ema));
            Assert.Equal([2L], m.LatentShape);

            double abar = new VpDiscreteSchedule(1000).AlphasCumprod[29];
            using var fake = no_grad_fake(m, zeros(16, 2), 9);
            using var draws = new Generator(9);
            using var z = randn([16, 2], generator: draws);
            using var eps = randn([16, 2], generator: draws);
            var net = (nn.Module<Tensor, Tensor, Tensor>)model.Module;
            using var x0 = no_grad_call(x => net.call(x, full([16], 30.0)).tanh(), z);
            Assert.True(fake.allclose(x0 * Math.Sqrt(abar) + eps * Math.Sqrt(1 - abar), rtol: 1e-5, atol: 1e-6));
        }

        using var data = randn([512, 2], generator: new Generator(3));
        foreach (var bf16 in new[] { Bf16Mode.Off, Bf16Mode.On })
        {
            var config = Small(settings, 6) with { CheckpointEvery = 3, Bf16 = bf16 };
            string whole = TempDir(), split = TempDir();
            var r = Trainer.Run(new TrainRequest(config, whole, Quiet: true, Previews: false), data);
            Trainer.Run(new TrainRequest(config with { Steps = 3 }, split, Quiet: true, Previews: false), data);
            var resumed = Trainer.Run(new TrainRequest(config, split, Resume: true, Quiet: true, Previews: false), data);
            using var a = Checkpoint.Load(r.Checkpoint);
            using var b = Checkpoint.Load(resumed.Checkpoint);
            var gen = a.For(AdversarialMethod<TdpmConfig>.Generator);
            Assert.Empty(gen.Weights);                                           // the weights are "model"'s, written once
            Assert.Null(gen.Ema);
            Assert.Equal(6, gen.OptimizerSteps);
            Assert.Contains(gen.Optimizer.Values, t => t.abs().max().item<float>() > 0);   // the second Adam moved them
            foreach (var (k, t) in a.For(TdpmMethod.Model).Weights)
                Assert.True(t.allclose(b.For(TdpmMethod.Model).Weights[k], 0, 0), $"{bf16}: {k} differs after a resume");
            foreach (var (k, t) in gen.Optimizer)
                Assert.True(t.allclose(b.For(AdversarialMethod<TdpmConfig>.Generator).Optimizer[k], 0, 0), $"{bf16}: gen's {k} differs after a resume");
            using var m = (TdpmMethod)TrainedRuns.OpenCheckpoint(r.Checkpoint);
            using var x = m.Sample(8, new Generator(4));
            Assert.Equal([8L, 2L], x.shape);
            Assert.True(x.isfinite().all().item<bool>());
        }
    }

    static Tensor no_grad_call(Func<Tensor, Tensor> f, Tensor z)
    {
        using var _ = no_grad();
        return f(z);
    }

    [Fact]
    public void BadSettingsAreRefusedNamingTheSetting()
    {
        Assert.Equal("tdpm.prior", Assert.Throws<SettingException>(() => new TdpmConfig { Prior = "unet" }.Validate()).Setting);
        Assert.Equal("tdpm.minibatch_std", Assert.Throws<SettingException>(() => new TdpmConfig { MinibatchStd = 4 }.ResolvedFor([2], 1e-3)).Setting);
        Assert.Equal("tdpm.truncation", Assert.Throws<SettingException>(() => new TdpmConfig { Truncation = 1 }.Validate()).Setting);
        Assert.Equal("tdpm.truncation", Assert.Throws<SettingException>(() => new TdpmConfig { Truncation = 2000 }.Validate()).Setting);
        Assert.Equal("tdpm.sample_steps", Assert.Throws<SettingException>(() => new TdpmConfig { Truncation = 20, SampleSteps = 21 }.Validate()).Setting);
        Assert.Equal("tdpm.beta_schedule", Assert.Throws<SettingException>(() => new TdpmConfig { BetaSchedule = "square" }.Validate()).Setting);
    }
}
