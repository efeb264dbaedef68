using Langevin.Energy;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// Denoising-diffusion GANs (Xiao, Kreis &amp; Vahdat 2022, "Tackling the generative learning trilemma"): a diffusion of T
/// large steps (the discretised VP process of <see cref="DdganProcess"/>) whose reverse steps are not Gaussian, so each is
/// learned adversarially. G(x_{t+1}, t, z) predicts x₀ and the fake x_t is drawn from the true posterior
/// q(x_t | x_{t+1}, x₀') (Eq. 7–8); D(x_t, x_{t+1}, t) tells it from the x_t of a real chain (Eq. 6), with the
/// non-saturating loss and lazy R1 on the real x_t. Sampling: x_T ~ N(0, I), then T generator calls each followed by a
/// posterior draw. Networks (<see cref="DdganNetworks"/>): MLPs for points; for images an ADM U-Net with z through a mapping
/// network into its adaptive group norms (the paper: NCSN++) against a time-conditioned DCGAN discriminator.
/// </summary>
public sealed class DdganMethod : AdversarialMethod<DdganConfig>
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "ddgan",
        Summary = "denoising-diffusion GAN: T large denoising steps (default 4), each a conditional GAN G(x_{t+1}, t, z) → x₀ with the posterior q(x_t | x_{t+1}, x₀); MLPs for points, a U-Net with z in adaptive group norm for images",
        MethodType = typeof(DdganMethod),
        ConfigType = typeof(DdganConfig),
        DefaultConfig = () => new DdganConfig(),
        Recipe = Recipe,
        Resolve = (c, data, _) => c with { Settings = c.SettingsAs<DdganConfig>().ResolvedFor(data.shape[1..]) },
        Options =
        [
            .. AdversarialOptions.For<DdganConfig>("ddgan"),
            MethodOption.For<DdganConfig>("denoising-steps", "T", "denoising steps = generator calls per sample (default 4)", "ddgan.denoising_steps",
                (s, v) => s with { DenoisingSteps = MethodOption.Integer(v, "ddgan.denoising_steps") }),
            MethodOption.For<DdganConfig>("beta-min", "B", "β_min of the VP process (default 0.1)", "ddgan.beta_min", (s, v) => s with { BetaMin = MethodOption.Number(v, "ddgan.beta_min") }),
            MethodOption.For<DdganConfig>("beta-max", "B", "β_max of the VP process (default 20)", "ddgan.beta_max", (s, v) => s with { BetaMax = MethodOption.Number(v, "ddgan.beta_max") }),
            MethodOption.For<DdganConfig>("mapping-layers", "K", "images: layers of z's mapping network after the first (default 4)", "ddgan.mapping_layers",
                (s, v) => s with { MappingLayers = MethodOption.Integer(v, "ddgan.mapping_layers") }),
            MethodOption.For<DdganConfig>("disc-channels", "C", "images: first-layer channels of the discriminator (default 64)", "ddgan.discriminator_channels",
                (s, v) => s with { DiscriminatorChannels = MethodOption.Integer(v, "ddgan.discriminator_channels") }),
        ],
        Create = (c, shape) => new DdganMethod(c, shape),
    };

    /// <summary>As the GAN's: no gradient clipping; points: batch 256, 10,000 steps; images: batch 64 (the paper's CIFAR-10
    /// batch per GPU), a checkpoint and a sample grid every 500 steps.</summary>
    static TrainConfig Recipe(string data)
    {
        var c = new TrainConfig { Settings = new DdganConfig(), GradClip = 0, EmaDecay = 0.999 };
        if (Data.Toy2D.Names.Contains(data)) return c with { Steps = 10_000, BatchSize = 256 };
        return c with { Steps = 5000, BatchSize = 64, CheckpointEvery = 500, SampleEvery = 500 };
    }

    readonly DdganProcess _process;
    readonly DdganNetworks _networks;

    public DdganMethod(TrainConfig config, long[] itemShape) : this(config, itemShape, DdganNetworks.Create(config.SettingsAs<DdganConfig>(), config.Network, itemShape)) { }

    DdganMethod(TrainConfig config, long[] itemShape, DdganNetworks networks) : base(config, itemShape, _ => (networks.Generator, networks.Discriminator))
    {
        _process = new DdganProcess(Settings.DenoisingSteps, Settings.BetaMin, Settings.BetaMax);
        _networks = networks;
    }

    public override int FunctionEvaluations => Settings.DenoisingSteps;

    /// <summary>A real pair of the chain: t ~ U{0..T−1}, (x_t, x_{t+1}) ~ q (q_sample_pairs); D judges x_t given x_{t+1} and t.</summary>
    public override DiscriminatorInput Real(Batch batch, TorchSharp.torch.Generator gen)
    {
        var x0 = batch.X;
        var t = randint(0, Settings.DenoisingSteps, [x0.shape[0]], generator: gen, device: x0.device);
        var (xt, xt1) = _process.SamplePair(x0, t, gen);
        return new DiscriminatorInput(xt, xt1, t);
    }

    /// <summary>G's x_t: x₀' = G(x_{t+1}, t, z), then x_t ~ q(x_t | x_{t+1}, x₀') (Xiao et al. 2022, Eq. 8).</summary>
    public override Tensor Fake(DiscriminatorInput real, TorchSharp.torch.Generator gen) =>
        _process.SamplePosterior(PredictX0(real.Given!, real.Time!, gen), real.Given!, real.Time!, gen);

    Tensor PredictX0(Tensor xNext, Tensor t, TorchSharp.torch.Generator gen) => _networks.PredictX0(xNext, t, Latents(xNext.shape[0], gen));

    public override Tensor Discriminate(DiscriminatorInput input) => _networks.Discriminate(input.X, input.Given!, input.Time!);

    /// <summary>x_T ~ N(0, I).</summary>
    protected override long[] NoiseShape => ItemShape;

    protected override Tensor Generate(Tensor xT, TorchSharp.torch.Generator gen, Action<int, int>? onStep, SamplerSettings? sampler) =>
        _process.Sample((x, t) => PredictX0(x, t, gen), xT, gen, onStep);

    public override void Dispose()
    {
        _process.Dispose();
        base.Dispose();
    }
}
