using Langevin.Energy;
using Langevin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>The DCGAN sizes and initialisation (Radford et al. 2016, §3–4) both networks share.</summary>
static class Dcgan
{
    /// <summary>The side of the coarsest feature map: 7 for 28×28 (MNIST), 4 for 32×32 (CIFAR-10).</summary>
    public static int CoarseSide(int size) => size switch
    {
        28 => 7,
        32 => 4,
        _ => throw new ArgumentException($"DCGAN networks are built for 28×28 or 32×32 images, not {size}×{size}", nameof(size)),
    };

    /// <summary>DCGAN §4: every weight ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0.</summary>
    public static void Initialise(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var m in module.modules().Prepend(module).Distinct())
            foreach (var (name, p) in m.named_parameters(recurse: false))
            {
                using var scope = NewDisposeScope();
                if (name == "bias") p.zero_();
                else nn.init.normal_(p, m is BatchNorm2d ? 1.0 : 0.0, 0.02);
            }
    }
}

/// <summary>
/// The DCGAN generator (Radford et al. 2016, Fig. 1) at MNIST/CIFAR size: z [B, latentDim] → linear → [B, 4c, s₀, s₀]
/// (s₀ = 7 or 4) → batch norm + ReLU → stride-2 4×4 transposed convolutions with batch norm + ReLU (4c → 2c → c; a third,
/// c → c, for 32×32) → 3×3 convolution → tanh: images [B, channels, size, size] in (−1, 1). The layers before a batch
/// norm have no bias (it would be normalised away), as in PyTorch's DCGAN example.
/// </summary>
public sealed class DcganGenerator : nn.Module<Tensor, Tensor>
{
    readonly Linear project;
    readonly BatchNorm2d bn0;
    readonly nn.Module<Tensor, Tensor> up;
    readonly SafeConv2d to_image;
    readonly long _channels0, _side0;

    public DcganGenerator(int latentDim, int channels, int size, int baseChannels = 64) : base(nameof(DcganGenerator))
    {
        int c = baseChannels, s0 = Dcgan.CoarseSide(size);
        (_channels0, _side0) = (4 * c, s0);
        project = nn.Linear(latentDim, 4L * c * s0 * s0, hasBias: false);
        bn0 = nn.BatchNorm2d(4 * c);
        long[] widths = size == 28 ? [4 * c, 2 * c, c] : [4 * c, 2 * c, c, c];
        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 1; i < widths.Length; i++)
        {
            blocks.Add(($"deconv{i}", nn.ConvTranspose2d(widths[i - 1], widths[i], 4, stride: 2, padding: 1, bias: false)));
            blocks.Add(($"bn{i}", nn.BatchNorm2d(widths[i])));
            blocks.Add(($"relu{i}", nn.ReLU()));
        }
        up = nn.Sequential(blocks);
        to_image = new SafeConv2d(c, channels, 3, 1, 1);   // 1 or 3 output channels: oneDNN's input gradient needs the padding
        RegisterComponents();
        Dcgan.Initialise(this);
    }

    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var h = project.forward(z).view(z.shape[0], _channels0, _side0, _side0);
        h = up.forward(nn.functional.relu(bn0.forward(h)));
        var image = to_image.forward(h);
        return scope.MoveToOuter(tanh(image));
    }
}

/// <summary>
/// The DCGAN discriminator (Radford et al. 2016) without batch norm, so that R1 and WGAN-GP penalties see per-sample
/// gradients (Gulrajani et al. 2017, §4): stride-2 4×4 convolutions with LeakyReLU(0.2), C → c → 2c → 4c (28 → 14 → 7, then
/// a 3×3 stride-1 convolution; 32 → 16 → 8 → 4), flattened, a linear head: logits [B]. Optionally spectrally normalised
/// (Miyato et al. 2018). For DD-GAN (Xiao et al. 2022) it can take <c>extraChannels</c> more input channels (x_t
/// concatenated to x_{t−1}) and, when <c>timeConditioned</c>, a time t ∈ [0, 1] whose sinusoidal embedding is projected
/// to a per-channel bias after the first convolution.
/// </summary>
public sealed class DcganDiscriminator : nn.Module<Tensor, Tensor>
{
    public const int TimeEmbeddingDim = 64;

    readonly SpectralConv2d conv1, conv2, conv3;
    readonly SpectralLinear head;
    readonly Linear? time_proj;
    readonly int _stdGroup;

    /// <param name="minibatchStdGroup">0: off; G: StyleGAN's minibatch standard deviation before the last convolution (Karras et
    /// al. 2018, §3; 2020's group form): one feature map of the features' std over groups of up to G items, so D sees
    /// how alike a batch's items are and a collapsed G is told apart (TDPM's official discriminator has it, G = 4).</param>
    public DcganDiscriminator(int channels, int size, int baseChannels = 64, bool spectralNorm = false, int extraChannels = 0,
        bool timeConditioned = false, int minibatchStdGroup = 0) : base(nameof(DcganDiscriminator))
    {
        int c = baseChannels, side = Dcgan.CoarseSide(size);
        if (minibatchStdGroup < 0) throw new ArgumentOutOfRangeException(nameof(minibatchStdGroup), minibatchStdGroup, "must be ≥ 0");
        _stdGroup = minibatchStdGroup;
        conv1 = new SpectralConv2d(channels + extraChannels, c, 4, 2, 1, spectralNorm);
        conv2 = new SpectralConv2d(c, 2 * c, 4, 2, 1, spectralNorm);
        conv3 = new SpectralConv2d(2 * c + (_stdGroup > 0 ? 1 : 0), 4 * c, size == 28 ? 3 : 4, size == 28 ? 1 : 2, 1, spectralNorm);
        head = new SpectralLinear(4L * c * side * side, 1, spectralNorm);
        // t only shifts features, so its projection needs no Lipschitz bound: a plain layer
        if (timeConditioned) time_proj = nn.Linear(TimeEmbeddingDim, c);
        RegisterComponents();
        Dcgan.Initialise(this);
    }

    public bool TimeConditioned => time_proj is not null;

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <param name="x">[B, channels + extraChannels, size, size].</param>
    /// <param name="t">[B] times in [0, 1], required exactly when the network is time-conditioned. This overload is a plain
    /// method, which forward hooks do not see, so it makes the bfloat16 working copy's boundary casts itself: x to the
    /// weights' dtype, the logits back to x's.</param>
    public Tensor Forward(Tensor x, Tensor? t)
    {
        if (TimeConditioned != t is not null)
            throw new ArgumentException(TimeConditioned ? "this discriminator is time-conditioned: it needs t" : "this discriminator takes no t", nameof(t));
        using var scope = NewDisposeScope();
        var given = x.dtype;
        x = x.to_type(conv1.parameters().First().dtype);
        var h = conv1.call(x);
        if (time_proj is not null)
        {
            // embedded in fp32 as the UNets do, then cast to x's dtype
            var embedding = TimeEmbedding.SinusoidalEmbedding(t! * 1000, TimeEmbeddingDim).to_type(x.dtype);
            h = h + time_proj.forward(embedding).unsqueeze(-1).unsqueeze(-1);
        }
        h = nn.functional.leaky_relu(h, 0.2);
        h = nn.functional.leaky_relu(conv2.call(h), 0.2);
        if (_stdGroup > 0) h = MinibatchStd(h, _stdGroup);
        h = nn.functional.leaky_relu(conv3.call(h), 0.2);
        return scope.MoveToOuter(head.forward(h.flatten(1)).squeeze(-1).to_type(given));
    }

    /// <summary>h [B, C, H, W] with one more channel: for item i in group g (items i, i + B/G', …; G' the largest divisor of B
    /// up to <paramref name="group"/>), the mean over features and pixels of the features' std across g, as StyleGAN2's
    /// MinibatchStdLayer with one channel.</summary>
    public static Tensor MinibatchStd(Tensor h, int group)
    {
        long b = h.shape[0];
        long g = Math.Min(group, b);
        while (b % g != 0) g--;
        using var scope = NewDisposeScope();
        var y = h.reshape(g, b / g, h.shape[1], h.shape[2], h.shape[3]);
        y = (y - y.mean([0])).square().mean([0]).add(1e-8).sqrt();                  // [B/G', C, H, W]: the std across each group
        y = y.mean([1, 2, 3], keepdim: true).repeat(g, 1, h.shape[2], h.shape[3]);   // [B, 1, H, W]
        return scope.MoveToOuter(cat([h, y], 1));
    }
}
