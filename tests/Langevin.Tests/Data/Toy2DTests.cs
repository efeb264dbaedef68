using Langevin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class Toy2DTests
{
    const int N = 40_000;

    static float[] Points(string name, int n = N, ulong seed = 1)
    {
        using var gen = new Generator(seed);
        using var x = Toy2D.Get(name).Sample(n, gen);
        Assert.Equal(ScalarType.Float32, x.dtype);
        Assert.Equal(new long[] { n, 2 }, x.shape);
        var data = x.data<float>().ToArray();
        Assert.All(data, v => Assert.True(float.IsFinite(v)));
        return data;
    }

    // Binomial proportion within 4.5 standard errors: fails by chance about once in 10^5 runs per check.
    static void AssertFraction(double expected, long count, long n, string what)
    {
        double se = Math.Sqrt(expected * (1 - expected) / n);
        double got = (double)count / n;
        Assert.True(Math.Abs(got - expected) < 4.5 * se, $"{what}: fraction {got:F4}, expected {expected:F4} ± {4.5 * se:F4}");
    }

    static void AssertNear(double expected, double got, double tol, string what) =>
        Assert.True(Math.Abs(got - expected) < tol, $"{what}: {got:G5}, expected {expected:G5} ± {tol:G3}");

    static (double Mx, double My, double MeanSq) Moments(float[] p)
    {
        double sx = 0, sy = 0, sq = 0; int n = p.Length / 2;
        for (int i = 0; i < n; i++) { sx += p[2 * i]; sy += p[2 * i + 1]; sq += p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1]; }
        return (sx / n, sy / n, sq / n);
    }

    [Fact]
    public void NamesAreTheSevenBuiltIns()
    {
        Assert.Equal(["checkerboard", "swissroll", "moons", "8gaussians", "25gaussians", "rings", "pinwheel"], Toy2D.Names);
        Assert.Same(Toy2D.Get("moons"), Toy2D.Get("MOONS"));
    }

    [Fact]
    public void UnknownNameIsAUsageErrorListingTheNames()
    {
        var e = Assert.ThrowsAny<UsageException>(() => Toy2D.Get("spirals"));
        Assert.Contains("spirals", e.Message);
        foreach (var name in Toy2D.Names) Assert.Contains(name, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void SamplesAreReproducibleForASeedAndDifferAcrossSeeds()
    {
        foreach (var name in Toy2D.Names)
        {
            Assert.Equal(Points(name, 500, 7), Points(name, 500, 7));
            Assert.NotEqual(Points(name, 500, 7), Points(name, 500, 8));
        }
    }

    [Fact]
    public void CheckerboardSquareNumbersTheEightDataSquares()
    {
        Assert.Equal(0, Toy2D.CheckerboardSquare(-3, -3));
        Assert.Equal(1, Toy2D.CheckerboardSquare(-3, 1));
        Assert.Equal(2, Toy2D.CheckerboardSquare(-1, -1));
        Assert.Equal(7, Toy2D.CheckerboardSquare(3.9f, 3.9f));
        Assert.Equal(-1, Toy2D.CheckerboardSquare(-3, -1));     // a gap square
        Assert.Equal(-1, Toy2D.CheckerboardSquare(4f, 0.5f));   // outside (half-open)
        Assert.Equal(-1, Toy2D.CheckerboardSquare(float.NaN, 0));
        var all = new HashSet<int>();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                all.Add(Toy2D.CheckerboardSquare(-3 + 2 * i, -3 + 2 * j));
        Assert.Equal([-1, 0, 1, 2, 3, 4, 5, 6, 7], all.Order());
    }

    [Fact]
    public void CheckerboardIsUniformOnItsEightSquares()
    {
        var p = Points("checkerboard");
        var counts = new long[8];
        for (int i = 0; i < N; i++)
        {
            int sq = Toy2D.CheckerboardSquare(p[2 * i], p[2 * i + 1]);
            Assert.True(sq >= 0, $"point ({p[2 * i]}, {p[2 * i + 1]}) is on no data square");
            counts[sq]++;
        }
        for (int s = 0; s < 8; s++) AssertFraction(1.0 / 8, counts[s], N, $"square {s}");
        var (mx, my, msq) = Moments(p);
        AssertNear(0, mx, 0.06, "mean x");
        AssertNear(0, my, 0.06, "mean y");
        // Uniform within squares: E[x²] over [-4,4] is 16/3 per coordinate.
        AssertNear(32.0 / 3, msq, 0.2, "E|x|²");
    }

    [Theory]
    [InlineData("8gaussians", 8, 4 / 1.414, 0.5 / 1.414)]
    [InlineData("25gaussians", 25, double.NaN, 0.05 / 2.828)]
    public void GaussianMixturesHaveEqualModesAndTheStatedStd(string name, int k, double radius, double std)
    {
        var toy = Toy2D.Get(name);
        Assert.Equal(k, toy.Modes!.Count);
        Assert.Equal(std, toy.ComponentStd!.Value, 5);
        if (!double.IsNaN(radius)) Assert.All(toy.Modes, m => Assert.Equal(radius, Math.Sqrt(m.X * m.X + m.Y * m.Y), 4));

        var p = Points(name);
        var counts = new long[k];
        double sq = 0;
        for (int i = 0; i < N; i++)
        {
            int best = 0; double bestD = double.MaxValue;
            for (int j = 0; j < k; j++)
            {
                double dx = p[2 * i] - toy.Modes[j].X, dy = p[2 * i + 1] - toy.Modes[j].Y, d = dx * dx + dy * dy;
                if (d < bestD) { bestD = d; best = j; }
            }
            counts[best]++;
            sq += bestD;
        }
        for (int j = 0; j < k; j++) AssertFraction(1.0 / k, counts[j], N, $"{name} mode {j}");
        AssertNear(std, Math.Sqrt(sq / (2 * N)), 0.02 * std, $"{name} component std");
        var (mx, my, _) = Moments(p);
        AssertNear(0, mx, 0.05, "mean x");
        AssertNear(0, my, 0.05, "mean y");
    }

    [Fact]
    public void MoonsMatchTheirClosedFormMean()
    {
        Assert.Null(Toy2D.Get("moons").Modes);
        var (mx, my, _) = Moments(Points("moons"));
        // Upper moon mean (0, 2/π), lower (1, 1/2 − 2/π); average (1/2, 1/4); ×2 + (−1, −0.2) → (0, 0.3).
        AssertNear(0, mx, 0.04, "mean x");
        AssertNear(0.3, my, 0.03, "mean y");
    }

    [Fact]
    public void SwissRollMatchesItsClosedFormMean()
    {
        var (mx, my, _) = Moments(Points("swissroll"));
        // t ~ U[1.5π, 4.5π]: E[t cos t] = 6π/3π = 2, E[t sin t] = 2/(3π); divided by 5.
        AssertNear(0.4, mx, 0.06, "mean x");
        AssertNear(2 / (3 * Math.PI) / 5, my, 0.06, "mean y");
    }

    [Fact]
    public void RingsHaveFourEqualRings()
    {
        var p = Points("rings");
        var counts = new long[4];
        for (int i = 0; i < N; i++)
        {
            double r = Math.Sqrt(p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1]);
            counts[Math.Clamp((int)Math.Round(r / 0.75) - 1, 0, 3)]++;
        }
        for (int j = 0; j < 4; j++) AssertFraction(0.25, counts[j], N, $"ring {j}");
        var (_, _, msq) = Moments(p);
        AssertNear(0.5625 * 7.5 + 2 * 0.0064, msq, 0.06, "E|x|²");   // E r² + 2σ²
    }

    [Fact]
    public void PinwheelMatchesItsSecondMoment()
    {
        var (mx, my, msq) = Moments(Points("pinwheel"));
        AssertNear(0, mx, 0.05, "mean x");
        AssertNear(0, my, 0.05, "mean y");
        AssertNear(4 * (1 + 0.09 + 0.01), msq, 0.08, "E|x|²");     // |x|² = 4|f|², f = (1 + 0.3ε, 0.1ε)
    }
}
