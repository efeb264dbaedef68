using Langevin.Likelihood;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Tests.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Likelihood;

/// <summary><see cref="ProgressiveCoding"/> called directly on an exact mixture denoiser over the discrete VP process: its grids and their layout.</summary>
public class ProgressiveCodingTests
{
    static GaussianMixtureScore Mixture() => new([0.5, 0.5], [[-0.5, -0.5, -0.5, -0.5], [0.5, 0.5, 0.5, 0.5]], 0.1);

    [Fact]
    public void TheGridsColumnsAreEvenlySpacedTimestepsAndSteps()
    {
        using var mixture = Mixture();
        using var method = new AnalyticDenoisingModel(mixture, [1, 2, 2], new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule()));
        var coding = ProgressiveCoding.For(method);
        Assert.Equal(("fixed-large", 1, 1000), (coding.Variance, coding.Every, coding.Schedule.T));
        Assert.Equal([999, 888, 777, 666, 555, 444, 333, 222, 111, 0], coding.SnapshotTimesteps(10));
        Assert.Equal([0, 111, 222, 333, 444, 555, 666, 777, 888, 999], ProgressiveCoding.KeptSteps(1000, 10));
        Assert.Equal([0, 10, 19], ProgressiveCoding.KeptSteps(20, 3));
        Assert.Equal(20, coding.GenerationPlan(20).Steps);
        Assert.Equal(("fixed-small", 50), (ProgressiveCoding.For(method, "fixed-small", 50).Variance, ProgressiveCoding.For(method, "fixed-small", 50).Every));
        Assert.ThrowsAny<UsageException>(() => ProgressiveCoding.For(method, "learned"));               // a mixture learns no variance
        Assert.ThrowsAny<UsageException>(() => ProgressiveCoding.For(method, every: 0));
        using var edm = new AnalyticDenoisingModel(mixture, [1, 2, 2]);
        Assert.Throws<UsageException>(() => ProgressiveCoding.For(edm));
    }

    [Fact]
    public void TheDecompressionGridHoldsEachImagesPredictionsThenTheImage()
    {
        using var mixture = Mixture();
        using var method = new AnalyticDenoisingModel(mixture, [1, 2, 2], new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule()));
        var coding = ProgressiveCoding.For(method, every: 100);
        var gen = new Generator(8);
        using var x0 = mixture.Sample(6, gen).to(float32).reshape(6, 1, 2, 2).clamp(-1, 1);
        int reported = 0;
        using var curve = coding.Measure(x0, images: true, rows: 2, columns: 3, gen, k => reported = k);
        Assert.Equal(coding.MeasureEvaluations(true, 3), curve.Evaluations);
        Assert.Equal(curve.Evaluations, reported);
        Assert.Equal([999, 500, 0], curve.SnapshotTimesteps);
        using var grid = ProgressiveCoding.DecompressionGrid(curve, x0);
        Assert.Equal(new long[] { 2 * 4, 1, 2, 2 }, grid.shape);
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < 3; c++) Assert.Equal(0, (grid[r * 4 + c] - curve.Snapshots[c][r]).abs().max().item<float>());
            Assert.Equal(0, (grid[r * 4 + 3] - x0[r]).abs().max().item<float>());
        }
        // x̂₀ at t = 0 of an exact denoiser is (almost) the image itself
        Assert.True((grid[2] - x0[0]).abs().max().item<float>() < 0.05);
    }

    [Fact]
    public void ProgressiveGenerationEndsAtItsLastPrediction()
    {
        using var mixture = Mixture();
        using var method = new AnalyticDenoisingModel(mixture, [1, 2, 2], new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule()));
        var coding = ProgressiveCoding.For(method);
        int reported = 0;
        using var g = coding.Generate(rows: 3, steps: 20, columns: 3, new Generator(9), k => reported = k);
        Assert.Equal((20, 20), (g.Steps, reported));
        Assert.Equal([0, 10, 19], g.KeptSteps);
        Assert.Equal(new long[] { 3 * 4, 1, 2, 2 }, g.Grid.shape);
        for (int r = 0; r < 3; r++)
        {
            // the last step's x̂₀ and the sample agree (the last DDPM step adds no noise), and the sample lies in a mode
            Assert.True((g.Grid[r * 4 + 2] - g.Grid[r * 4 + 3]).abs().max().item<float>() < 0.1);
            Assert.InRange(Math.Abs(g.Grid[r * 4 + 3].mean().item<float>()), 0.35, 0.65);
        }
        Assert.Throws<UsageException>(() => coding.Generate(3, 1001, 3, new Generator(9)));
        Assert.Throws<UsageException>(() => coding.Generate(3, 0, 3, new Generator(9)));
    }
}
