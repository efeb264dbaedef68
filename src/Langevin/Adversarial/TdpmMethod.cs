using Langevin.Methods;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// Truncated diffusion probabilistic models (Zheng, He, Zhou &amp; Zhou 2023, "Truncated diffusion probabilistic models and
/// diffusion-based adversarial auto-encoders", ICLR). A DDPM chain is cut at T_trunc: the denoiser learns DDPM's ε-loss only
/// for t &lt; T_trunc (Ho et al. 2020, Eq. 14, on the truncated table), and an implicit prior learns the diffused data
/// q(x_{T_trunc − 1}) = ∫ q(x_{T_trunc − 1} | x₀) p(x₀) dx₀ adversarially (the GAN of <see cref="AdversarialGame"/>: real items
/// are data diffused to that step, non-saturating loss with lazy R1). The prior is that integral with a generator in place of
/// the data: x̂₀ = G(z), then x = √ᾱ x̂₀ + √(1 − ᾱ) ε with fresh ε outside the network (as Diffusion-GAN diffuses real and
/// generated images alike, Wang et al. 2023) — a convolutional G cannot make the white pixel noise of that target itself, and
/// a D shown noise-free fakes wins from the start (docs/methods/tdpm.md). Sampling: one prior call, then the reverse
/// chain from T_trunc − 1 — the own sampler is DDIM (η = 0) on the truncated table with trailing spacing; any catalog sampler
/// whose plan starts at the truncation σ (linspace or trailing spacing) runs too. T_trunc = T is a DDPM with a GAN for x_T
/// (whose target is then nearly N(0, I)); a small T_trunc leaves most of the work to the prior.
/// </summary>
public sealed class TdpmMethod : AdversarialMethod<TdpmConfig>, IPriorStartedMethod
{
    public const string Model = Component.Default;
    public const string OwnSampler = "prior-ddim";

    public static readonly MethodRegistration Registration = new()
    {
        Name = "tdpm",
        Summary = "truncated diffusion: DDPM's ε-loss for t < T_trunc, an adversarial implicit prior G(z) for x at T_trunc; one prior call + a short chain",
        MethodType = typeof(TdpmMethod),
        ConfigType = typeof(TdpmConfig),
        DefaultConfig = () => new TdpmConfig(),
        Recipe = Recipe,
        Resolve = (c, data, _) => c with { Settings = c.SettingsAs<TdpmConfig>().ResolvedFor(data.shape[1..], c.LearningRate) },
        Options =
        [
            .. AdversarialOptions.For<TdpmConfig>("tdpm"),
            MethodOption.For<TdpmConfig>("truncation", "T", "T_trunc: the chain keeps steps 0..T−1, the prior makes x at step T−1 (default 100)", "tdpm.truncation",
                (s, v) => s with { Truncation = MethodOption.Integer(v, "tdpm.truncation") }),
            MethodOption.For<TdpmConfig>("timesteps", "T", "steps of the full DDPM table the β's come from (default 1000)", "tdpm.timesteps",
                (s, v) => s with { Timesteps = MethodOption.Integer(v, "tdpm.timesteps") }),
            MethodOption.For<TdpmConfig>("beta-schedule", "linear|cosine", "β schedule (default linear)", "tdpm.beta_schedule", (s, v) => s with { BetaSchedule = v }),
            DiffusionMethod.SampleStepsOption<TdpmConfig>("tdpm", "prior-ddim, default min(10, T_trunc)", (s, v) => s with { SampleSteps = v }),
            MethodOption.For<TdpmConfig>("gan-channels", "C", "images: first-layer channels of the prior's DCGAN networks (default 64)", "tdpm.image_channels",
                (s, v) => s with { ImageChannels = MethodOption.Integer(v, "tdpm.image_channels") }),
            MethodOption.For<TdpmConfig>("prior", "generator|denoiser", "the prior's generator: a network G(z) of its own (default), or the denoiser's network at the truncation step on item-shaped noise, with an Adam of its own (the official code; then --gen-lr defaults to a tenth of --lr and --gan-betas to 0,0.99)", "tdpm.prior",
                (s, v) => s with { Prior = v }),
        ],
        Create = (c, shape) => new TdpmMethod(c, shape),
    };

    /// <summary>The diffusion methods' toy recipe for points (batch 512, Adam 2·10⁻³ for the denoiser, EMA 0.995, 6 Fourier
    /// features in the denoiser), the GAN's for images (batch 64, previews every 500 steps).</summary>
    static TrainConfig Recipe(string data)
    {
        var c = DiffusionMethod.ToyRecipe(new TdpmConfig(), data);
        return Data.Toy2D.Names.Contains(data) ? c : c with { Steps = 5000, BatchSize = 64, CheckpointEvery = 500, SampleEvery = 500 };
    }

    readonly VpDiscreteSchedule _truncated;
    readonly DdpmSimpleLoss _loss;
    readonly nn.Module<Tensor, Tensor>? _gen;
    readonly nn.Module<Tensor, Tensor> _disc;
    readonly nn.Module<Tensor, Tensor, Tensor> _network;
    readonly double _topScale, _topStd;

    public TdpmMethod(TrainConfig config, long[] itemShape) : this(config, itemShape, Networks.Create(config.Network, itemShape)) { }

    // the prior's discriminator sees no Fourier features: they are the denoiser's (the toy recipe's 6); with them a GAN's D
    // was sharp but G collapsed to one mode (docs/methods/gan.md). Its image generator makes x̂₀ in [−1, 1] (tanh).
    TdpmMethod(TrainConfig config, long[] itemShape, nn.Module<Tensor, Tensor, Tensor> network)
        : base(config, itemShape, s => PriorNetworks(s, config.Network with { FourierFeatures = 0 }, itemShape, network), new Component(Model, network),
            generatorSharesWeights: config.SettingsAs<TdpmConfig>().SharesDenoiser)
    {
        _network = network;
        var full = new VpDiscreteSchedule(Settings.Timesteps, Settings.BetaSchedule);
        _truncated = full.Truncated(Settings.Truncation);
        Denoiser = new PreconditionedDenoiser(network, ScaledFramePreconditioning.VpDiscrete(_truncated, Prediction.Epsilon));
        _loss = new DdpmSimpleLoss(_truncated);
        double abar = _truncated.AlphasCumprod[^1];
        (_topScale, _topStd) = (Math.Sqrt(abar), Math.Sqrt(1 - abar));
        _gen = Settings.SharesDenoiser ? null : (nn.Module<Tensor, Tensor>)GeneratorNetwork;
        _disc = (nn.Module<Tensor, Tensor>)DiscriminatorNetwork;
    }

    static (nn.Module, nn.Module) PriorNetworks(TdpmConfig s, NetworkConfig net, long[] itemShape, nn.Module denoiser) => s.SharesDenoiser
        ? (denoiser, GanNetworks.Discriminator(s, s.ImageChannels, net, itemShape))
        : GanNetworks.Create(s, s.ImageChannels, net, itemShape);

    /// <summary>The ε-model D(x, σ) on the truncated table.</summary>
    public PreconditionedDenoiser Denoiser { get; }
    IScoreModel IDenoisingMethod.Denoiser => Denoiser;

    /// <summary>The truncated table: catalog samplers plan on steps 0..T_trunc − 1 only.</summary>
    public SamplingProcess Process => new(SamplingProcess.Vp, _truncated);

    /// <summary>σ at the truncation step, where the prior's samples live.</summary>
    public double TruncationSigma => _truncated.Sigma(_truncated.T - 1);

    /// <summary>z of the generator, or item-shaped noise for the denoiser prior.</summary>
    public long[] LatentShape => Settings.SharesDenoiser ? ItemShape : [Settings.LatentDim!.Value];

    public Tensor ToData(Tensor x) => Networks.IsImage(ItemShape) ? x.clamp(-1, 1) : x.alias();

    /// <summary>The ε-loss on t &lt; T_trunc, then the prior's game.</summary>
    public override void Step(ITrainingContext context, Batch batch)
    {
        if (context.Stage.TrainsComponent(Model)) context.Optimize(Model, _loss.Loss(Denoiser, batch.X, context.Generator));
        base.Step(context, batch);
    }

    /// <summary>Real items of the prior's game: data diffused to the truncation step, √ᾱ x₀ + √(1 − ᾱ) ε (the VP frame).</summary>
    public override DiscriminatorInput Real(Batch batch, TorchSharp.torch.Generator gen) =>
        new(Diffuse(batch.X, randn(batch.X.shape, generator: gen, device: batch.X.device, dtype: batch.X.dtype)));

    /// <summary>Fake items: the generator's x̂₀ diffused the same way, with ε drawn after z.</summary>
    public override Tensor Fake(DiscriminatorInput real, TorchSharp.torch.Generator gen)
    {
        var z = randn([real.X.shape[0], .. LatentShape], generator: gen, device: real.X.device, dtype: real.X.dtype);
        var x0 = PriorMean(z);
        return Diffuse(x0, randn(x0.shape, generator: gen, device: x0.device, dtype: x0.dtype));
    }

    /// <summary>x̂₀ of latents z: G(z), or tanh of the denoiser's network at the truncation step's label T_trunc — one past the
    /// labels the ε-loss trains (0..T_trunc − 1), as the official code's model(z, t_max).</summary>
    Tensor PriorMean(Tensor z) => _gen is not null ? _gen.call(z)
        : _network.call(z, full([z.shape[0]], (double)Settings.Truncation, dtype: float32, device: z.device)).tanh();

    /// <summary>q(x_{T_trunc − 1} | x₀): √ᾱ x₀ + √(1 − ᾱ) ε (Ho et al. 2020, Eq. 4), ᾱ at the truncation step.</summary>
    Tensor Diffuse(Tensor x0, Tensor eps) => x0 * _topScale + eps * _topStd;

    public override Tensor Discriminate(DiscriminatorInput input) => _disc.call(input.X);

    // ---- sampling ----

    public override IReadOnlyList<string> SamplerNames { get; } = [OwnSampler];

    public override int FunctionEvaluations => 1 + Settings.OwnSampleSteps;

    public override int FunctionEvaluationsWith(SamplerSettings? settings) => 1 + (settings?.Steps ?? Settings.OwnSampleSteps);

    protected override long[] NoiseShape => LatentShape;

    SamplerRequest OwnRequest(int steps) => SamplerRequest.For("ddim", steps).With(SamplerOptions.Spacing, TimestepSpacing.Trailing);

    /// <summary>One prior call on z, then DDIM (η = 0) on the truncated table from its top.</summary>
    protected override Tensor Generate(Tensor z, TorchSharp.torch.Generator gen, Action<int, int>? onStep, SamplerSettings? sampler)
    {
        int steps = sampler?.Steps ?? Settings.OwnSampleSteps;
        var request = OwnRequest(steps);
        var plan = SamplerCatalog.Plan(request, Process);
        var start = StartNoise(z, randn([z.shape[0], .. ItemShape], generator: gen, device: z.device), plan);
        onStep?.Invoke(1, 1 + steps);
        var result = SamplerCatalog.Run(Denoiser, start, request, Process, gen, (done, _) => onStep?.Invoke(1 + done, 1 + steps));
        return ToData(result.Output);
    }

    protected override void CheckSampler(SamplerSettings? sampler, string who)
    {
        if (sampler?.Name is { } name && name != OwnSampler) throw SamplingRefusals.Sampler(who, $"{OwnSampler}, or a catalog sampler with linspace or trailing spacing", name);
        if (sampler?.Options?.Count > 0)
            throw SettingException.About("sampler", OwnSampler, $"{OwnSampler} takes no options (its spacing is trailing); use a catalog sampler for others");
        if (sampler?.Steps is { } steps && (steps < 1 || steps > Settings.Truncation))
            throw new SettingException("steps", steps, $"must be in 1..{Settings.Truncation} (the truncated chain's steps)");
    }

    public void CheckPlan(SamplingPlan plan, string sampler)
    {
        double top = TruncationSigma;
        if (Math.Abs(plan.Sigmas[0] / top - 1) > 1e-6)
            throw SettingException.Sentence("sampler", sampler,
                $"{sampler} would start at σ = {plan.Sigmas[0]:G4}, but a tdpm model's prior gives x at its truncation σ = {top:G4} (step {_truncated.T - 1}); " +
                "use a vp sampler with linspace or trailing spacing (ddim and ddpm default to leading; the edm samplers follow EDM's σ's)");
    }

    /// <summary>z' = x · √(1 + σ₀²) / InitialScale with x = √ᾱ G(z) + √(1 − ᾱ) ε the prior's sample in the VP frame, which is
    /// x_σ/√(1 + σ²) (Karras et al. 2022, Table 1).</summary>
    public Tensor StartNoise(Tensor latents, Tensor noise, SamplingPlan plan)
    {
        CheckPlan(plan, "the sampler");
        using var _ = no_grad();
        var x = Diffuse(PriorMean(latents.to(float32).to(this.Device())), noise.to(float32).to(this.Device()));
        double sigma = plan.Sigmas[0];
        return x * (Math.Sqrt(1 + sigma * sigma) / plan.InitialScale);
    }

    public override void Dispose()
    {
        Denoiser.Network.Dispose();
        base.Dispose();
    }
}
