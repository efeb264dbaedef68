using Langevin.Adversarial;
using Langevin.Energy;
using Langevin.Tests.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

[Collection(GlobalTorchRng.Name)]
public class ConvGanNetworksTests(ITestOutputHelper output)
{
    static long Count(nn.Module m) => m.parameters().Sum(p => p.numel());

    [Theory]
    [InlineData(28, 1)]
    [InlineData(28, 3)]
    [InlineData(32, 1)]
    [InlineData(32, 3)]
    public void NetworksMapLatentsToImagesAndImagesToOneLogitEach(int size, int channels)
    {
        manual_seed(1);
        using var g = new DcganGenerator(16, channels, size, baseChannels: 8);
        using var d = new DcganDiscriminator(channels, size, baseChannels: 8);
        using var sn = new DcganDiscriminator(channels, size, baseChannels: 8, spectralNorm: true);
        using var z = randn(5, 16);
        using var x = g.call(z);
        Assert.Equal([5L, channels, size, size], x.shape);
        Assert.True(x.abs().max().item<float>() <= 1f, "tanh output lies in [−1, 1]");
        Assert.True(x.std().item<float>() > 1e-3f, "the output is not constant");
        using var logits = d.call(x);
        using var snLogits = sn.call(x);
        Assert.Equal([5L], logits.shape);
        Assert.Equal([5L], snLogits.shape);
    }

    /// <summary>
    /// The minibatch-std map is, for item i, the mean over features and pixels of the population std of the features across i's
    /// group (items i, i + B/G, …): computed here by loops for B = 6 with G = 4, which falls to groups of 3 (the largest
    /// divisor of 6 up to 4). With the map, D's logit of one item depends on the others; without it, it does not.
    /// </summary>
    [Fact]
    public void TheMinibatchStdMapIsTheGroupsStdAndCouplesAnItemToItsBatch()
    {
        using var g = new Generator(2);
        using var h = randn([6, 2, 3, 3], generator: g, dtype: float64);
        using var y = DcganDiscriminator.MinibatchStd(h, 4);
        Assert.Equal([6L, 3L, 3L, 3L], y.shape);
        Assert.True(y.narrow(1, 0, 2).allclose(h, 0, 0));
        var v = h.data<double>().ToArray();
        double At(int b, int c, int i) => v[((b * 2) + c) * 9 + i];
        for (int item = 0; item < 6; item++)
        {
            int j = item % 2;                                   // groups of 3: {j, j + 2, j + 4}
            double sum = 0;
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 9; i++)
                {
                    double mean = (At(j, c, i) + At(j + 2, c, i) + At(j + 4, c, i)) / 3;
                    double var = (Math.Pow(At(j, c, i) - mean, 2) + Math.Pow(At(j + 2, c, i) - mean, 2) + Math.Pow(At(j + 4, c, i) - mean, 2)) / 3;
                    sum += Math.Sqrt(var + 1e-8);
                }
            using var map = y[item, 2];
            Assert.True(map.allclose(full_like(map, sum / 18), rtol: 1e-9, atol: 1e-12), $"item {item}");
        }

        manual_seed(3);
        using var plain = new DcganDiscriminator(1, 28, baseChannels: 8);
        using var withStd = new DcganDiscriminator(1, 28, baseChannels: 8, minibatchStdGroup: 4);
        using var x = randn([4, 1, 28, 28], generator: g);
        using var changed = x.clone();
        using (no_grad()) changed[3].mul_(3);
        using var _ = no_grad();
        Assert.True(plain.call(x)[0].allclose(plain.call(changed)[0], 0, 0), "without the map an item's logit is its own");
        Assert.False(withStd.call(x)[0].allclose(withStd.call(changed)[0], 0, 0), "with it, another item of the group moves it");
    }

    [Fact]
    public void OtherSizesAreArgumentExceptions()
    {
        Assert.Throws<ArgumentException>(() => new DcganGenerator(16, 1, 30));
        Assert.Throws<ArgumentException>(() => new DcganDiscriminator(1, 30));
    }

    [Fact]
    public void InitialisationIsDcgans()
    {
        manual_seed(2);
        using var g = new DcganGenerator(100, 1, 28);
        foreach (var (name, p) in g.named_parameters())
        {
            using var scope = NewDisposeScope();
            double mean = p.mean().item<float>(), std = p.numel() > 1 ? p.std().item<float>() : 0;
            if (name.EndsWith("bias")) Assert.Equal(0.0, p.abs().max().item<float>());
            else if (name.Contains("bn")) { Assert.InRange(mean, 0.99, 1.01); Assert.InRange(std, 0.01, 0.03); }
            else { Assert.InRange(mean, -0.005, 0.005); Assert.InRange(std, 0.019, 0.021); }
        }
    }

    [Theory]
    [InlineData(28)]
    [InlineData(32)]
    public void SpectralNormalisationBoundsEveryLayerAfterTwentyTrainingForwards(int size)
    {
        manual_seed(3);
        using var d = new DcganDiscriminator(3, size, spectralNorm: true, timeConditioned: true);
        d.train();
        using var x = randn(4, 3, size, size);
        using var t = rand(4);
        for (int i = 0; i < 20; i++)
        {
            using var scope = NewDisposeScope();
            d.Forward(x, t);
        }
        d.eval();   // reading Weight in training mode would run one more power iteration
        var layers = d.modules().Where(m => m is SpectralConv2d or SpectralLinear).ToList();
        Assert.Equal(4, layers.Count);
        foreach (var m in layers)
        {
            using var scope = NewDisposeScope();
            var w = (m is SpectralConv2d conv ? conv.Weight : ((SpectralLinear)m).Weight).detach();
            double sigma = linalg.svdvals(w.flatten(1).to(float64)).max().item<double>();
            output.WriteLine($"{m.GetType().Name} [{string.Join(", ", w.shape)}]: σ_max {sigma:F4}");
            Assert.InRange(sigma, 0.95, 1.05);
        }
    }

    /// <summary>max |a − b| / max |b|, NaN counted as a failure.</summary>
    static double RelativeError(Tensor a, Tensor reference) =>
        ((a.to(float64) - reference).abs().max() / reference.abs().max()).nan_to_num(nan: 1e9).item<double>();

    [Theory]
    [InlineData(28, 1, 8, false)]
    [InlineData(28, 3, 16, true)]
    [InlineData(32, 1, 16, false)]
    [InlineData(32, 3, 8, true)]
    public void GradientsReachEveryParameterOfBothNetworksAndMatchFloat64(int size, int channels, int baseChannels, bool spectralNorm)
    {
        manual_seed(4);
        using var g = new DcganGenerator(16, channels, size, baseChannels);
        using var d = new DcganDiscriminator(channels, size, baseChannels, spectralNorm);
        // the reference: the same networks in float64, where libtorch does not use oneDNN
        using var g64 = new DcganGenerator(16, channels, size, baseChannels);
        using var d64 = new DcganDiscriminator(channels, size, baseChannels, spectralNorm);
        g64.load_state_dict(g.state_dict()); d64.load_state_dict(d.state_dict());
        g64.to(float64); d64.to(float64);
        foreach (var m in new nn.Module[] { g, d, g64, d64 }) m.train();
        using var z = randn(4, 16, dtype: float64);
        using (var scope = NewDisposeScope())
        {
            d.call(g.call(z.to(float32))).sum().backward();
            d64.call(g64.call(z)).sum().backward();
        }
        var reference = g64.named_parameters().Concat(d64.named_parameters()).ToDictionary(p => p.name, p => p.parameter.grad!);
        double worst = 0;
        foreach (var (name, p) in g.named_parameters().Concat(d.named_parameters()))
        {
            using var scope = NewDisposeScope();
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>(), $"{name}'s gradient is not finite");
            Assert.True(p.grad.abs().max().item<float>() > 0, $"{name}'s gradient is zero");
            double err = RelativeError(p.grad, reference[name]);
            worst = Math.Max(worst, err);
            Assert.True(err < 1e-3, $"{name}'s float32 gradient is {err:E2} off float64's");
        }
        output.WriteLine($"{g.parameters().Count() + d.parameters().Count()} parameters, worst relative error vs float64 {worst:E2}");
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(64, 1)]
    [InlineData(8, 3)]
    [InlineData(3, 24)]
    [InlineData(8, 32)]
    public void PaddedConvolutionHasFloat64sInputGradientForAnyOutputChannels(long inChannels, long outChannels)
    {
        // libtorch 2.10's float32 conv2d backward-data is wrong when the output channels are not a multiple of 16
        manual_seed(6);
        using var scope = NewDisposeScope();
        var x64 = randn(4, inChannels, 28, 28, dtype: float64);
        var w64 = randn(outChannels, inChannels, 4, 4, dtype: float64);
        var b64 = randn(outChannels, dtype: float64);
        var x = x64.to(float32).requires_grad_();
        var xr = x64.clone().requires_grad_();
        var y = Langevin.Models.Convolution.Conv2d(x, w64.to(float32), b64.to(float32), 2, 1);
        var yr = nn.functional.conv2d(xr, w64, b64, strides: [2, 2], padding: [1, 1]);
        Assert.Equal(yr.shape, y.shape);
        var gy = randn_like(yr);
        y.backward([gy.to(float32)]);
        yr.backward([gy]);
        double forward = RelativeError(y, yr), backward = RelativeError(x.grad!, xr.grad!);
        output.WriteLine($"{inChannels} → {outChannels}: forward {forward:E2}, input gradient {backward:E2}");
        Assert.True(forward < 1e-5 && backward < 1e-5);
    }

    [Fact]
    public void ConditionalDiscriminatorTakesXtAndTime()
    {
        manual_seed(5);
        const int c = 3;
        using var d = new DcganDiscriminator(c, 32, baseChannels: 8, extraChannels: c, timeConditioned: true);
        using var x = randn(4, 2 * c, 32, 32);
        using var t1 = full(4, 0.1f);
        using var t2 = full(4, 0.7f);
        using var a = d.Forward(x, t1);
        using var b = d.Forward(x, t2);
        Assert.Equal([4L], a.shape);
        output.WriteLine($"logits at t = 0.1: {string.Join(", ", a.data<float>())}; at t = 0.7: {string.Join(", ", b.data<float>())}");
        Assert.True((a - b).abs().min().item<float>() > 1e-6f, "every logit moves with t");
        Assert.Throws<ArgumentException>(() => d.call(x));
        using var plain = new DcganDiscriminator(c, 32, baseChannels: 8, extraChannels: c);
        Assert.Throws<ArgumentException>(() => plain.Forward(x, t1));
        Assert.Equal([4L], plain.call(x).shape);
    }

    [Fact]
    public void ParameterCountsAtBaseChannels64For28By28Greyscale()
    {
        using var g = new DcganGenerator(100, 1, 28);
        using var d = new DcganDiscriminator(1, 28);
        using var dt = new DcganDiscriminator(1, 28, extraChannels: 1, timeConditioned: true);
        output.WriteLine($"G (latent 100): {Count(g):N0}; D: {Count(d):N0}; DD-GAN D (x_t, t): {Count(dt):N0}");
        // G: linear 100·12544 (no bias before a batch norm), bn 512, deconv 256·128·16, bn 256, deconv 128·64·16, bn 128, conv 64·9 + 1
        Assert.Equal(100L * 12544 + 512 + 256 * 128 * 16 + 256 + 128 * 64 * 16 + 128 + 64 * 9 + 1, Count(g));
        // D: conv 1·64·16 + 64, conv 64·128·16 + 128, conv 128·256·9 + 256, linear 256·49 + 1
        Assert.Equal(64L * 16 + 64 + 64 * 128 * 16 + 128 + 128 * 256 * 9 + 256 + 256 * 49 + 1, Count(d));
        Assert.Equal(Count(d) + 64 * 16 + 64 * 64 + 64, Count(dt));
    }
}
