using Langevin.IO;
using Langevin.Likelihood;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Tests.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Likelihood;

/// <summary><see cref="Dequantisation"/> and <see cref="DataLikelihood"/> called directly, against an analytic mixture's exact likelihood.</summary>
public class DataLikelihoodTests(ITestOutputHelper output)
{
    [Fact]
    public void DequantisationIsUniformWithinEachOfThe256Levels()
    {
        // every level k, 400 times, given as k/255·2 − 1 plus a shift below half a level (it rounds to k)
        const int repeats = 400;
        using var k = arange(256, float64).repeat(repeats);
        var gen = new Generator(8);
        using var images = (k / 255 * 2 - 1 + (rand(k.shape, float64, generator: gen) - 0.5) * 0.9 / 255 * 2).reshape(repeats, 4, 8, 8);
        using var y = Dequantisation.Uniform(images, gen);
        Assert.Equal(images.shape, y.shape);
        Assert.Equal(ScalarType.Float64, y.dtype);
        Assert.True(y.ge(-1).all().item<bool>() && y.lt(1).all().item<bool>(), "in [−1, 1)");
        // y lies in level k's bin [2k/256 − 1, 2(k + 1)/256 − 1): u = (y + 1)/2 · 256 − k ∈ [0, 1)
        using var u = ((y + 1) / 2 * 256).reshape(-1) - k;
        Assert.True(u.ge(0).all().item<bool>() && u.lt(1).all().item<bool>(), "each pixel stays in its level's bin");
        // and is uniform there: U[0, 1)'s mean ½ and variance 1/12, and its deciles each hold a tenth, in every level
        int n = (int)u.shape[0];
        double se = Math.Sqrt(1.0 / 12 / n);
        Assert.InRange(u.mean().item<double>(), 0.5 - 4 * se, 0.5 + 4 * se);
        Assert.InRange(u.var().item<double>(), 1.0 / 12 * 0.98, 1.0 / 12 * 1.02);
        using var byLevel = u.reshape(repeats, 256);
        using var deciles = (byLevel * 10).floor().to(int64);
        for (int d = 0; d < 10; d++)
        {
            using var share = deciles.eq(d).to(float64).mean();
            Assert.InRange(share.item<double>(), 0.1 - 4 * Math.Sqrt(0.09 / n), 0.1 + 4 * Math.Sqrt(0.09 / n));
        }
        using var lowLevelMean = byLevel[.., 0].mean();
        using var highLevelMean = byLevel[.., 255].mean();
        Assert.InRange(lowLevelMean.item<double>(), 0.5 - 4 * Math.Sqrt(1.0 / 12 / repeats), 0.5 + 4 * Math.Sqrt(1.0 / 12 / repeats));
        Assert.InRange(highLevelMean.item<double>(), 0.5 - 4 * Math.Sqrt(1.0 / 12 / repeats), 0.5 + 4 * Math.Sqrt(1.0 / 12 / repeats));
        // the same generator state gives the same points
        using var again = Dequantisation.Uniform(images, new Generator(3));
        using var twice = Dequantisation.Uniform(images, new Generator(3));
        output.WriteLine($"max |difference| of two draws from one seed: {(again - twice).abs().max().item<double>()}");
        Assert.Equal(0, (again - twice).abs().max().item<double>());
    }

    static (TempDir Dir, string Spec) MixtureData(GaussianMixtureScore mixture, int n)
    {
        var dir = new TempDir();
        using var x = mixture.Sample(n, new Generator(12));
        NpyFile.Write(dir.File("x.npy"), x.to(float32));
        return (dir, "npy:" + dir.File("x.npy"));
    }

    [Fact]
    public void TheProbabilityFlowOfAMixtureMatchesItsExactLikelihood()
    {
        using var mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4);
        var (dir, spec) = MixtureData(mixture, 50);
        using var _ = dir;
        var task = DataLikelihood.For(mixture, new SamplingProcess(SamplingProcess.Edm), new LikelihoodSettings(TraceEstimator.Exact, Items: 40));
        Assert.Equal(LikelihoodKind.ProbabilityFlow, task.Kind);
        Assert.Equal(0, task.ProgressTotal);
        int reported = 0;
        var r = Assert.IsType<FlowLikelihoodResult>(task.Measure(spec, k => reported = k));
        output.WriteLine($"bits/dim {r.BitsPerDim:F5} ± {r.BitsPerDimSe:F5}, exact {r.ExactBitsPerDim:F5}, NFE {r.Evaluations}");
        Assert.Equal((spec, 40, 2L, 0.002), (r.Data, r.Items, r.Dimensions, r.SigmaMin));
        Assert.True(r.Evaluations > 0 && reported == r.Evaluations);
        Assert.Equal(r.ExactBitsPerDim!.Value, r.BitsPerDim, 0.01 * Math.Abs(r.ExactBitsPerDim.Value));
        Assert.Equal(-r.MeanLogLikelihood / (2 * Math.Log(2)), r.BitsPerDim, 12);     // points: bits/dim = −log p/(D ln 2)
        Assert.True(r.BitsPerDimSe > 0);
    }

    [Fact]
    public void TheVariationalBoundOfAMixtureSitsJustAboveItsExactNegativeLogLikelihood()
    {
        using var mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4);
        var (dir, spec) = MixtureData(mixture, 40);
        using var _ = dir;
        var vp = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule());
        var task = DataLikelihood.For(mixture, vp, new LikelihoodSettings(VariationalBound: true, Items: 40));
        Assert.Equal((LikelihoodKind.VariationalBound, 1000, "fixed-large"), (task.Kind, task.ProgressTotal, task.BoundVariance));
        var r = Assert.IsType<VariationalBoundResult>(task.Measure(spec));
        output.WriteLine($"bound {r.BitsPerDim:F5} ± {r.BitsPerDimSe:F5} bits/dim, exact {r.ExactBitsPerDim:F5}, NFE {r.Evaluations}");
        Assert.Equal((1000, "fixed-large", (int?)null), (r.Evaluations, r.Variance, r.Timesteps));
        double exact = r.ExactBitsPerDim!.Value;
        Assert.True(r.BitsPerDim > exact - 3 * r.BitsPerDimSe, "a bound cannot sit below the truth");
        Assert.True(r.BitsPerDim - exact < 0.05 * Math.Abs(exact) + 3 * r.BitsPerDimSe, $"gap {r.BitsPerDim - exact}");
        // K random timesteps estimate the sum with K evaluations
        var estimate = Assert.IsType<VariationalBoundResult>(
            DataLikelihood.For(mixture, vp, new LikelihoodSettings(VariationalBound: true, Items: 40, VlbTimesteps: 5)).Measure(spec));
        Assert.Equal((5, (int?)5), (estimate.Evaluations, estimate.Timesteps));
    }

    [Fact]
    public void TheFlowOfAProcessUsesItsSigmaRangeAndPrior()
    {
        var schedule = new VpDiscreteSchedule();
        var vp = DataLikelihood.Flow(new SamplingProcess(SamplingProcess.Vp, schedule), TraceEstimator.Gaussian, 3);
        Assert.Equal(new ProbabilityFlowLikelihood(schedule.Sigma(0), schedule.Sigma(schedule.T - 1), 1, TraceEstimator.Gaussian, 3), vp);
        Assert.Equal(new ProbabilityFlowLikelihood(0.002, 80, 0), DataLikelihood.Flow(new SamplingProcess(SamplingProcess.Edm)));
        Assert.Equal(new ProbabilityFlowLikelihood(0.01, 50, 0), DataLikelihood.Flow(new SamplingProcess(SamplingProcess.Ve, SigmaMin: 0.01, SigmaMax: 50)));
    }

    [Fact]
    public void SettingsThatDoNotApplyAndMismatchedDataAreOneLineErrors()
    {
        using var mixture = new GaussianMixtureScore([1.0], [[0.0, 0.0]], 0.5);
        var edm = new SamplingProcess(SamplingProcess.Edm);
        var vp = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule());
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(VariationalBound: true)));
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(MinTime: 0.1)));
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(VlbTimesteps: 3)));
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, vp, new LikelihoodSettings(VariationalBound: true, VlbTimesteps: 0)));
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(Items: 0)));
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(Probes: 0)));
        Assert.Throws<DataException>(() => DataLikelihood.For(mixture, edm, new LikelihoodSettings(Items: 2)).Measure("shapes:8"));
        // a mixture learns no variance
        Assert.ThrowsAny<UsageException>(() => DataLikelihood.For(mixture, vp, new LikelihoodSettings(VariationalBound: true, VlbVariance: "learned", Items: 2)).Measure("8gaussians"));
    }
}
