using Langevin.Data;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>Annealed Langevin dynamics on the exact score of the blurred checkerboard: the sampler's own error, without a network.</summary>
public class CheckerboardOracleTests
{
    [Fact]
    public void ExactScoreMatchesFiniteDifferences()
    {
        var m = UniformSquaresScore.Checkerboard();
        using var x = tensor(new double[] { -3.5, -3.2, 0.01, 1.99, -4.1, -4.05, 0.5, -1.5 }, [4, 2]);
        foreach (double sigma in new[] { 0.05, 0.5, 3.0 })
        {
            var s = m.Score(x, tensor(sigma, float64)).data<double>().ToArray();
            var xs = x.data<double>().ToArray();
            for (int i = 0; i < 4; i++)
                for (int d = 0; d < 2; d++)
                {
                    double h = 1e-5 * sigma;
                    var plus = (double[])xs.Clone(); plus[2 * i + d] += h;
                    var minus = (double[])xs.Clone(); minus[2 * i + d] -= h;
                    double fd = (LogP(plus[2 * i], plus[2 * i + 1], sigma) - LogP(minus[2 * i], minus[2 * i + 1], sigma)) / (2 * h);
                    Assert.True(Math.Abs(fd - s[2 * i + d]) < 1e-4 * Math.Max(1, Math.Abs(fd)), $"σ={sigma} point {i} dim {d}: fd {fd}, autograd {s[2 * i + d]}");
                }
        }
    }

    static double LogP(double x, double y, double sigma)
    {
        double p = 0;
        for (int col = 0; col < 4; col++)
            for (int row = 0; row < 4; row++)
                if ((col + row) % 2 == 0)
                    p += Mass(x, 2 * col - 4, sigma) * Mass(y, 2 * row - 4, sigma);
        return Math.Log(p);
        static double Mass(double u, double lo, double s) => Phi((lo + 2 - u) / s) - Phi((lo - u) / s);
        static double Phi(double z) { using var t = (tensor(z, float64) * -Math.Sqrt(0.5)).erfc() * 0.5; return t.item<double>(); }
    }

    [Fact]
    public void AnnealedLangevinWithTheExactScoreLandsOnTheSquares()
    {
        var m = UniformSquaresScore.Checkerboard();
        var sigmas = new GeometricSigmas(11.3, 0.01, 30);
        var sampler = new AnnealedLangevinSampler(sigmas, 100, NcsnV2Techniques.StepSize(sigmas, 100));
        using var gen = new Generator(4);
        const int n = 1000;
        using var x = sampler.Sample(m, randn([n, 2], generator: gen, dtype: float64) * 11.3, gen);
        var pts = x.to(float32).data<float>().ToArray();
        var counts = new int[8];
        int on = 0;
        for (int i = 0; i < n; i++) { int k = Toy2D.CheckerboardSquare(pts[2 * i], pts[2 * i + 1]); if (k >= 0) { on++; counts[k]++; } }
        Assert.True(on / (double)n >= 0.97, $"on the squares: {on / (double)n}");
        Assert.All(counts, c => Assert.InRange(c / (double)n, 0.125 - 0.035, 0.125 + 0.035));
    }
}
