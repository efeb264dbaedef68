using Langevin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

#pragma warning disable IDE1006 // snake_case fields: TorchSharp's state-dict keys

namespace Langevin.Guidance;

/// <summary>
/// The noisy classifier of Dhariwal &amp; Nichol 2021 (§4, App. … "the downsampling trunk of the U-Net with an attention
/// pool"): <c>forward(x [B,C,H,W], t [B])</c> → K logits. Sinusoidal(t) → MLP; conv_in; per level NumResBlocks residual
/// blocks with the time embedding (+ attention at the given resolutions) and a downsampling; a middle block
/// (res, attention, res); GroupNorm, SiLU and an attention pool (<see cref="AttentionPool"/>) to the logits.
/// </summary>
public sealed class NoisyClassifierUNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential temb;
    private readonly SafeConv2d conv_in;
    private readonly ModuleList<nn.Module> down;
    private readonly ModuleList<nn.Module> mid;
    private readonly GroupNorm norm_out;
    private readonly AttentionPool pool;
    private readonly int _embedInput;

    public NoisyClassifierUNet(long[] itemShape, int classes, int baseChannels = 32, int[]? mults = null, int resBlocks = 2, int[]? attention = null)
        : base(nameof(NoisyClassifierUNet))
    {
        mults ??= [1, 2, 2];
        attention ??= [7];
        int channels = (int)itemShape[0], resolution = (int)itemShape[1], tembDim = 4 * baseChannels, groups = 8;
        _embedInput = baseChannels;
        temb = nn.Sequential(nn.Linear(baseChannels, tembDim), nn.SiLU(), nn.Linear(tembDim, tembDim));
        conv_in = new SafeConv2d(channels, baseChannels, 3, 1, 1);
        down = new ModuleList<nn.Module>();
        int ch = baseChannels, res = resolution;
        for (int level = 0; level < mults.Length; level++)
        {
            for (int i = 0; i < resBlocks; i++)
            {
                down.Add(new ResBlock(ch, baseChannels * mults[level], tembDim, 0, groups));
                ch = baseChannels * mults[level];
                if (attention.Contains(res)) down.Add(new AttnBlock(ch, groups));
            }
            if (level != mults.Length - 1)
            {
                if (res % 2 != 0) throw SettingException.About("classifier.mults", string.Join(",", mults), $"{resolution}×{resolution} images cannot be halved {mults.Length - 1} times");
                down.Add(new Downsample(ch));
                res /= 2;
            }
        }
        mid = new ModuleList<nn.Module>(new ResBlock(ch, ch, tembDim, 0, groups), new AttnBlock(ch, groups), new ResBlock(ch, ch, tembDim, 0, groups));
        norm_out = Layers.GroupNorm(groups, ch);
        pool = new AttentionPool(res * res, ch, Math.Max(1, ch / 32), classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var tembSilu = F.silu(temb.forward(TimeEmbedding.SinusoidalEmbedding(t, _embedInput).to_type(x.dtype)));
        var h = conv_in.forward(x);
        foreach (var m in down.Concat(mid))
            h = m is ResBlock block ? block.forward(h, tembSilu) : ((nn.Module<Tensor, Tensor>)m).forward(h);
        return pool.forward(F.silu(norm_out.forward(h))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// ADM's attention pool (CLIP's AttentionPool2d): the mean of the H·W features is prepended as a token, a learned
/// positional embedding is added, multi-head attention runs over the tokens and the mean token's output, projected,
/// is the result.
/// </summary>
public sealed class AttentionPool : nn.Module<Tensor, Tensor>
{
    private readonly Parameter positional_embedding;
    private readonly SafeConv2d qkv;   // 1×1 over the token sequence seen as [B, C, T, 1]
    private readonly Linear c_proj;
    private readonly int _heads;

    public AttentionPool(int positions, int channels, int heads, int outputs) : base(nameof(AttentionPool))
    {
        if (channels % heads != 0) throw new ArgumentException($"channels {channels} must divide into {heads} heads");
        _heads = heads;
        positional_embedding = nn.Parameter(randn(channels, positions + 1) / Math.Sqrt(channels));
        qkv = new SafeConv2d(channels, 3 * channels, 1);
        c_proj = nn.Linear(channels, outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1];
        var tokens = x.reshape(b, c, -1);
        tokens = cat([tokens.mean([2], keepdim: true), tokens], 2) + positional_embedding.to_type(x.dtype);   // [B, C, 1 + HW]
        long n = tokens.shape[2], d = c / _heads;
        var parts = qkv.forward(tokens.unsqueeze(-1)).squeeze(-1).reshape(b * _heads, 3 * d, n).chunk(3, 1);  // [B·heads, d, N] each
        var weights = softmax(matmul(parts[0].transpose(1, 2), parts[1]) / Math.Sqrt(d), -1);              // [B·heads, N, N]
        var attended = matmul(parts[2], weights.transpose(1, 2)).reshape(b, c, n);                          // [B, C, N]
        return c_proj.forward(attended.select(2, 0)).MoveToOuterDisposeScope();
    }
}

/// <summary>The noisy classifier for points: concat(x (+ Fourier features), sinusoidal(t)) → hidden SiLU layers → K logits.</summary>
public sealed class NoisyClassifierMlp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential net;
    private readonly int _fourier;
    const int EmbedDim = 32;

    public NoisyClassifierMlp(int dataDim, int classes, int width = 128, int depth = 3, int fourier = 0) : base(nameof(NoisyClassifierMlp))
    {
        _fourier = fourier;
        net = ScoreMlp.SiLUStack(dataDim * (1 + 2 * fourier) + EmbedDim, width, depth, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var input = cat([ScoreMlp.WithFourierFeatures(x, _fourier), TimeEmbedding.SinusoidalEmbedding(t, EmbedDim).to_type(x.dtype)], 1);
        return net.forward(input).MoveToOuterDisposeScope();
    }
}
