using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

public class DiffusionTasksTests(ITestOutputHelper output)
{
    [Fact]
    public void InversionThenEulerGivesTheDataBack()
    {
        using var mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4);
        using var gen = new Generator(2);
        using var scope = NewDisposeScope();
        var plan = SamplingPlan.Edm(400);
        var x0 = mixture.Sample(64, gen);
        var latent = DiffusionTasks.Invert(mixture, x0, plan.Sigmas, plan.InitialScale);
        // the latent is (close to) unit Gaussian, and Euler from it returns x0
        output.WriteLine($"latent std {latent.std().item<double>():F4}");
        Assert.InRange(latent.std().item<double>(), 0.8, 1.2);
        var back = DiffusionSamplers.Euler(mixture, latent * plan.InitialScale, plan.Sigmas);
        double error = (back - x0).abs().max().item<double>(), mean = (back - x0).abs().mean().item<double>();
        output.WriteLine($"reconstruction error: max {error:E3}, mean {mean:E3}");   // measured 5.9e-2, Euler both ways, 400 steps
        Assert.True(error < 0.1, $"max reconstruction error {error}");
        Assert.True(mean < 0.02, $"mean reconstruction error {mean}");
    }

    [Fact]
    public void SlerpHitsTheEndsAndKeepsTheNormOfOrthogonalUnitLatents()
    {
        using var scope = NewDisposeScope();
        var z0 = tensor(new double[] { 1, 0, 0, 0 }).reshape(1, 4);
        var z1 = tensor(new double[] { 0, 1, 0, 0 }).reshape(1, 4);
        var path = DiffusionTasks.Slerp(z0, z1, [0, 0.25, 0.5, 1]);
        Assert.Equal(new long[] { 4, 4 }, path.shape);
        Assert.True(path[0].allclose(z0[0], 0, 1e-12));
        Assert.True(path[3].allclose(z1[0], 0, 1e-12));
        var norms = path.square().sum([1]).sqrt();
        Assert.True(norms.allclose(ones_like(norms), 0, 1e-12), "slerp stays on the sphere");
        Assert.Equal(Math.Cos(Math.PI / 8), path[1, 0].item<double>(), 12);
    }

    [Fact]
    public void ReplacementInpaintingDrawsTheConditional()
    {
        // Components far apart in x: given x near −1.5, y is N(0.5, 0.4²) to within the other component's weight.
        using var mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4);
        using var gen = new Generator(9);
        using var scope = NewDisposeScope();
        const int n = 2000;
        var observed = stack([full([n], -1.5, float64), zeros([n], float64)], 1);
        var mask = stack([ones([n], float64), zeros([n], float64)], 1);
        var plan = SamplingPlan.Edm(200);
        var init = randn([n, 2], generator: gen, dtype: float64) * plan.InitialScale;
        var x = DiffusionTasks.Inpaint(mixture, observed, mask, init, plan.Sigmas, gen);
        Assert.True(x[.., 0].eq(-1.5).all().item<bool>(), "the known coordinate is kept exactly");
        double mean = x[.., 1].mean().item<double>(), std = x[.., 1].std().item<double>();
        output.WriteLine($"inpainted y: mean {mean:F4} (conditional 0.5), std {std:F4} (0.4)");
        Assert.Equal(0.5, mean, 0.08);
        Assert.InRange(std, 0.3, 0.5);
    }
}
