using Langevin.Data;
using Langevin.Energy;
using Langevin.Methods;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary><see cref="ComposedSampling"/> called directly: the product of two Gaussian energies by the own sampler and by AIS, and the temperatures.</summary>
public class ComposedSamplingTests(ITestOutputHelper output)
{
    static readonly double[] Mu1 = [1, 0], Mu2 = [-1, 2];
    const double S1 = 1, S2 = 0.5;

    static AnalyticEnergyModel Model(double[] mu, double s) => new(AnalyticEnergyModel.Gaussian(mu, s), [2], (-6, 6));

    /// <summary>N(μ₁, a I)·N(μ₂, b I) ∝ N(μ, I/λ) with λ = 1/a + 1/b, μ = (μ₁/a + μ₂/b)/λ.</summary>
    static (double[] Mean, double Precision) Product(double a, double b) =>
        ([(Mu1[0] / a + Mu2[0] / b) / (1 / a + 1 / b), (Mu1[1] / a + Mu2[1] / b) / (1 / a + 1 / b)], 1 / a + 1 / b);

    void AssertMoments(Tensor x, double[] mean, double variance, double effectiveN, double varianceTolerance)
    {
        using var m = x.mean([0]);
        using var v = x.var([0]);
        double se = Math.Sqrt(variance / effectiveN);
        output.WriteLine($"mean ({m[0].item<double>():F4}, {m[1].item<double>():F4}) vs ({mean[0]:F4}, {mean[1]:F4}) ± {se:F4}; " +
                         $"var ({v[0].item<double>():F4}, {v[1].item<double>():F4}) vs {variance:F4}");
        for (int d = 0; d < 2; d++)
        {
            Assert.InRange(m[d].item<double>(), mean[d] - 4 * se, mean[d] + 4 * se);
            Assert.InRange(v[d].item<double>(), variance * (1 - varianceTolerance), variance * (1 + varianceTolerance));
        }
    }

    [Fact]
    public void TheOwnSamplerOnTwoGaussianEnergiesSamplesTheProductGaussian()
    {
        // ULA with step h = ε²/2 on a Gaussian of precision λ has the stationary variance 1/(λ(1 − hλ/2)) exactly (its AR(1) recursion)
        using var a = Model(Mu1, S1);
        using var b = Model(Mu2, S2);
        var (mu, lambda) = Product(S1 * S1, S2 * S2);                                        // (−0.6, 1.6), λ = 5
        double h = 0.1 * 0.1 / 2, variance = 1 / (lambda * (1 - h * lambda / 2));
        var gen = new Generator(11);
        int reported = 0;
        const int n = 5000;
        using var r = ComposedSampling.Run([a, b], n, new ComposedSamplingSettings(), gen, k => reported = k);
        Assert.Equal(400, r.Steps);                                                         // the first model's SampleSteps
        Assert.Equal(400, reported);
        Assert.Null(r.Annealing);
        Assert.Equal(new long[] { n, 2 }, r.Samples.shape);
        Assert.Equal(DeviceType.CPU, r.Samples.device_type);
        AssertMoments(r.Samples, mu, variance, n, 4 * Math.Sqrt(2.0 / n));
        // a control: either factor alone is far off the product's mean
        Assert.True(Math.Abs(Mu1[0] - mu[0]) > 30 * Math.Sqrt(variance / n) && Math.Abs(Mu2[1] - mu[1]) > 30 * Math.Sqrt(variance / n));
    }

    [Fact]
    public void AnnealingAtGivenTemperaturesSamplesTheTemperedProductAndItsNormaliser()
    {
        // exp(−E₁/T₁ − E₂/T₂) = N(μ₁, T₁s₁² I)·N(μ₂, T₂s₂² I) unnormalised; its integral over the plane (the box holds it all) is
        // (2πa)(2πb)/(2π(a + b)) · exp(−|μ₁ − μ₂|²/2(a + b)) in 2-D, a = T₁s₁², b = T₂s₂²
        const double t1 = 2, t2 = 0.5;
        using var ma = Model(Mu1, S1);
        using var mb = Model(Mu2, S2);
        double a = t1 * S1 * S1, b = t2 * S2 * S2, d2 = Math.Pow(Mu1[0] - Mu2[0], 2) + Math.Pow(Mu1[1] - Mu2[1], 2);
        var (mu, lambda) = Product(a, b);
        double logZ = Math.Log(2 * Math.PI * a * b / (a + b)) - d2 / (2 * (a + b));
        var gen = new Generator(5);
        int levels = 0;
        const int n = 2000;
        var settings = new ComposedSamplingSettings(CompositionSampler.Annealed, Temperatures: [t1, t2], Annealing: new AnnealingSettings(Levels: 100));
        Assert.Equal(100, ComposedSampling.ProgressTotal(ma, settings));
        using var r = ComposedSampling.Run([ma, mb], n, settings, gen, k => levels = k);
        Assert.Equal(100, levels);
        Assert.Null(r.Steps);
        var report = r.Annealing!;
        output.WriteLine($"log Z {report.LogNormaliser:F4} ({logZ:F4}); ESS {report.Ess:F0}, {report.Resamplings} resamplings, acceptance {report.Acceptance:F3}");
        Assert.Equal(new[] { t1, t2 }, report.Temperatures);
        Assert.Equal((n, 0, 100, 2), (report.Particles, report.Quench, report.Settings.Levels, report.Settings.MalaSteps));
        // MALA is exact for its target; resampling duplicates particles, so allow for ~n/4 independent draws
        AssertMoments(r.Samples, mu, 1 / lambda, n / 4.0, 0.15);
        Assert.InRange(report.LogNormaliser, logZ - 0.1, logZ + 0.1);
        // a quench of the own (cold, T = 1) sampler then moves the samples to the untempered product, ULA's variance
        var (mu1, lambda1) = Product(S1 * S1, S2 * S2);
        double h = 0.1 * 0.1 / 2;
        using var q = ComposedSampling.Run([ma, mb], n, settings with { Quench = 300 }, gen);
        Assert.Equal(300, q.Annealing!.Quench);
        AssertMoments(q.Samples, mu1, 1 / (lambda1 * (1 - h * lambda1 / 2)), n, 0.1);
    }

    [Fact]
    public void AFittedTemperatureIsTheMaximumLikelihoodOneOnTheModelsTrainingData()
    {
        // exp(−|x|²/2T) is N(0, T I): on the plane its likelihood of the data is maximal at T̂ = mean |x|²/2 exactly (the box
        // ±20 is ten standard deviations wide for 8gaussians' T̂ ≈ 4)
        using var quadratic = new AnalyticEnergyModel(x => x.square().sum([1]) / 2, [2], (-20, 20), data: "8gaussians");
        using var other = Model(Mu1, S1);
        using var data = DataSources.Load("8gaussians", new DataOptions(Seed: 0, Limit: ComposedSampling.FitPoints));
        double exact = data.X.to(float64).square().sum([1]).mean().item<double>() / 2;
        var t = ComposedSampling.FitTemperatures([quadratic, other], [null, 0.7], CPU);
        output.WriteLine($"T = {t[0].Value:G6}, exact {exact:G6}");
        Assert.True(t[0].Fitted);
        Assert.Equal((ComposedSampling.FitPoints, "8gaussians"), (t[0].FitPoints, t[0].FitData));
        Assert.Equal(exact, t[0].Value, exact * 1e-3);
        Assert.Equal(new ModelTemperature(0.7), t[1]);
        // one temperature stands for every model
        Assert.All(ComposedSampling.FitTemperatures([quadratic, other], [1.5], CPU), m => Assert.Equal(new ModelTemperature(1.5), m));
    }

    [Fact]
    public void BadCompositionsAreOneLineErrors()
    {
        using var a = Model(Mu1, S1);
        using var image = new AnalyticEnergyModel(x => x.square().flatten(1).sum([1]), [1, 4, 4], (-1, 1));
        var gen = new Generator(1);
        Assert.False(ComposedSampling.CanFitTemperature(image));
        Assert.True(ComposedSampling.CanFitTemperature(a));
        Assert.Throws<UsageException>(() => ComposedSampling.FitTemperatures([image], null, CPU));
        Assert.Throws<UsageException>(() => ComposedSampling.FitTemperatures([a, a], [1, 2, 3], CPU));
        Assert.Throws<UsageException>(() => ComposedSampling.FitTemperatures([a], [0.0], CPU));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a, image], 4, new ComposedSamplingSettings(), gen));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a], 4, new ComposedSamplingSettings(Particles: 8), gen));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a], 4, new ComposedSamplingSettings(Steps: 0), gen));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a], 4, new ComposedSamplingSettings(CompositionSampler.Annealed, Steps: 5), gen));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a], 4, new ComposedSamplingSettings(CompositionSampler.Annealed, Particles: 0), gen));
        Assert.Throws<UsageException>(() => ComposedSampling.Run([a], 0, new ComposedSamplingSettings(), gen));
    }
}
