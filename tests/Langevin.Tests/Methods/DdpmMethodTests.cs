using Langevin.Data;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Methods;

public class DdpmMethodTests(ITestOutputHelper output)
{
    static double OnSquares(Tensor x)
    {
        var pts = x.to(float32).data<float>().ToArray();
        int on = 0;
        for (int i = 0; i < pts.Length / 2; i++) if (Toy2D.CheckerboardSquare(pts[2 * i], pts[2 * i + 1]) >= 0) on++;
        return on / (pts.Length / 2.0);
    }

    /// <summary>The sampler's own error on the checkerboard: DDIM 50 (leading) and EDM-Heun 18 over the exact score.</summary>
    [Theory]
    [InlineData("ddim", 50, 0.97)]
    [InlineData("edm", 18, 0.97)]
    public void DefaultSamplersOnTheExactCheckerboardScoreLandOnTheSquares(string sampler, int steps, double min)
    {
        using var scope = NewDisposeScope();
        var exact = UniformSquaresScore.Checkerboard();
        using var gen = new Generator(8);
        var sigmas = sampler == "ddim"
            ? SamplingSigmas.FromSpacing(new VpDiscreteSchedule(), steps, "leading")
            : SamplingSigmas.Karras(steps, 0.002, 80);
        var x = randn([1000, 2], generator: gen, dtype: float64) * Math.Sqrt(1 + sigmas[0] * sigmas[0]);
        var result = sampler == "ddim" ? DiffusionSamplers.Euler(exact, x, sigmas) : DiffusionSamplers.Heun(exact, x, sigmas);
        double on = OnSquares(result);
        output.WriteLine($"{sampler} {steps}: {on:P1} on the squares");
        Assert.True(on >= min, $"{sampler} {steps}: {on:P1} on the squares");
    }

    static TrainConfig Tiny(string method, string prediction = "eps") => new()
    {
        Settings = method switch
        {
            "ddpm" => new DdpmConfig { SampleSteps = 4, Prediction = prediction },
            "edm" => new EdmConfig { SampleSteps = 4 },
            _ => new SdeConfig { SampleSteps = 4, Prediction = prediction },
        },
        Data = "test",
        Steps = 1,
        Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 },
    };

    [Fact]
    public void EdmResolvesSigmaDataFromTheDataAndDdpmLeavesItUnset()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(1);
        var data = randn([4000, 2], generator: gen) * 1.7;
        var edm = MethodRegistry.Resolve(Tiny("edm"), data, gen);
        Assert.InRange(edm.SettingsAs<EdmConfig>().SigmaData!.Value, 1.65, 1.75);
        Assert.Equal(Tiny("ddpm").Settings, MethodRegistry.Resolve(Tiny("ddpm"), data, gen).Settings);
        var json = TrainConfig.FromJson(edm.ToJson(), "test");
        Assert.Equal(edm.Settings, json.Settings);
    }

    [Theory]
    [InlineData("ddpm", "eps")]
    [InlineData("ddpm", "v")]
    [InlineData("edm", "eps")]
    [InlineData("sde", "eps")]
    public void LossIsFiniteAndSamplesHaveTheDataShape(string method, string prediction)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(2);
        manual_seed(0);
        var data = randn([64, 2], generator: gen);
        var config = MethodRegistry.Resolve(Tiny(method, prediction), data, gen);
        using var m = (DiffusionMethod)MethodRegistry.Create(config, [2]);
        Assert.True(double.IsFinite(m.Loss(data, gen).item<float>()));
        int nfe = 0;
        var x = m.Sample(10, gen, onStep: (done, _) => nfe = done);
        Assert.Equal([10, 2], x.shape);
        Assert.True(x.isfinite().all().item<bool>());
        Assert.Equal(m.FunctionEvaluations, nfe);
        Assert.Equal(method == "edm" ? 7 : 4, nfe);      // Heun: 2 per step but the last
        Assert.Equal(method == "ddpm", m is DdpmMethod);
        Assert.Equal(method == "sde", m is SdeMethod);
        Assert.True(m.SigmaMin > 0 && m.SigmaMax > m.SigmaMin);
        Assert.ThrowsAny<UsageException>(() => m.Sample(2, gen, sampler: new SamplerSettings("ald")));
        Assert.ThrowsAny<UsageException>(() => m.Sample(2, gen, noise: zeros(3, 2)));
    }

    [Fact]
    public void ImageSamplesAreClampedToTheDataRange()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        manual_seed(0);
        var config = Tiny("ddpm") with { Network = new NetworkConfig { Kind = "unet", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1 } };
        using var m = (DdpmMethod)MethodRegistry.Create(config, [1, 8, 8]);
        var x = m.Sample(3, gen);
        Assert.Equal([3, 1, 8, 8], x.shape);
        Assert.True(x.abs().max().item<float>() <= 1f);
    }

    [Fact]
    public void BadSettingsAreUsageErrors()
    {
        Assert.ThrowsAny<UsageException>(() => new DdpmConfig { Betas = "quadratic" }.Validate());
        Assert.ThrowsAny<UsageException>(() => new DdpmConfig { Prediction = "noise" }.Validate());
        Assert.ThrowsAny<UsageException>(() => new DdpmConfig { Loss = "vlb" }.Validate());
        Assert.ThrowsAny<UsageException>(() => new EdmConfig { SigmaData = 0 }.Validate());
    }
}
