using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

#pragma warning disable IDE1006 // snake_case fields = guided-diffusion's state-dict names

namespace Langevin.Models;

/// <summary>
/// Shape of the ADM U-Net (improved DDPM / guided diffusion: Nichol &amp; Dhariwal 2021; Dhariwal &amp; Nichol 2021, §3).
/// </summary>
/// <param name="InChannels">Image channels in.</param>
/// <param name="OutChannels">Channels out: C, or 2C for a learned variance (Nichol &amp; Dhariwal 2021, §3.1).</param>
/// <param name="Resolution">Input height = width, divisible by 2^(levels − 1).</param>
/// <param name="ModelChannels">Channels at the first level; level i has ModelChannels·ChannelMults[i].</param>
/// <param name="ChannelMults">Channel multiplier per resolution level.</param>
/// <param name="NumResBlocks">ResBlocks per level on the way down (one more on the way up).</param>
/// <param name="AttnResolutions">Resolutions (side length) with multi-head self-attention.</param>
/// <param name="NumHeads">Attention heads (channels must divide evenly).</param>
/// <param name="Dropout">Dropout inside each ResBlock.</param>
/// <param name="ScaleShiftNorm">Adaptive group norm: the embedding gives a scale and shift after the second norm (AdaGN).</param>
/// <param name="ResblockUpdown">BigGAN-style up/down sampling inside residual blocks (Brock et al. 2019) instead of conv resampling.</param>
/// <param name="GroupNormGroups">Groups of every GroupNorm (ADM: 32); must divide every channel count.</param>
public sealed record AdmUNetConfig(
    int InChannels,
    int OutChannels,
    int Resolution,
    int ModelChannels,
    IReadOnlyList<int> ChannelMults,
    int NumResBlocks,
    IReadOnlyList<int> AttnResolutions,
    int NumHeads = 4,
    double Dropout = 0,
    bool ScaleShiftNorm = true,
    bool ResblockUpdown = true,
    int GroupNormGroups = 32,
    int Classes = 0)
{
    /// <summary>Width of the time-embedding MLP: 4 × ModelChannels, as ADM.</summary>
    public int TimeEmbedDim => 4 * ModelChannels;

    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"invalid AdmUNetConfig: {message}");
        }
        Require(InChannels > 0 && OutChannels > 0 && ModelChannels > 0 && NumResBlocks > 0 && NumHeads > 0, "sizes must be positive");
        Require(ModelChannels % 2 == 0, "ModelChannels must be even (it is the sinusoidal embedding's size)");
        Require(ChannelMults is { Count: > 0 } && ChannelMults.All(m => m > 0), "ChannelMults must be non-empty and positive");
        Require(Dropout is >= 0 and < 1, "Dropout must be in [0, 1)");
        int factor = 1 << (ChannelMults.Count - 1);
        Require(Resolution > 0 && Resolution % factor == 0, $"Resolution {Resolution} must be divisible by 2^{ChannelMults.Count - 1} = {factor}");
        foreach (int mult in ChannelMults)
        {
            int c = ModelChannels * mult;
            Require(c % GroupNormGroups == 0, $"GroupNormGroups {GroupNormGroups} must divide every channel count ({c})");
            Require(c % NumHeads == 0, $"NumHeads {NumHeads} must divide every channel count ({c})");
        }
    }
}

/// <summary>
/// The ADM U-Net: <c>forward(x [B,C,H,W], t [B])</c> → [B, OutChannels, H, W], t any float on a ~0..1000 scale.
/// Sinusoidal(t) → Linear → SiLU → Linear; conv_in; per level NumResBlocks ResBlocks (+ attention), then a
/// down-sampling ResBlock; middle ResBlock–attention–ResBlock; the mirror path with skips; GroupNorm–SiLU–conv_out.
/// Output convolutions of every block and of the network start at zero, as in guided diffusion.
/// </summary>
public sealed class AdmUNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential time_embed;
    private readonly ClassEmbedding? label_emb;
    private readonly ModuleList<nn.Module> input_blocks;
    private readonly ModuleList<nn.Module> middle_block;
    private readonly ModuleList<nn.Module> output_blocks;
    private readonly GroupNorm out_norm;
    private readonly SafeConv2d out_conv;

    public AdmUNetConfig Config { get; }

    public AdmUNet(AdmUNetConfig config) : base(nameof(AdmUNet))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int mc = config.ModelChannels, emb = config.TimeEmbedDim, g = config.GroupNormGroups;
        var mults = config.ChannelMults;
        AdmResBlock Res(int cin, int cout, Resample resample = Resample.None) =>
            new(cin, cout, emb, config.Dropout, g, config.ScaleShiftNorm, resample);
        AdmAttention Attn(int c) => new(c, config.NumHeads, g);

        time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb));
        if (config.Classes > 0) label_emb = new ClassEmbedding(config.Classes, emb);

        // Input blocks: each entry is one step whose output goes on the skip stack.
        input_blocks = new ModuleList<nn.Module>(new SafeConv2d(config.InChannels, mc, 3, 1, 1));
        var skipChannels = new Stack<int>();
        skipChannels.Push(mc);
        int ch = mc, res = config.Resolution;
        for (int level = 0; level < mults.Count; level++)
        {
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                var layers = new List<nn.Module> { Res(ch, mc * mults[level]) };
                ch = mc * mults[level];
                if (config.AttnResolutions.Contains(res)) layers.Add(Attn(ch));
                input_blocks.Add(new ModuleList<nn.Module>(layers.ToArray()));
                skipChannels.Push(ch);
            }
            if (level != mults.Count - 1)
            {
                input_blocks.Add(config.ResblockUpdown ? Res(ch, ch, Resample.Down) : new Downsample(ch));
                res /= 2;
                skipChannels.Push(ch);
            }
        }

        middle_block = new ModuleList<nn.Module>(Res(ch, ch), Attn(ch), Res(ch, ch));

        output_blocks = new ModuleList<nn.Module>();
        for (int level = mults.Count - 1; level >= 0; level--)
        {
            for (int i = 0; i < config.NumResBlocks + 1; i++)
            {
                var layers = new List<nn.Module> { Res(ch + skipChannels.Pop(), mc * mults[level]) };
                ch = mc * mults[level];
                if (config.AttnResolutions.Contains(res)) layers.Add(Attn(ch));
                if (level != 0 && i == config.NumResBlocks)
                {
                    layers.Add(config.ResblockUpdown ? Res(ch, ch, Resample.Up) : new Upsample(ch));
                    res *= 2;
                }
                output_blocks.Add(new ModuleList<nn.Module>(layers.ToArray()));
            }
        }
        if (skipChannels.Count != 0) throw new InvalidOperationException("skip stack not balanced");

        out_norm = Layers.GroupNorm(g, ch);
        out_conv = ZeroModule(new SafeConv2d(ch, config.OutChannels, 3, 1, 1));
        RegisterComponents();
    }

    /// <summary>Zero weights and bias (guided diffusion's zero_module): each residual branch starts as the identity.</summary>
    internal static T ZeroModule<T>(T module) where T : nn.Module
    {
        using var _ = no_grad();
        foreach (var p in module.parameters()) p.zero_();
        return module;
    }

    public override Tensor forward(Tensor x, Tensor t) => Forward(x, t, null);

    /// <param name="x">[B, InChannels, H, W].</param>
    /// <param name="t">[B] (or [B, 2] with classes, <see cref="ClassConditioning"/>).</param>
    /// <param name="style">[B, TimeEmbedDim] added to the time embedding, so that it reaches every block's adaptive group
    /// norm: DD-GAN's latent z after its mapping network (Xiao et al. 2022, §4). Null: none. A plain method, so the bf16
    /// working copy's forward hooks (which run through <c>call</c>) do not see it.</param>
    public Tensor Forward(Tensor x, Tensor t, Tensor? style)
    {
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"x must be [B, {Config.InChannels}, H, W], got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var (label, classes) = ClassConditioning.Split(t);
        if (label.dim() != 1 || label.shape[0] != x.shape[0])
            throw new ArgumentException($"t must be [{x.shape[0]}] (or [{x.shape[0]}, 2] with classes), got [{string.Join(", ", t.shape)}]", nameof(t));
        var emb = time_embed.forward(TimeEmbedding.SinusoidalEmbedding(label, Config.ModelChannels).to_type(x.dtype));
        if (label_emb is not null) emb = emb + label_emb.Embed(classes, x.shape[0], x.device).to_type(emb.dtype);   // emb + label_emb(y) (Dhariwal & Nichol 2021)
        if (style is not null)
        {
            if (style.dim() != 2 || style.shape[0] != x.shape[0] || style.shape[1] != Config.TimeEmbedDim)
                throw new ArgumentException($"style must be [{x.shape[0]}, {Config.TimeEmbedDim}], got [{string.Join(", ", style.shape)}]", nameof(style));
            emb = emb + style.to_type(emb.dtype);
        }
        var h = x;
        var skips = new Stack<Tensor>();
        foreach (var block in input_blocks)
        {
            h = Apply(block, h, emb);
            skips.Push(h);
        }
        h = Apply(middle_block, h, emb);
        foreach (var block in output_blocks)
            h = Apply(block, cat([h, skips.Pop()], 1), emb);
        var output = out_conv.forward(F.silu(out_norm.forward(h)));
        return scope.MoveToOuter(output);
    }

    static Tensor Apply(nn.Module module, Tensor h, Tensor emb) => module switch
    {
        AdmResBlock res => res.forward(h, emb),
        ModuleList<nn.Module> list => list.Aggregate(h, (acc, m) => Apply(m, acc, emb)),
        nn.Module<Tensor, Tensor> layer => layer.forward(h),
        _ => throw new InvalidOperationException($"unexpected module {module.GetName()}"),
    };
}

internal enum Resample { None, Up, Down }

/// <summary>
/// ADM's residual block (Dhariwal &amp; Nichol 2021, §3): GroupNorm → SiLU → [resample] → Conv3×3; the embedding's
/// projection is added, or with scale-shift norm applied as GroupNorm(h)·(1 + scale) + shift (AdaGN); then
/// SiLU → Dropout → zero-initialised Conv3×3; skip: identity (resampled) or a 1×1 conv. Up/down sampling inside the
/// block is nearest ×2 / average pooling, as BigGAN (Brock et al. 2019).
/// </summary>
internal sealed class AdmResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm in_norm;
    private readonly SafeConv2d in_conv;
    private readonly Linear emb_proj;
    private readonly GroupNorm out_norm;
    private readonly Dropout dropout;
    private readonly SafeConv2d out_conv;
    private readonly SafeConv2d? skip;
    private readonly bool _scaleShift;
    private readonly Resample _resample;

    public AdmResBlock(int cin, int cout, int embDim, double dropoutP, int groups, bool scaleShift, Resample resample)
        : base(nameof(AdmResBlock))
    {
        in_norm = Layers.GroupNorm(groups, cin);
        in_conv = new SafeConv2d(cin, cout, 3, 1, 1);
        emb_proj = nn.Linear(embDim, scaleShift ? 2 * cout : cout);
        out_norm = Layers.GroupNorm(groups, cout);
        dropout = nn.Dropout(dropoutP);
        out_conv = AdmUNet.ZeroModule(new SafeConv2d(cout, cout, 3, 1, 1));
        skip = cin != cout ? new SafeConv2d(cin, cout, 1) : null;
        (_scaleShift, _resample) = (scaleShift, resample);
        RegisterComponents();
    }

    Tensor Resampled(Tensor h) => _resample switch
    {
        Resample.Up => F.interpolate(h, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest),
        Resample.Down => F.avg_pool2d(h, 2),
        _ => h,
    };

    public override Tensor forward(Tensor x, Tensor emb)
    {
        var h = in_conv.forward(Resampled(F.silu(in_norm.forward(x))));
        var e = emb_proj.forward(F.silu(emb)).unsqueeze(-1).unsqueeze(-1);
        if (_scaleShift)
        {
            var parts = e.chunk(2, 1);
            h = out_norm.forward(h) * (parts[0] + 1) + parts[1];         // AdaGN (Dhariwal & Nichol 2021, §3)
        }
        else
            h = out_norm.forward(h + e);
        h = out_conv.forward(dropout.forward(F.silu(h)));
        var x0 = Resampled(x);
        return h + (skip?.forward(x0) ?? x0);
    }
}

/// <summary>Multi-head self-attention over H·W positions (GroupNorm, 1×1 qkv, softmax(QKᵀ/√d)V per head, zero-initialised projection), residual.</summary>
internal sealed class AdmAttention : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm;
    private readonly SafeConv2d qkv;
    private readonly SafeConv2d proj_out;
    private readonly int _heads;

    public AdmAttention(int channels, int heads, int groups) : base(nameof(AdmAttention))
    {
        norm = Layers.GroupNorm(groups, channels);
        qkv = new SafeConv2d(channels, 3 * channels, 1);
        proj_out = AdmUNet.ZeroModule(new SafeConv2d(channels, channels, 1));
        _heads = heads;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], c = x.shape[1], hh = x.shape[2], ww = x.shape[3], d = c / _heads, n = hh * ww;
        var parts = qkv.forward(norm.forward(x)).reshape(b * _heads, 3 * d, n).chunk(3, 1);    // each [B·heads, d, N]
        var w = softmax(bmm(parts[0].transpose(1, 2), parts[1]) * (1.0 / Math.Sqrt(d)), -1);  // [B·heads, N, N] (Vaswani et al. 2017, eq. 1)
        var h = bmm(parts[2], w.transpose(1, 2)).reshape(b, c, hh, ww);                       // Σ_m w[n, m] v[:, m]
        return x + proj_out.forward(h);
    }
}
