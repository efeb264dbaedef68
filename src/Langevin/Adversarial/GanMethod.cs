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
/// are separate components with their own Adam settings; the EMA is kept for G only and sampling uses it (docs/methods/gan.md).
/// </summary>
public sealed class GanMethod : AdversarialMethod<GanConfig>
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "gan",
        Summary = "a GAN: G(z) in one call against a discriminator (ns + lazy R1, hinge + spectral norm, or wgan-gp); MLPs for points, DCGAN for images",
        MethodType = typeof(GanMethod),
        ConfigType = typeof(GanConfig),
        DefaultConfig = () => new GanConfig(),
        Recipe = Recipe,
        Resolve = (c, data, _) => c with { Settings = c.SettingsAs<GanConfig>().ResolvedFor(data.shape[1..]) },
        Options =
        [
            .. AdversarialOptions.For<GanConfig>("gan"),
            MethodOption.For<GanConfig>("gan-channels", "C", "first-layer channels of the DCGAN networks for images (default 64)", "gan.image_channels",
                (s, v) => s with { ImageChannels = MethodOption.Integer(v, "gan.image_channels") }),
        ],
        Create = (c, shape) => new GanMethod(c, shape),
    };

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

    readonly nn.Module<Tensor, Tensor> _gen, _disc;

    public GanMethod(TrainConfig config, long[] itemShape) : base(config, itemShape, g => GanNetworks.Create(g, config.Network, itemShape))
    {
        _gen = (nn.Module<Tensor, Tensor>)GeneratorNetwork;
        _disc = (nn.Module<Tensor, Tensor>)DiscriminatorNetwork;
    }

    public override int FunctionEvaluations => 1;

    public override DiscriminatorInput Real(Batch batch, TorchSharp.torch.Generator gen) => new(batch.X);

    public override Tensor Fake(DiscriminatorInput real, TorchSharp.torch.Generator gen) => _gen.call(Latents(real.X.shape[0], gen));

    public override Tensor Discriminate(DiscriminatorInput input) => _disc.call(input.X);

    /// <summary>The latent z ~ N(0, I) of one sample.</summary>
    protected override long[] NoiseShape => [Settings.LatentDim!.Value];

    protected override Tensor Generate(Tensor z, TorchSharp.torch.Generator gen, Action<int, int>? onStep, SamplerSettings? sampler)
    {
        var x = _gen.call(z);
        onStep?.Invoke(1, 1);
        return x;
    }
}
