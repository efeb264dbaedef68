using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

[Collection(GlobalTorchRng.Name)]
public class ScoreMlpTests
{
    [Fact]
    public void DefaultIsThreeHiddenLayersOf256On2D()
    {
        using var model = new ScoreMlp();
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias", "net.6.weight", "net.6.bias"],
            shapes.Keys);
        Assert.Equal([256L, 2 + 32], shapes["net.0.weight"]);
        Assert.Equal([2L, 256], shapes["net.6.weight"]);
    }

    [Theory]
    [InlineData(2, 256, 3)]
    [InlineData(5, 64, 1)]
    public void OutputIsFiniteWithTheInputsShape(int dim, int width, int depth)
    {
        using var model = new ScoreMlp(new ScoreMlpConfig(dim, width, depth));
        using var scope = NewDisposeScope();
        var y = model.forward(randn(7, dim), rand(7) * 1000);
        Assert.Equal([7L, dim], y.shape);
        Assert.True(isfinite(y).all().item<bool>());
        Assert.Equal(2 * (depth + 1), model.parameters().Count());
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndOutputs()
    {
        manual_seed(7);
        using var a = new ScoreMlp();
        manual_seed(7);
        using var b = new ScoreMlp();
        var sb = b.state_dict();
        Assert.All(a.state_dict(), kv => Assert.True(kv.Value.eq(sb[kv.Key]).all().item<bool>(), kv.Key));
        using var _ = no_grad();
        var x = randn(4, 2);
        var t = tensor(new float[] { 0f, 1f, 500f, 999f });
        Assert.True(a.forward(x, t).eq(b.forward(x, t)).all().item<bool>());
    }

    [Fact]
    public void DependsOnTAndRejectsBadShapes()
    {
        using var model = new ScoreMlp();
        using var _ = no_grad();
        var x = zeros(2, 2);
        Assert.False(model.forward(x, tensor(new float[] { 0f, 0f }))
            .allclose(model.forward(x, tensor(new float[] { 100f, 100f }))));
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 3), zeros(2)));
        Assert.Throws<ArgumentException>(() => model.forward(zeros(2, 2), zeros(3)));
        Assert.Throws<ArgumentException>(() => new ScoreMlp(new ScoreMlpConfig(HiddenLayers: 0)));
        Assert.Throws<ArgumentException>(() => new ScoreMlp(new ScoreMlpConfig(TimeEmbedDim: 3)));
    }
}
