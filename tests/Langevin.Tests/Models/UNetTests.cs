using System.Runtime.CompilerServices;
using System.Text.Json;
using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

/// <summary>Tests that seed torch's global generator share this collection so they never run concurrently.</summary>
[CollectionDefinition(Name)]
public sealed class GlobalTorchRng
{
    public const string Name = "global torch RNG";
}

[Collection(GlobalTorchRng.Name)]
public class UNetTests
{
    static string FixturePath([CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "reference_unet_keys.txt");

    /// <summary>Key and shape of every entry of the PyTorch peer's <c>ReferenceUNet().state_dict()</c>, in order.</summary>
    static List<(string Key, long[] Shape)> PeerStateDict() =>
        File.ReadAllLines(FixturePath())
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' '))
            .Select(p => (p[0], p[1].Split('x').Select(long.Parse).ToArray()))
            .ToList();

    [Fact]
    public void ReferenceStateDictKeysAndShapesEqualThePyTorchPeers()
    {
        using var model = new UNet(UNetConfig.Reference);
        var ours = model.state_dict().Select(kv => (kv.Key, kv.Value.shape)).ToList();
        var peer = PeerStateDict();
        Assert.Equal(268, peer.Count);
        Assert.Equal(peer.Select(p => p.Key), ours.Select(o => o.Key));
        foreach (var ((key, shape), (_, ourShape)) in peer.Zip(ours))
            Assert.True(shape.SequenceEqual(ourShape), $"{key}: peer [{string.Join(",", shape)}], ours [{string.Join(",", ourShape)}]");
    }

    [Fact]
    public void ReferenceHasThePeersParameterCount()
    {
        using var model = new UNet(UNetConfig.Reference);
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(1_623_169, count);
        Assert.Equal(PeerStateDict().Sum(p => p.Shape.Aggregate(1L, (a, b) => a * b)), count);
    }

    [Fact]
    public void GroupNormsStartAtOneAndZero()
    {
        using var model = new UNet(UNetConfig.Reference);
        var norms = model.named_parameters().Where(p => p.name.Contains("norm")).ToList();
        Assert.Equal(PeerStateDict().Count(p => p.Key.Contains("norm")), norms.Count);
        foreach (var (name, p) in norms)
            Assert.True(p.eq(name.EndsWith(".weight") ? 1f : 0f).all().item<bool>(), name);
    }

    /// <summary>Mirrors deterministic_parameters() in make_reference_unet_fixtures.py.</summary>
    static void SetDeterministicParameters(nn.Module model)
    {
        using var _ = no_grad();
        int j = 0;
        foreach (var (key, p) in model.state_dict())
        {
            using var scope = NewDisposeScope();
            var k = arange(p.numel(), dtype: ScalarType.Float64);
            var s = sin(k * 12.9898 + 78.233 * j) * 43758.5453;
            var u = s - floor(s) - 0.5;
            var v = p.dim() > 1 ? u * Math.Sqrt(12.0 / (p.numel() / p.shape[0]))
                : key.Contains("norm") && key.EndsWith(".weight") ? 1.0 + u / 2
                : u / 5;
            p.copy_(v.reshape(p.shape).to_type(ScalarType.Float32));
            j++;
        }
    }

    [Fact]
    public void ReferenceComputesWhatThePyTorchPeerComputes()
    {
        using var model = new UNet(UNetConfig.Reference);
        SetDeterministicParameters(model);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // x[b, 0, i, j] = sin(0.1 (28 i + j) + b), t = [3, 700], as in the fixture script.
        var n = arange(28 * 28, dtype: ScalarType.Float64);
        var x = stack([sin(n * 0.1), sin(n * 0.1 + 1)]).reshape(2, 1, 28, 28).to_type(ScalarType.Float32);
        var y = model.forward(x, tensor(new float[] { 3f, 700f }));
        var expected = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(FixturePath())!, "reference_unet_output.txt"))
            .Where(l => l.Length > 0).Select(l => float.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var peer = tensor(expected).reshape(2, 1, 28, 28);
        double maxDiff = (y - peer).abs().max().item<float>();
        Assert.True(maxDiff < 1e-4, $"max |ours − peer| = {maxDiff:g3} (peer output std {peer.std().item<float>():g3})");
    }

    [Theory]
    [InlineData(1, 28)]
    [InlineData(3, 32)]
    [InlineData(3, 16)]
    public void FreshNetworkOutputIsFiniteWithTheInputsShape(int channels, int resolution)
    {
        var config = channels == 1 && resolution == 28 ? UNetConfig.Reference : UNetConfig.ForImages(channels, resolution);
        using var model = new UNet(config);
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = randn(2, channels, resolution, resolution);
        var y = model.forward(x, tensor(new float[] { 0f, 999f }));
        Assert.Equal([2L, channels, resolution, resolution], y.shape);
        Assert.True(isfinite(y).all().item<bool>());
        Assert.True(y.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void TrainingStepGivesFiniteGradientsForEveryParameter()
    {
        // Small config: exercises the in-place SiLUs and the skip stack under autograd.
        var config = UNetConfig.ForImages(3, 16) with { BaseChannels = 16 };
        using var model = new UNet(config);
        model.train();
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 16, 16);
        var loss = model.forward(x, tensor(new float[] { 3f, 500f })).square().mean();
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, name);
            Assert.True(isfinite(p.grad!).all().item<bool>(), name);
        }
        Assert.True(model.named_parameters().Count(p => p.parameter.grad!.abs().sum().item<float>() > 0) > 100);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndOutputs()
    {
        var config = UNetConfig.ForImages(1, 16) with { BaseChannels = 16 };
        manual_seed(1234);
        using var a = new UNet(config);
        manual_seed(1234);
        using var b = new UNet(config);
        manual_seed(1235);
        using var c = new UNet(config);
        var sa = a.state_dict();
        var sb = b.state_dict();
        Assert.All(sa, kv => Assert.True(kv.Value.eq(sb[kv.Key]).all().item<bool>(), kv.Key));
        Assert.False(sa["conv_in.weight"].eq(c.state_dict()["conv_in.weight"]).all().item<bool>());

        a.eval(); b.eval();
        using var _ = no_grad();
        var x = randn(2, 1, 16, 16);
        var t = tensor(new float[] { 10f, 20f });
        Assert.True(a.forward(x, t).eq(b.forward(x, t)).all().item<bool>());
    }

    [Fact]
    public void TheSameNetworkAcceptsAnyFloatConditioning()
    {
        // NCSN conditions on a function of σ: negative and fractional values are fine.
        var config = UNetConfig.ForImages(1, 16) with { BaseChannels = 16 };
        using var model = new UNet(config);
        model.eval();
        using var _ = no_grad();
        var x = randn(3, 1, 16, 16);
        var y1 = model.forward(x, tensor(new double[] { -1150.0, 0.25, 575.6 }));   // float64 t
        var y2 = model.forward(x, tensor(new float[] { -1150f, 0.25f, 575.6f }));
        Assert.True(isfinite(y1).all().item<bool>());
        Assert.True(y1.allclose(y2, rtol: 1e-5, atol: 1e-6));
        Assert.False(y1[0].allclose(y1[1]));
    }

    [Fact]
    public void RejectsBadShapesAndConfigs()
    {
        using var model = new UNet(UNetConfig.ForImages(1, 16) with { BaseChannels = 16 });
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 3, 16, 16), zeros(2)));
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 1, 16, 16), zeros(3)));
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 1, 16, 16), zeros(2, 1)));
        Assert.Throws<ArgumentException>(() => new UNet(UNetConfig.Reference with { Resolution = 30 }));
        Assert.Throws<ArgumentException>(() => new UNet(UNetConfig.Reference with { GroupNormGroups = 5 }));
        Assert.Throws<ArgumentException>(() => new UNet(UNetConfig.Reference with { ChannelMults = [] }));
    }

    [Fact]
    public void ConfigRoundTripsThroughJsonWithValueEquality()
    {
        var config = UNetConfig.ForImages(3, 32);
        string json = JsonSerializer.Serialize(config);
        var back = JsonSerializer.Deserialize<UNetConfig>(json);
        Assert.Equal(config, back);
        Assert.Equal(config.GetHashCode(), back!.GetHashCode());
        Assert.NotEqual(config, config with { AttnResolutions = [16] });
        Assert.Equal(UNetConfig.Reference, UNetConfig.ForImages(1, 28) with { AttnResolutions = [7] });
    }
}
