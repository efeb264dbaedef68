using Langevin.Data;
using Langevin.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class ModeCoverageAndEvaluationTests
{
    static readonly Toy2D Eight = Toy2D.Get("8gaussians");

    [Fact]
    public void ExactEightGaussiansSamplesAreNearAndCoverAllModes()
    {
        using var g = new Generator(5);
        using var x = Eight.Sample(10_000, g);
        var r = ModeCoverage.Compute(x, Eight.Modes!, Eight.ComponentStd!.Value);
        // Within 3σ of an isotropic 2-D Gaussian: P(χ²₂ ≤ 9) = 1 − e^{−4.5} ≈ 0.9889.
        Assert.InRange(r.NearFraction, 1 - Math.Exp(-4.5) - 0.005, 1 - Math.Exp(-4.5) + 0.005);
        Assert.Equal(8, r.Covered);
        Assert.Equal(8, r.Modes);
        Assert.Equal(10_000, r.N);
        Assert.Equal(313, r.Threshold);   // ⌈10000 / 32⌉
        Assert.All(r.Counts, c => Assert.InRange(c, 1100, 1400));
    }

    [Fact]
    public void SamplesFromFourModesCoverFourOfEight()
    {
        using var g = new Generator(6);
        var modes = Eight.Modes!;
        double std = Eight.ComponentStd!.Value;
        var which = randint(0, 4, [4000], ScalarType.Int64, generator: g).mul(2);   // modes 0, 2, 4, 6
        var centres = tensor(modes.SelectMany(m => new[] { m.X, m.Y }).ToArray(), [8, 2]);
        using var x = centres.index_select(0, which).add(randn([4000, 2], generator: g).mul(std));
        var r = ModeCoverage.Compute(x, modes, std);
        Assert.Equal(4, r.Covered);
        Assert.True(r.NearFraction > 0.98);
        Assert.All(new[] { 1, 3, 5, 7 }, i => Assert.InRange(r.Counts[i], 0, 5));   // only rare far tails reach an empty mode
    }

    [Fact]
    public void AFewStraySamplesDoNotCoverAMode()
    {
        var modes = new List<(float X, float Y)> { (0, 0), (10, 0) };
        var pts = Enumerable.Repeat(new[] { 0f, 0f }, 99).Append([10f, 0f]).SelectMany(p => p).ToArray();
        using var x = tensor(pts, [100, 2]);
        var r = ModeCoverage.Compute(x, modes, 1.0);
        Assert.Equal(1.0, r.NearFraction);
        Assert.Equal([99, 1], r.Counts);
        Assert.Equal(1, r.Covered);   // threshold ⌈100 / 8⌉ = 13
        Assert.Equal(0.99 * Math.Log(0.99 * 2) + 0.01 * Math.Log(0.01 * 2), r.ReverseKl, 12);
    }

    /// <summary>The reverse KL of the mode histogram: ≈ 0 for exact samples (a multinomial's KL is ≈ (K − 1)/(2N)), log 2 for half the modes.</summary>
    [Fact]
    public void TheModeHistogramsReverseKlIsZeroForExactSamplesAndLogTwoForHalfTheModes()
    {
        using var g = new Generator(8);
        using var x = Eight.Sample(10_000, g);
        var exact = ModeCoverage.Compute(x, Eight.Modes!, Eight.ComponentStd!.Value);
        Assert.InRange(exact.ReverseKl, 0, 0.003);
        var modes = Eight.Modes!;
        var centres = tensor(modes.SelectMany(m => new[] { m.X, m.Y }).ToArray(), [8, 2]);
        using var half = centres.index_select(0, arange(0, 8, 2, ScalarType.Int64).repeat(250));   // 250 at each of modes 0, 2, 4, 6
        Assert.Equal(Math.Log(2), ModeCoverage.Compute(half, modes, Eight.ComponentStd!.Value).ReverseKl, 10);
        Assert.True(double.IsNaN(ModeCoverage.Compute(centres + 100, modes, 0.1).ReverseKl));
    }

    [Fact]
    public void EvaluationOfExactSamplesIsNearTheFloorAndOfABadSamplerIsNot()
    {
        using var g = new Generator(7);
        using var exact = Eight.Sample(1000, g);
        var good = PointSetEvaluation.Evaluate(exact, "8gaussians", null, seed: 3);
        Assert.Equal(["swd", "mmd2", "energy", "modes_near", "modes_covered", "modes_kl", "loglik"], good.Select(r => r.Metric));
        var byName = good.ToDictionary(r => r.Metric);
        Assert.Equal(8, byName["modes_covered"].Samples);
        Assert.Equal(8, byName["modes_covered"].Floor);
        Assert.True(byName["swd"].Samples < 3 * byName["swd"].Floor + 0.05);
        Assert.True(Math.Abs(byName["mmd2"].Samples) < 0.01);
        Assert.True(Math.Abs(byName["energy"].Samples) < 0.05);
        Assert.True(Math.Abs(byName["loglik"].Samples - byName["loglik"].Floor) < 0.15);   // both ≈ −entropy; MC sd ≈ 1.1/√1000 each

        using var blob = randn([1000, 2], generator: g);   // one Gaussian at the centre
        var bad = PointSetEvaluation.Evaluate(blob, "8gaussians", ["swd", "mmd", "energy", "modes"], seed: 3).ToDictionary(r => r.Metric);
        Assert.True(bad["swd"].Samples > 5 * bad["swd"].Floor);
        Assert.True(bad["mmd2"].Samples > 0.1);
        Assert.True(bad["energy"].Samples > 0.5);
        Assert.True(bad["modes_near"].Samples < 0.5);
        Assert.Equal(byName["swd"].Floor, bad["swd"].Floor);   // same seed, same reference and floor
    }

    [Fact]
    public void CheckerboardSupportIsOneForExactSamples()
    {
        var toy = Toy2D.Get("checkerboard");
        using var g = new Generator(8);
        using var exact = toy.Sample(500, g);
        var rows = PointSetEvaluation.Evaluate(exact, "checkerboard", ["support", "swd"], seed: 1);
        Assert.Equal(["support", "swd"], rows.Select(r => r.Metric));
        Assert.Equal(1.0, rows[0].Samples);
        Assert.Equal(1.0, rows[0].Floor);
    }

    [Fact]
    public void BadMetricsAndReferencesAreUsageErrors()
    {
        using var g = new Generator(9);
        using var x = Eight.Sample(100, g);
        var e = Assert.ThrowsAny<UsageException>(() => PointSetEvaluation.Evaluate(x, "8gaussians", ["swd", "fid"], 0));
        Assert.Contains("swd, mmd, energy, modes, support", e.Message);
        Assert.Contains("'fid'", e.Message);
        Assert.ThrowsAny<UsageException>(() => PointSetEvaluation.Evaluate(x, "moons", ["modes"], 0));
        Assert.ThrowsAny<UsageException>(() => PointSetEvaluation.Evaluate(x, "8gaussians", ["support"], 0));
        Assert.ThrowsAny<UsageException>(() => PointSetEvaluation.Evaluate(x, "no-such-data", null, 0));
        using var nan = full(10, 2, double.NaN);
        Assert.Throws<DataException>(() => PointSetEvaluation.Evaluate(nan, "8gaussians", null, 0));
        using var three = zeros(10, 3);
        Assert.Throws<DataException>(() => PointSetEvaluation.Evaluate(three, "8gaussians", null, 0));
    }

    [Fact]
    public void ANpyReferenceIsSubsampledAndMustHoldTwoN()
    {
        string dir = Path.Combine(Path.GetTempPath(), "langevin-eval-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var g = new Generator(10);
            using var refPts = Eight.Sample(500, g);
            string file = Path.Combine(dir, "ref.npy");
            Langevin.IO.NpyFile.Write(file, refPts);
            using var x = Eight.Sample(200, g);
            var rows = PointSetEvaluation.Evaluate(x, "npy:" + file, null, 0);
            Assert.Equal(["swd", "mmd2", "energy"], rows.Select(r => r.Metric));
            using var tooMany = Eight.Sample(300, g);
            var e = Assert.Throws<DataException>(() => PointSetEvaluation.Evaluate(tooMany, "npy:" + file, null, 0));
            Assert.Contains("score at most 250 samples", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
