using Langevin.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

/// <summary>
/// The networks' float32 gradients against float64's. libtorch 2.10's oneDNN gets conv2d's input gradient wrong (at times
/// NaN) in float32 when the output channels are not a multiple of 16 on some CPUs (AMD EPYC with AVX-512); every conv
/// here goes through <see cref="Convolution.Conv2d"/>, which pads them. On a CPU without the bug these pass as well.
/// </summary>
[Collection(GlobalTorchRng.Name)]
public class SafeConvolutionTests(ITestOutputHelper output)
{
    static double RelativeError(Tensor a, Tensor b) =>
        (a.to(float64) - b.to(float64)).norm().item<double>() / Math.Max(b.to(float64).norm().item<double>(), 1e-30);

    [Theory]
    [InlineData(8, 1)]    // 8 channels throughout: the U-Net that went NaN at its second step
    [InlineData(32, 3)]   // the reference widths: only conv_out (32 → 3) is not a multiple of 16
    public void AUNetsFloat32GradientsAreFloat64s(int channels, int imageChannels)
    {
        manual_seed(4);
        var config = new UNetConfig(imageChannels, imageChannels, 16, channels, [1, 2], 1, [], 0, GroupNormGroups: 8);
        using var net = new UNet(config);
        using var net64 = new UNet(config);
        net64.load_state_dict(net.state_dict());
        net64.to(float64);
        using var g = new Generator(2);
        using var x = randn([4, imageChannels, 16, 16], generator: g);
        using var t = tensor(new float[] { 10, 200, 500, 900 });
        var y = net.call(x, t);
        using var gy = randn(y.shape, float32, null, false, g);
        y.backward([gy]);
        net64.call(x.to(float64), t).backward([gy.to(float64)]);
        var reference = net64.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        double worst = 0;
        double scale = reference.Values.Max(g => g.norm().item<double>());
        foreach (var (name, p) in net.named_parameters())
        {
            if (reference[name].norm().item<double>() < 1e-9 * scale) continue;   // zero in exact arithmetic (attention's key bias)
            double err = RelativeError(p.grad!, reference[name]);
            Assert.True(double.IsFinite(err) && err < 1e-3, $"{name}'s float32 gradient is {err:E2} off float64's");
            worst = Math.Max(worst, err);
        }
        output.WriteLine($"U-Net {channels} channels, {imageChannels} → {imageChannels}: worst relative gradient error {worst:E2}");
    }

    /// <summary>Every channel count, kernel and stride the networks here use, in float32 and bfloat16, against float64: output, input and weight gradients.</summary>
    [Theory]
    [InlineData("float32", 1e-5)]
    [InlineData("bfloat16", 2e-2)]
    public void TheConvolutionIsConv2dForAnyChannelsKernelAndStride(string dtypeName, double tolerance)
    {
        var dtype = dtypeName == "float32" ? float32 : bfloat16;
        using var g = new Generator(2);
        var bad = new List<string>();
        foreach (int cin in new[] { 1, 3, 8, 24, 48 })
        foreach (int cout in new[] { 1, 3, 8, 24, 32 })
        foreach (int k in new[] { 1, 3, 4 })
        foreach (int stride in new[] { 1, 2 })
        {
            using var scope = NewDisposeScope();
            var x = randn([4, cin, 14, 14], generator: g).to(dtype).requires_grad_(true);
            using var conv = new SafeConv2d(cin, cout, k, stride, k / 2);
            conv.to(dtype);
            var y = conv.call(x);
            var gy = randn(y.shape, float32, null, false, g).to(dtype);
            y.backward([gy]);
            var x64 = x.detach().to(float64).requires_grad_(true);
            var w64 = conv.Weight.detach().to(float64).requires_grad_(true);
            var y64 = nn.functional.conv2d(x64, w64, conv.state_dict()["bias"].to(float64), strides: [stride, stride], padding: [k / 2, k / 2]);
            y64.backward([gy.to(float64)]);
            double e = RelativeError(y, y64), ex = RelativeError(x.grad!, x64.grad!), ew = RelativeError(conv.Weight.grad!, w64.grad!);
            if (!(e < tolerance && ex < tolerance && ew < tolerance)) bad.Add($"{cin}→{cout} k{k} s{stride}: y {e:E1} dx {ex:E1} dW {ew:E1}");
        }
        Assert.True(bad.Count == 0, $"{dtypeName} convolutions off float64: {string.Join("; ", bad)}");
    }

    [Fact]
    public void TheLayerKeepsNnConv2dsParametersNamesAndInitialisation()
    {
        manual_seed(9);
        using var plain = nn.Conv2d(5, 3, 3, 1, 1);
        manual_seed(9);
        using var safe = new SafeConv2d(5, 3, 3, 1, 1);
        Assert.Equal(["weight", "bias"], safe.state_dict().Keys);
        Assert.True(plain.weight!.eq(safe.Weight).all().item<bool>());
        using var x = randn(2, 5, 8, 8);
        Assert.True((plain.call(x) - safe.call(x)).abs().max().item<float>() < 1e-6);
    }
}
