using Langevin.Energy;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// DD-GAN's two networks for one kind of item (Xiao et al. 2022, Eq. 6–8): G(x_{t+1}, t, z) → x₀' and
/// D(x_t, x_{t+1}, t) → logits [B]. t is the step index k ∈ 0..T−1 (int64 [B]).
/// </summary>
public abstract class DdganNetworks
{
    public abstract nn.Module Generator { get; }
    public abstract nn.Module Discriminator { get; }

    /// <summary>x₀' = G(x_{t+1}, t, z).</summary>
    public abstract Tensor PredictX0(Tensor xNext, Tensor step, Tensor z);

    /// <summary>D's logits [B] for x_t given x_{t+1} and t.</summary>
    public abstract Tensor Discriminate(Tensor x, Tensor xNext, Tensor step);

    /// <summary>MLPs for points [N, D]; for square images the ADM U-Net with z in its adaptive group norms and a
    /// time-conditioned DCGAN discriminator on (x_t, x_{t+1}).</summary>
    public static DdganNetworks Create(DdganConfig s, NetworkConfig net, long[] itemShape)
    {
        s.Validate();
        if (itemShape.Length == 1) return new Points(s, net, (int)itemShape[0]);
        if (itemShape.Length == 3 && itemShape[1] == itemShape[2] && itemShape[1] is 28 or 32) return new Images(s, net, itemShape);
        throw SettingException.Sentence("data", string.Join("×", itemShape),
            $"has items of shape [{string.Join(", ", itemShape)}]; ddgan models points [N, D] or 28×28 / 32×32 images");
    }

    /// <summary>The step index on the 0..1000 scale the sinusoidal embeddings expect.</summary>
    static Tensor Scaled(Tensor step, int steps) => step.to(float32) * (1000.0 / steps);

    /// <summary>MLPs on [x_{t+1}, 32 sinusoidal features of t, z] (G) and [x_t, x_{t+1}, the features of t] (D); with
    /// <c>--fourier K</c> D sees sin/cos(2^k π x/4), k &lt; K, of x_t and x_{t+1} too (<see cref="ScoreMlp.WithFourierFeatures"/>).</summary>
    sealed class Points : DdganNetworks
    {
        const int TimeFeatures = 32;
        readonly MlpGenerator _gen;
        readonly EnergyMlp _disc;
        readonly int _steps, _fourier;

        public Points(DdganConfig s, NetworkConfig net, int d)
        {
            (_steps, _fourier) = (s.DenoisingSteps, net.FourierFeatures);
            _gen = new MlpGenerator(d + TimeFeatures + s.LatentDim!.Value, d, net.Width, net.Depth);
            _disc = new EnergyMlp(2 * d * (1 + 2 * _fourier) + TimeFeatures, net.Width, net.Depth, s.SpectralNorm!.Value);
        }

        public override nn.Module Generator => _gen;
        public override nn.Module Discriminator => _disc;

        Tensor Time(Tensor step, ScalarType dtype) => TimeEmbedding.SinusoidalEmbedding(Scaled(step, _steps), TimeFeatures).to(dtype);

        public override Tensor PredictX0(Tensor xNext, Tensor step, Tensor z) =>
            _gen.call(cat([xNext, Time(step, xNext.dtype), z.to(xNext.dtype)], 1));

        public override Tensor Discriminate(Tensor x, Tensor xNext, Tensor step) =>
            _disc.call(cat([ScoreMlp.WithFourierFeatures(x, _fourier), ScoreMlp.WithFourierFeatures(xNext, _fourier), Time(step, x.dtype)], 1));
    }

    /// <summary>
    /// G: <see cref="DdganUNetGenerator"/> built from the run's network settings as an ADM U-Net (adaptive group norm);
    /// D: the DCGAN discriminator taking x_{t+1} as extra channels and t as a bias after its first convolution.
    /// </summary>
    sealed class Images : DdganNetworks
    {
        readonly DdganUNetGenerator _gen;
        readonly DcganDiscriminator _disc;
        readonly int _steps;

        public Images(DdganConfig s, NetworkConfig net, long[] itemShape)
        {
            if (net.Classes > 0) throw SettingException.Sentence("network.classes", net.Classes, "does not apply to ddgan, which is unconditional here");
            if (net.Adm.LearnSigma) throw SettingException.Sentence("network.adm.learn_sigma", true, "does not apply to ddgan, whose generator predicts x₀ only");
            _steps = s.DenoisingSteps;
            int c = (int)itemShape[0], size = (int)itemShape[1];
            _gen = new DdganUNetGenerator(Networks.CreateAdm(net, itemShape), s.LatentDim!.Value, s.MappingLayers);
            _disc = new DcganDiscriminator(c, size, s.DiscriminatorChannels, s.SpectralNorm!.Value, extraChannels: c, timeConditioned: true,
                minibatchStdGroup: s.MinibatchStd);
        }

        public override nn.Module Generator => _gen;
        public override nn.Module Discriminator => _disc;

        public override Tensor PredictX0(Tensor xNext, Tensor step, Tensor z) => _gen.call(xNext, Scaled(step, _steps), z.to(xNext.dtype));

        public override Tensor Discriminate(Tensor x, Tensor xNext, Tensor step) =>
            _disc.Forward(cat([x, xNext], 1), step.to(float32) / _steps);
    }
}

/// <summary>
/// DD-GAN's image generator (Xiao et al. 2022, §4 and App. C; the code's NCSN++ "adagn" generator): z goes through a
/// mapping network — PixelNorm, then linear layers with an activation, as StyleGAN's (Karras et al. 2019) — and modulates
/// every residual block's group norm. Here the U-Net is ADM's (Dhariwal &amp; Nichol 2021), whose adaptive group norm takes
/// its scale and shift from one embedding: z's embedding is added to the time embedding, so both steer every block.
/// The output is tanh(U-Net): x₀' in [−1, 1] as the code's default.
/// </summary>
public sealed class DdganUNetGenerator : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    readonly AdmUNet unet;
    readonly Sequential z_transform;

    public DdganUNetGenerator(AdmUNet unet, int latentDim, int mappingLayers) : base(nameof(DdganUNetGenerator))
    {
        if (!unet.Config.ScaleShiftNorm)
            throw SettingException.Sentence("network.adm.scale_shift_norm", false, "must stay on for ddgan: its z enters through adaptive group norm");
        this.unet = unet;
        int emb = unet.Config.TimeEmbedDim;
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Linear(latentDim, emb), nn.SiLU() };
        for (int i = 0; i < mappingLayers; i++) { layers.Add(nn.Linear(emb, emb)); layers.Add(nn.SiLU()); }
        z_transform = nn.Sequential(layers);
        RegisterComponents();
    }

    /// <summary>z / √(mean z² + 10⁻⁸) per sample (StyleGAN's PixelNorm): only z's direction reaches the network.</summary>
    public static Tensor PixelNorm(Tensor z) => z * (z.square().mean([1], keepdim: true) + 1e-8).rsqrt();

    /// <param name="x">x_{t+1}, [B, C, H, W].</param>
    /// <param name="t">[B] on the 0..1000 scale.</param>
    /// <param name="z">[B, latent].</param>
    public override Tensor forward(Tensor x, Tensor t, Tensor z)
    {
        using var scope = NewDisposeScope();
        var style = z_transform.forward(PixelNorm(z));
        return scope.MoveToOuter(tanh(unet.Forward(x, t, style)));
    }
}
