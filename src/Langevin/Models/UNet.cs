using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

#pragma warning disable IDE1006 // snake_case fields = the PyTorch peer's state-dict keys

namespace Langevin.Models;

/// <summary>
/// DDPM-layout U-Net (Ho et al. 2020, App. B) conditioned on a scalar per sample: <c>forward(x [B,C,H,W], t [B])</c>
/// → [B, OutChannels, H, W]. t is any float: a DDPM step index (0..999), 1000·t for continuous time, or a function
/// of σ for NCSN/EDM (e.g. 250·ln σ); it goes through <see cref="TimeEmbedding.SinusoidalEmbedding"/>.
/// With <see cref="UNetConfig.Reference"/> the parameter names and shapes equal the PyTorch peer's state dict.
/// </summary>
public sealed class UNet : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential temb;
    private readonly ClassEmbedding? label_emb;
    private readonly SafeConv2d conv_in;
    private readonly ModuleList<nn.Module> down;
    private readonly ModuleList<nn.Module> mid;
    private readonly ModuleList<nn.Module> up;
    private readonly GroupNorm norm_out;
    private readonly SafeConv2d conv_out;

    /// <summary>The shape this network was built from.</summary>
    public UNetConfig Config { get; }

    /// <summary>Builds the network; parameters are drawn from torch's global generator (seed it with torch.manual_seed).</summary>
    public UNet(UNetConfig config) : base(nameof(UNet))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int tembDim = config.TimeEmbedDim, groups = config.GroupNormGroups, baseCh = config.BaseChannels;
        double p = config.Dropout;
        var mults = config.ChannelMults;

        temb = nn.Sequential(nn.Linear(config.TimeEmbedInputDim, tembDim), nn.SiLU(), nn.Linear(tembDim, tembDim));
        if (config.Classes > 0) label_emb = new ClassEmbedding(config.Classes, tembDim);
        conv_in = new SafeConv2d(config.InChannels, baseCh, 3, 1, 1);

        // Down path; record the channel count of every tensor pushed on the skip stack.
        down = new ModuleList<nn.Module>();
        var skipChannels = new Stack<int>();
        skipChannels.Push(baseCh);
        int ch = baseCh, res = config.Resolution;
        for (int level = 0; level < mults.Count; level++)
        {
            int cout = baseCh * mults[level];
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                down.Add(new ResBlock(ch, cout, tembDim, p, groups));
                ch = cout;
                if (config.AttnResolutions.Contains(res))
                    down.Add(new AttnBlock(ch, groups));
                skipChannels.Push(ch);
            }
            if (level != mults.Count - 1)
            {
                down.Add(new Downsample(ch));
                res /= 2;
                skipChannels.Push(ch);
            }
        }

        mid = new ModuleList<nn.Module>(
            new ResBlock(ch, ch, tembDim, p, groups), new AttnBlock(ch, groups), new ResBlock(ch, ch, tembDim, p, groups));

        // Up path: NumResBlocks + 1 ResBlocks per level, each eats one skip.
        up = new ModuleList<nn.Module>();
        for (int level = mults.Count - 1; level >= 0; level--)
        {
            int cout = baseCh * mults[level];
            for (int i = 0; i < config.NumResBlocks + 1; i++)
            {
                up.Add(new ResBlock(ch + skipChannels.Pop(), cout, tembDim, p, groups));
                ch = cout;
                if (config.AttnResolutions.Contains(res))
                    up.Add(new AttnBlock(ch, groups));
            }
            if (level != 0)
            {
                up.Add(new Upsample(ch));
                res *= 2;
            }
        }
        if (skipChannels.Count != 0)
            throw new InvalidOperationException("skip stack not balanced");

        norm_out = Layers.GroupNorm(groups, ch);
        conv_out = new SafeConv2d(ch, config.OutChannels, 3, 1, 1);
        RegisterComponents();
    }

    /// <param name="x">[B, InChannels, H, W], H and W divisible by 2^(levels − 1).</param>
    /// <param name="t">[B] conditioning value (any float dtype).</param>
    public override Tensor forward(Tensor x, Tensor t)
    {
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"x must be [B, {Config.InChannels}, H, W], got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var (label, classes) = ClassConditioning.Split(t);
        if (label.dim() != 1 || label.shape[0] != x.shape[0])
            throw new ArgumentException($"t must be [{x.shape[0]}] (or [{x.shape[0]}, 2] with classes), got [{string.Join(", ", t.shape)}]", nameof(t));
        // Every ResBlock applies SiLU to temb before its projection; do it once here.
        var embedding = TimeEmbedding.SinusoidalEmbedding(label, Config.TimeEmbedInputDim).to_type(x.dtype);
        var time = temb.forward(embedding);
        if (label_emb is not null) time = time + label_emb.Embed(classes, x.shape[0], x.device).to_type(time.dtype);   // ADM's emb + label_emb(y)
        var tembSilu = F.silu(time);
        var h = conv_in.forward(x);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var m in down)
        {
            switch (m)
            {
                case ResBlock block:
                    h = block.forward(h, tembSilu);
                    skips.Push(h);
                    break;
                case AttnBlock attn:
                    h = attn.forward(h);
                    skips.Pop();           // the attention output replaces its ResBlock's output
                    skips.Push(h);
                    break;
                case nn.Module<Tensor, Tensor> downsample:
                    h = downsample.forward(h);
                    skips.Push(h);
                    break;
            }
        }
        foreach (var m in mid)
            h = m is ResBlock block ? block.forward(h, tembSilu) : ((nn.Module<Tensor, Tensor>)m).forward(h);
        foreach (var m in up)
        {
            h = m is ResBlock block
                ? block.forward(cat([h, skips.Pop()], 1), tembSilu)
                : ((nn.Module<Tensor, Tensor>)m).forward(h);   // AttnBlock or Upsample
        }
        var output = conv_out.forward(F.silu(norm_out.forward(h), inplace: true));
        return scope.MoveToOuter(output);
    }
}
