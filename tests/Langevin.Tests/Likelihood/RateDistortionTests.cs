using Langevin.Likelihood;
using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Likelihood;

/// <summary>
/// DDPM's rate–distortion curve (Ho et al. 2020, §4.3) on Gaussian data N(μ, s² I) with its exact denoiser, where x̂₀ and
/// every KL term of the bound have closed forms.
/// </summary>
public class RateDistortionTests(ITestOutputHelper output)
{
    static readonly double[] Mu = [0.5, -0.3];
    const double S = 0.6;

    static GaussianMixtureScore Gaussian() => new([1.0], [Mu], S);

    /// <summary>
    /// E over x_t ~ q(x_t|x₀) of the bound's term at t ≥ 1 with reverse variance β_t, per item (summed over dimensions), in nats:
    /// ½[log β − log β̃ + β̃/β − 1 + c₀² E(x₀ − x̂₀)²/β] with x̂₀ − x₀ = (1 − w)(μ − x₀) + w σ n, w = s²/(s² + σ²).
    /// </summary>
    static double[] ExpectedTerm(VpDiscreteSchedule schedule, int t, double[,] x0)
    {
        double abar = schedule.AlphasCumprod[t], abarPrev = schedule.AlphasCumprod[t - 1], beta = schedule.Betas[t];
        double betaTilde = beta * (1 - abarPrev) / (1 - abar), c0 = beta * Math.Sqrt(abarPrev) / (1 - abar);
        double sigma = schedule.Sigma(t), w = S * S / (S * S + sigma * sigma);
        var result = new double[x0.GetLength(0)];
        for (int i = 0; i < result.Length; i++)
            for (int j = 0; j < 2; j++)
            {
                double error2 = Math.Pow((1 - w) * (Mu[j] - x0[i, j]), 2) + w * w * sigma * sigma;
                result[i] += 0.5 * (Math.Log(beta) - Math.Log(betaTilde) + betaTilde / beta - 1 + c0 * c0 * error2 / beta);
            }
        return result;
    }

    [Fact]
    public void OnGaussianDataTheCurveMatchesItsClosedForms()
    {
        using var gaussian = Gaussian();
        using var gen = new Generator(11);
        using var scope = NewDisposeScope();
        var schedule = new VpDiscreteSchedule(200, VpDiscreteSchedule.Cosine);   // any schedule: T = 200 keeps the test short
        int n = 1000;
        var x0 = gaussian.Sample(n, gen);
        var rd = new RateDistortion(new VariationalBound(schedule, Discretised: false));
        using var curve = rd.Measure(gaussian, x0, gen);
        Assert.Equal(schedule.T, curve.Evaluations);
        Assert.Equal(schedule.T, curve.Points.Count);

        // the rate only grows as t falls; every KL term is ≥ 0
        for (int i = 1; i < curve.Points.Count; i++) Assert.True(curve.Points[i].Rate >= curve.Points[i - 1].Rate);
        Assert.All(curve.Points.Where(p => p.Timestep > 0), p => Assert.True(p.Term >= 0, $"term at t = {p.Timestep}: {p.Term}"));
        Assert.Equal(curve.PriorRate, curve.Points[0].Rate);

        // distortion: at T − 1, x̂₀ ≈ μ so it is the data's RMS about μ; at t = 0 the posterior std s σ₀/√(s² + σ₀²)
        var data = x0.data<double>().ToArray();
        double rmsAboutMu = Math.Sqrt(Enumerable.Range(0, data.Length).Average(k => Math.Pow(data[k] - Mu[k % 2], 2)));
        Assert.Equal(rmsAboutMu, curve.Points[0].Distortion, 1e-3 * rmsAboutMu);
        Assert.Equal(curve.DataRms, curve.Points[0].Distortion, 0.01 * curve.DataRms);
        double sigma0 = schedule.Sigma(0), posteriorStd = S * sigma0 / Math.Sqrt(S * S + sigma0 * sigma0);
        output.WriteLine($"distortion at T−1 {curve.Points[0].Distortion:F4} (RMS about μ {rmsAboutMu:F4}); at 0 {curve.Points[^1].Distortion:F5} (posterior std {posteriorStd:F5})");
        Assert.Equal(posteriorStd, curve.Points[^1].Distortion, 0.05 * posteriorStd);

        // the total rate (the bound without its decoder term) against the closed-form sum of the expected terms
        var x = new double[n, 2];
        for (int i = 0; i < n; i++) { x[i, 0] = data[2 * i]; x[i, 1] = data[2 * i + 1]; }
        double bitsPerDim = 1 / (2 * Math.Log(2));
        double expected = curve.PriorRate + Enumerable.Range(1, schedule.T - 1).Sum(t => ExpectedTerm(schedule, t, x).Average()) * bitsPerDim;
        output.WriteLine($"total rate {curve.TotalRate:F5} bits/dim vs closed form {expected:F5}; decoder {curve.DecoderRate:F4}; bound {curve.Bound:F4}");
        Assert.Equal(expected, curve.TotalRate, 0.01 * expected);
        // and each term at a few t's against its own closed form
        foreach (int t in new[] { 1, 10, 50, 100 })
        {
            double term = curve.Points.Single(p => p.Timestep == t).Term, exact = ExpectedTerm(schedule, t, x).Average() * bitsPerDim;
            Assert.True(Math.Abs(term - exact) < 0.05 * exact, $"t = {t}: term {term} vs {exact}");
        }

        // the same as VariationalBound's total (independent x_t draws) minus the decoder, within Monte-Carlo error
        var (nats, _) = new VariationalBound(schedule, Discretised: false).Nats(gaussian, x0, gen);
        double vlb = nats.mean().item<double>() * bitsPerDim;
        output.WriteLine($"VariationalBound {vlb:F5} bits/dim vs rate + decoder {curve.Bound:F5}");
        Assert.Equal(vlb, curve.Bound, 0.015 * curve.TotalRate);   // the decoder term (a density, < 0) is of the same size: compare on the rate's scale
    }

    [Fact]
    public void EvaluatingEveryKthTimestepEstimatesTheSameCurve()
    {
        using var gaussian = Gaussian();
        using var scope = NewDisposeScope();
        var schedule = new VpDiscreteSchedule(200, VpDiscreteSchedule.Cosine);   // any schedule: T = 200 keeps the test short
        var x0 = gaussian.Sample(500, new Generator(2));
        var bound = new VariationalBound(schedule, Discretised: false);
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        using var exact = new RateDistortion(bound).Measure(gaussian, x0, g1);
        using var strided = new RateDistortion(bound, Every: 10).Measure(gaussian, x0, g2, snapshotTimesteps: [199, 133, 7], snapshotItems: 3);
        int[] evaluated = new RateDistortion(bound, Every: 10).EvaluatedTimesteps([133]);
        Assert.Equal(199, evaluated[0]);
        Assert.Equal(0, evaluated[^1]);
        Assert.Contains(133, evaluated);
        Assert.Equal(Enumerable.Range(0, 10).Reverse(), evaluated.TakeLast(10));
        Assert.Equal(evaluated.Length, strided.Evaluations);
        output.WriteLine($"total rate: every t {exact.TotalRate:F5}, every 10th {strided.TotalRate:F5} ({strided.Evaluations} NFE)");
        Assert.Equal(exact.TotalRate, strided.TotalRate, 0.03 * exact.TotalRate);
        // the same chain (the analytic model draws no noise): the points it shares are the same
        foreach (var p in strided.Points)
            Assert.Equal(exact.Points.Single(q => q.Timestep == p.Timestep).Distortion, p.Distortion, 1e-12);
        Assert.Equal(new[] { 199, 133, 7 }, strided.SnapshotTimesteps);
        Assert.Equal(3, strided.Snapshots.Length);
        Assert.Equal(new long[] { 3, 2 }, strided.Snapshots[0].shape);
        Assert.ThrowsAny<UsageException>(() => new RateDistortion(bound, Every: 0).EvaluatedTimesteps());
    }

    /// <summary>The exact denoiser with a constant "learned" v, for the bound's learned-variance path.</summary>
    sealed class ConstantVarianceModel(GaussianMixtureScore mixture, double v) : IVarianceModel
    {
        public Tensor Score(Tensor x, Tensor sigma) => mixture.Score(x, sigma);
        public (Tensor Denoised, Tensor V) DenoiseWithVariance(Tensor x, Tensor sigma) => (mixture.Denoise(x, sigma), full_like(x, v));
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(0.0, -1.0)]
    [InlineData(0.25, -0.5)]
    public void TheBoundWithALearnedVarianceUsesTheModelsV(double v, double rawMix)
    {
        using var gaussian = Gaussian();
        using var scope = NewDisposeScope();
        var schedule = new VpDiscreteSchedule(200, VpDiscreteSchedule.Cosine);   // any schedule: T = 200 keeps the test short
        var x0 = gaussian.Sample(100, new Generator(1));
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        var (learned, _) = new VariationalBound(schedule, false, Timesteps: 50, VarianceMix: null).Nats(new ConstantVarianceModel(gaussian, v), x0, g1);
        var (fixedMix, _) = new VariationalBound(schedule, false, Timesteps: 50, VarianceMix: rawMix).Nats(gaussian, x0, g2);
        Assert.True((learned - fixedMix).abs().max().item<double>() < 1e-9);
        Assert.ThrowsAny<UsageException>(() => new VariationalBound(schedule, false, VarianceMix: null).Term(gaussian, x0, x0, 5));
    }
}
