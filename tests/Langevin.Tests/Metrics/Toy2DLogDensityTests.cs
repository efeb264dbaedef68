using Langevin.Data;
using Langevin.Metrics;
using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class Toy2DLogDensityTests
{
    static Tensor Grid(double lo, double hi, int n, out double cell)
    {
        cell = (hi - lo) / n;
        var c = linspace(lo + cell / 2, hi - cell / 2, n, dtype: ScalarType.Float64);
        var (gx, gy) = (c.repeat_interleave(n), c.repeat(n));
        return stack([gx, gy], 1);
    }

    [Theory]
    [InlineData("8gaussians")]
    [InlineData("rings")]
    [InlineData("checkerboard")]
    public void DensityIntegratesToOne(string name)
    {
        using var scope = NewDisposeScope();
        var grid = Grid(-5, 5, 800, out double cell);
        double mass = Toy2DLogDensity.Evaluate(name, grid).exp().sum().item<double>() * cell * cell;
        Assert.InRange(mass, 0.995, 1.005);
    }

    [Fact]
    public void MixtureDensityEqualsTheMixtureScoreModelsLogDensity()
    {
        using var scope = NewDisposeScope();
        var toy = Toy2D.Get("25gaussians");
        using var mixture = new GaussianMixtureScore(Enumerable.Repeat(1.0, 25).ToArray(),
            toy.Modes!.Select(m => new double[] { m.X, m.Y }).ToArray(), toy.ComponentStd!.Value);
        using var g = new Generator(1);
        var x = toy.Sample(500, g).to(ScalarType.Float64);
        var expected = mixture.LogDensity(x) - Math.Log(2 * Math.PI);   // LogDensity omits −(D/2) log 2π
        var got = Toy2DLogDensity.Evaluate("25gaussians", x);
        Assert.True(got.sub(expected).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void RingDensityMatchesQuadratureOverTheAngle()
    {
        // p(x) = ¼ Σ_r (1/2π) ∫ N(x; r(cos θ, sin θ), σ² I) dθ, by the midpoint rule with 20,000 angles.
        double[][] points = [[0.7, 0.1], [1.5, -0.2], [-1.2, 1.8], [0, 0.05], [2.9, 0.4]];
        const double s = 0.08;
        foreach (var p in points)
        {
            double sum = 0;
            const int m = 20_000;
            foreach (double r in new[] { 0.75, 1.5, 2.25, 3.0 })
                for (int i = 0; i < m; i++)
                {
                    double th = 2 * Math.PI * (i + 0.5) / m;
                    double d2 = Math.Pow(p[0] - r * Math.Cos(th), 2) + Math.Pow(p[1] - r * Math.Sin(th), 2);
                    sum += Math.Exp(-d2 / (2 * s * s)) / (2 * Math.PI * s * s) / m / 4;
                }
            using var x = tensor(p, [1, 2]);
            double got = Toy2DLogDensity.Evaluate("rings", x).item<double>();
            Assert.Equal(Math.Log(sum), got, 6);
        }
    }

    [Fact]
    public void MeanLogLikelihoodOfExactSamplesIsAboveThatOfAWrongDistribution()
    {
        using var g = new Generator(2);
        using var exact = Toy2D.Get("8gaussians").Sample(4000, g);
        using var wide = exact.mul(1.3);
        Assert.True(Toy2DLogDensity.Mean("8gaussians", exact) > Toy2DLogDensity.Mean("8gaussians", wide) + 0.5);
    }
}
