using Langevin.Likelihood;
using Langevin.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Likelihood;

/// <summary>The probability-flow ODE log-likelihood against exact log-densities of Gaussians and mixtures.</summary>
public class ProbabilityFlowLikelihoodTests(ITestOutputHelper output)
{
    [Fact]
    public void ExactTraceMatchesAGaussiansLogDensity()
    {
        using var gaussian = new GaussianMixtureScore([1.0], [[1.0, -2.0]], 0.5);
        using var gen = new Generator(3);
        using var scope = NewDisposeScope();
        var x = gaussian.Sample(32, gen);
        var flow = new ProbabilityFlowLikelihood(1e-3, 80, Estimator: TraceEstimator.Exact);
        var result = flow.LogDensity(gaussian, x);
        var exact = gaussian.LogDensity(x, 1e-3) - Math.Log(2 * Math.PI);   // LogDensity omits −(D/2) log 2π, D = 2
        double meanRel = Math.Abs((result.LogDensity.mean() - exact.mean()).item<double>() / exact.mean().item<double>());
        double maxAbs = (result.LogDensity - exact).abs().max().item<double>();
        output.WriteLine($"mean log p {result.LogDensity.mean().item<double>():F5} vs exact {exact.mean().item<double>():F5} (relative {meanRel:E2}); max |error| {maxAbs:E2}; NFE {result.Evaluations}");
        Assert.True(meanRel < 0.01, $"mean relative error {meanRel:E3}");
        Assert.True(maxAbs < 0.15, $"max absolute error {maxAbs:E3} (measured 0.078: the prior N(0, σ_max²) is not exactly N(μ, s² + σ_max²), and the ODE tolerance)");
    }

    [Theory]
    [InlineData(TraceEstimator.Rademacher)]
    [InlineData(TraceEstimator.Gaussian)]
    public void HutchinsonMeanMatchesAMixturesLogLikelihood(TraceEstimator estimator)
    {
        using var mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4);
        using var gen = new Generator(4);
        using var scope = NewDisposeScope();
        var x = mixture.Sample(400, gen);
        var flow = new ProbabilityFlowLikelihood(1e-3, 80, Estimator: estimator, Probes: 1);
        var result = flow.LogDensity(mixture, x, gen);
        var exact = mixture.LogDensity(x, 1e-3) - Math.Log(2 * Math.PI);
        double ours = result.LogDensity.mean().item<double>(), truth = exact.mean().item<double>();
        double se = (result.LogDensity - exact).std().item<double>() / Math.Sqrt(400);
        output.WriteLine($"{estimator}: mean log p {ours:F4} vs exact {truth:F4} (SE of the difference {se:F4}), NFE {result.Evaluations}");
        Assert.True(Math.Abs(ours - truth) < 0.01 * Math.Abs(truth) + 3 * se, $"{ours} vs {truth}");
    }

    [Fact]
    public void BitsPerDimensionOfQuantisedImagesAddsTheBinWidth()
    {
        using var lp = tensor(new[] { -100.0 });
        Assert.Equal(100 / (10 * Math.Log(2)) + 7, ProbabilityFlowLikelihood.BitsPerDimension(lp, 10, true).item<double>(), 12);
        Assert.Equal(100 / (10 * Math.Log(2)), ProbabilityFlowLikelihood.BitsPerDimension(lp, 10, false).item<double>(), 12);
    }
}
