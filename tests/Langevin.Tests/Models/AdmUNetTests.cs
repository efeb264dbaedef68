using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

public class AdmUNetTests
{
    static readonly AdmUNetConfig Fmnist = new(1, 1, 28, 32, [1, 2, 2], 2, [7], NumHeads: 4, Dropout: 0.1, GroupNormGroups: 8);
    static readonly AdmUNetConfig Cifar = new(3, 6, 32, 32, [1, 2, 2, 2], 1, [16, 8], NumHeads: 2, ScaleShiftNorm: false,
        ResblockUpdown: false, GroupNormGroups: 8);

    // Parameter counts of the layers (weights + biases).
    static long Conv(long i, long o, long k) => i * o * k * k + o;
    static long Lin(long i, long o) => i * o + o;
    static long Gn(long c) => 2 * c;
    static long Res(long i, long o, long emb, bool ss) =>
        Gn(i) + Conv(i, o, 3) + Lin(emb, ss ? 2 * o : o) + Gn(o) + Conv(o, o, 3) + (i != o ? Conv(i, o, 1) : 0);
    static long Attn(long c) => Gn(c) + Conv(c, 3 * c, 1) + Conv(c, c, 1);

    /// <summary>The ADM layout counted block by block (Dhariwal &amp; Nichol 2021; guided diffusion's UNetModel).</summary>
    static long ExpectedParameters(AdmUNetConfig c)
    {
        long mc = c.ModelChannels, emb = 4 * mc, n = Lin(mc, emb) + Lin(emb, emb) + Conv(c.InChannels, mc, 3);
        long Resample(long ch) => c.ResblockUpdown ? Res(ch, ch, emb, c.ScaleShiftNorm) : Conv(ch, ch, 3);
        var skips = new Stack<long>([mc]);
        long ch = mc; int res = c.Resolution;
        for (int level = 0; level < c.ChannelMults.Count; level++)
        {
            for (int i = 0; i < c.NumResBlocks; i++)
            {
                n += Res(ch, mc * c.ChannelMults[level], emb, c.ScaleShiftNorm);
                ch = mc * c.ChannelMults[level];
                if (c.AttnResolutions.Contains(res)) n += Attn(ch);
                skips.Push(ch);
            }
            if (level < c.ChannelMults.Count - 1) { n += Resample(ch); res /= 2; skips.Push(ch); }
        }
        n += 2 * Res(ch, ch, emb, c.ScaleShiftNorm) + Attn(ch);
        for (int level = c.ChannelMults.Count - 1; level >= 0; level--)
        {
            for (int i = 0; i <= c.NumResBlocks; i++)
            {
                n += Res(ch + skips.Pop(), mc * c.ChannelMults[level], emb, c.ScaleShiftNorm);
                ch = mc * c.ChannelMults[level];
                if (c.AttnResolutions.Contains(res)) n += Attn(ch);
            }
            if (level > 0) { n += Resample(ch); res *= 2; }
        }
        return n + Gn(ch) + Conv(ch, c.OutChannels, 3);
    }

    [Theory]
    [InlineData("fmnist")]
    [InlineData("cifar")]
    public void ParameterCountFollowsTheLayout(string which)
    {
        var config = which == "fmnist" ? Fmnist : Cifar;
        manual_seed(0);
        using var net = new AdmUNet(config);
        Assert.Equal(ExpectedParameters(config), net.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("fmnist")]
    [InlineData("cifar")]
    public void OutputHasTheRightShapeIsFiniteAndEveryParameterLearns(string which)
    {
        // Small versions of both (the test is about wiring, not size).
        var config = which == "fmnist" ? Fmnist with { ModelChannels = 16 } : Cifar with { ModelChannels = 16, ChannelMults = [1, 2], AttnResolutions = [16] };
        using var scope = NewDisposeScope();
        manual_seed(1);
        var net = new AdmUNet(config);
        var x = randn(2, config.InChannels, config.Resolution, config.Resolution);
        var t = tensor(new float[] { 3, 700 });
        var optimizer = optim.Adam(net.parameters(), 1e-3);
        for (int step = 0; step < 3; step++)    // zero-initialised output convs: gradients reach every layer from the 3rd step
        {
            optimizer.zero_grad();
            var y = net.forward(x, t);
            Assert.Equal([2, config.OutChannels, config.Resolution, config.Resolution], y.shape);
            Assert.True(y.isfinite().all().item<bool>());
            (y - x.repeat(1, config.OutChannels / config.InChannels, 1, 1)).square().mean().backward();
            if (step == 2)
                foreach (var (name, p) in net.named_parameters())
                    Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} gets no gradient");
            optimizer.step();
        }
    }

    [Fact]
    public void TheTimestepChangesTheOutput()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var net = new AdmUNet(Fmnist);
        using (no_grad()) foreach (var p in net.parameters()) p.add_(randn_like(p) * 0.02);   // leave the zero init
        net.eval();
        var x = randn(1, 1, 28, 28);
        var a = net.forward(x, tensor(new float[] { 10 }));
        var b = net.forward(x, tensor(new float[] { 900 }));
        Assert.True((a - b).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void InvalidShapesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => (Fmnist with { NumHeads = 3 }).Validate());
        Assert.Throws<ArgumentException>(() => (Fmnist with { Resolution = 30 }).Validate());
        Assert.Throws<ArgumentException>(() => (Fmnist with { GroupNormGroups = 48 }).Validate());
    }
}
