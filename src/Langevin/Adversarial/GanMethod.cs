using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// A generative adversarial network (Goodfellow et al. 2014): G maps z ~ N(0, I) to an item in one call, D tells real from
/// generated, and they play the game of <see cref="AdversarialGame"/> with one of three losses — non-saturating with lazy
/// R1 (Mescheder et al. 2018), hinge with spectral normalisation on D (Miyato et al. 2018), or WGAN-GP (Gulrajani et al.
/// 2017). MLPs for points, DCGAN-style convolutional networks for 28×28 and 32×32 images (Radford et al. 2016). G and D
/// are separate components with their own Adam settings; the EMA is kept for G only and sampling uses it.
/// </summary>
public sealed class GanMethod : IGenerativeMethod, ITrainingDiagnostics, IAdversarialSides
{
    public const string Generator = "gen", Discriminator = "disc";

    public static readonly MethodRegistration Registration = new()
    {
        Name = "gan",
        Summary = "a GAN: G(z) in one call against a discriminator (ns + lazy R1, hinge + spectral norm, or wgan-gp); MLPs for points, DCGAN for images",
        MethodType = typeof(GanMethod),
        ConfigType = typeof(GanConfig),
        DefaultConfig = () => new GanConfig(),
        Recipe = Recipe,
        Resolve = (c, data, _) => c with { Settings = c.SettingsAs<GanConfig>().Resolved(data.shape[1..]) },
        Options =
        [
            Option("gan-loss", "ns|hinge|wgan-gp", "the adversarial loss (default ns: non-saturating with lazy R1)", "loss", (s, v) => s with { Loss = v }),
            Option("latent-dim", "K", "dimension of G's latent z (default 8 for points, 100 for images)", "latent_dim", (s, v) => s with { LatentDim = MethodOption.Integer(v, "gan.latent_dim") }),
            Option("gen-lr", "X", "G's learning rate (default 2e-4; wgan-gp 1e-4)", "generator_learning_rate", (s, v) => s with { GeneratorLearningRate = MethodOption.Number(v, "gan.generator_learning_rate") }),
            Option("disc-lr", "X", "D's learning rate (default 2e-4; wgan-gp 1e-4)", "discriminator_learning_rate", (s, v) => s with { DiscriminatorLearningRate = MethodOption.Number(v, "gan.discriminator_learning_rate") }),
            Option("gan-betas", "B1,B2", "Adam's β's of G and D (default 0.5,0.999; wgan-gp 0,0.9)", "betas", Betas),
            Option("critic-steps", "K", "D updates per G update (default 1; wgan-gp 5)", "critic_steps", (s, v) => s with { CriticSteps = MethodOption.Integer(v, "gan.critic_steps") }),
            Option("r1-gamma", "G", "γ of R1, γ/2·E‖∇D(x)‖² on data (default 0.1; 0: the unregularised GAN)", "r1_gamma", (s, v) => s with { R1Gamma = MethodOption.Number(v, "gan.r1_gamma") }),
            Option("r1-every", "K", "lazy R1: every K-th step, weighted by K (default 4)", "r1_every", (s, v) => s with { R1Every = MethodOption.Integer(v, "gan.r1_every") }),
            Option("gp-weight", "L", "λ of WGAN-GP's gradient penalty (default 10)", "gradient_penalty", (s, v) => s with { GradientPenalty = MethodOption.Number(v, "gan.gradient_penalty") }),
            Option("spectral-norm", null, "spectral normalisation of D (default: on for hinge)", "spectral_norm", (s, v) => s with { SpectralNorm = MethodOption.Flag(v, "gan.spectral_norm") }),
            Option("gan-channels", "C", "first-layer channels of the DCGAN networks for images (default 64)", "image_channels", (s, v) => s with { ImageChannels = MethodOption.Integer(v, "gan.image_channels") }),
            Option("collapse-patience", "N", "stop when D's loss stays below 1e-3 for N steps (default 2000; 0: never)", "collapse_patience", (s, v) => s with { CollapsePatience = MethodOption.Integer(v, "gan.collapse_patience") }),
            Option("disc-warmup", "N", "a first stage of N steps in which only D trains (default 0)", "discriminator_warmup", (s, v) => s with { DiscriminatorWarmup = MethodOption.Integer(v, "gan.discriminator_warmup") }),
        ],
        Create = (c, shape) => new GanMethod(c, shape),
    };

    static MethodOption Option(string name, string? value, string help, string field, Func<GanConfig, string, GanConfig> apply) =>
        MethodOption.For(name, value, help, "gan." + field, apply);

    static GanConfig Betas(GanConfig s, string v)
    {
        var parts = v.Split(',');
        if (parts.Length != 2) throw new SettingException("gan.betas", v, "must be two numbers B1,B2, e.g. 0.5,0.999");
        return s with { Beta1 = MethodOption.Number(parts[0], "gan.betas"), Beta2 = MethodOption.Number(parts[1], "gan.betas") };
    }

    /// <summary>
    /// No gradient clipping (GANs are trained without it); points: batch 256, 10,000 steps, MLPs of 3×256; images: batch 64
    /// (DCGAN's 128 costs twice the time per step here), and a sample grid every 500 steps.
    /// </summary>
    static TrainConfig Recipe(string data)
    {
        var c = new TrainConfig { Settings = new GanConfig(), GradClip = 0, EmaDecay = 0.999 };
        if (Data.Toy2D.Names.Contains(data)) return c with { Steps = 10_000, BatchSize = 256 };
        return c with { Steps = 5000, BatchSize = 64, CheckpointEvery = 500, SampleEvery = 500 };
    }

    readonly GanConfig _g;
    readonly nn.Module<Tensor, Tensor> _gen, _disc;
    readonly AdversarialGame _game;

    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public IReadOnlyList<Component> Components { get; }
    public IReadOnlyList<TrainingStage> Stages { get; }
    public MethodState State { get; } = new();
    public bool NeedsLabels => false;
    public int FunctionEvaluations => 1;
    public int FunctionEvaluationsWith(SamplerSettings? settings) => 1;
    public IReadOnlyList<string> SamplerNames { get; } = ["generator"];
    public IReadOnlyDictionary<string, double> LastDiagnostics => _game.Diagnostics;

    public GanMethod(TrainConfig config, long[] itemShape)
    {
        _g = config.SettingsAs<GanConfig>();
        _g.Validate();
        if (_g.LatentDim is null || _g.SpectralNorm is null || _g.CriticSteps is null) throw new InvalidOperationException("GAN settings must be resolved before building the method");
        Config = config;
        ItemShape = itemShape;
        (_gen, _disc) = GanNetworks.Create(_g, config.Network, itemShape);
        var adam = OptimizerSettings.From(config) with { Beta1 = _g.Beta1!.Value, Beta2 = _g.Beta2!.Value };
        Components =
        [
            new Component(Generator, _gen) { Optimizer = adam with { LearningRate = _g.GeneratorLearningRate!.Value } },
            new Component(Discriminator, _disc) { Optimizer = adam with { LearningRate = _g.DiscriminatorLearningRate!.Value }, Ema = false },
        ];
        Stages = _g.DiscriminatorWarmup > 0
            ? [new TrainingStage("disc-warmup", _g.DiscriminatorWarmup, [Discriminator]), new TrainingStage("adversarial")]
            : [];
        _game = new AdversarialGame(_g.Rules, Generator, Discriminator, State);
    }

    public void Step(ITrainingContext context, Batch batch) => _game.Step(context, batch, this);

    public DiscriminatorInput Real(Batch batch, TorchSharp.torch.Generator gen) => new(batch.X);

    public Tensor Fake(DiscriminatorInput real, TorchSharp.torch.Generator gen) => _gen.call(Latents(real.X.shape[0], gen));

    public Tensor Discriminate(DiscriminatorInput input) => _disc.call(input.X);

    Tensor Latents(long n, TorchSharp.torch.Generator gen) => randn([n, _g.LatentDim!.Value], generator: gen, device: this.Device());

    /// <summary>One generator call per sample; <paramref name="noise"/>, if given, is the latent z [n, latent_dim].</summary>
    public Tensor Sample(int n, TorchSharp.torch.Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "generator") throw Samplers.SamplingRefusals.Sampler("a GAN", "generator", name);
        if (sampler?.Steps is not null || sampler?.Options?.Count > 0) throw new UsageException("sample: a GAN's generator takes no steps or sampler options");
        if (noise is not null && !noise.shape.SequenceEqual([n, _g.LatentDim!.Value]))
            throw SettingException.About("noise", null, $"a GAN's generator takes latents [N, {_g.LatentDim}] (got [{string.Join(", ", noise.shape)}])");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        this.Eval();
        var z = noise?.to(float32).to(this.Device()) ?? Latents(n, gen);
        var x = _gen.call(z);
        if (ItemShape.Length == 3) x = x.clamp(-1, 1);
        onStep?.Invoke(1, 1);
        return x.cpu().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _gen.Dispose();
        _disc.Dispose();
        State.Dispose();
    }
}
