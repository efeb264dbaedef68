using Langevin.Likelihood;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Langevin.Cld;

namespace Langevin.Tests.Cld;

/// <summary>
/// CLD's probability-flow likelihood with the exact velocity score of Gaussian data N(μ, s² I) (<see cref="GaussianCldOracle"/>):
/// the joint density of (x₀, v₀) is then N(μ, s²) × N(0, γM) per dimension in closed form, and so is the bound on log p(x₀).
/// </summary>
public sealed class CldLikelihoodTests(ITestOutputHelper output)
{
    const double Mean = 0.5, Std = 0.2;

    static Tensor GaussianLogDensity(Tensor z, double mean, double variance) =>
        (-0.5 * (z - mean).square() / variance - 0.5 * Math.Log(2 * Math.PI * variance)).reshape(z.shape[0], -1).sum(1);

    [Fact]
    public void JointLogDensityOfGaussianDataMatchesTheClosedForm()
    {
        // β = 8 makes the equilibrium prior equal p_1 to ~1e-5 and t_min = 1e-6 makes p_{t_min} ≈ p_0, so what remains is the
        // ODE and its exact trace: log p(x₀, v₀) = log N(x₀; μ, s²) + log N(v₀; 0, γM), summed over 3 dimensions.
        var cld = new CriticallyDampedLangevin(mass: 0.25, beta: 8, velocityVariance: 0.04);   // numerical ε 1e-6 keeps ℓ_t finite at t_min
        using var scope = NewDisposeScope();
        using var gen = new Generator(21);
        var model = new CldScoreModel(new GaussianCldOracle(cld, Mean, Std, mixed: true), cld, mixedScore: true);
        var x0 = Mean + Std * randn([64, 3], float64, generator: gen);
        var v0 = Math.Sqrt(cld.VelocityVariance * cld.Mass) * randn([64, 3], float64, generator: gen);
        var flow = new CldProbabilityFlowLikelihood(MinTime: 1e-6, Estimator: TraceEstimator.Exact);
        var ode = flow.JointLogDensity(model, x0, v0);
        var exact = GaussianLogDensity(x0, Mean, Std * Std) + GaussianLogDensity(v0, 0, cld.VelocityVariance * cld.Mass);
        double meanExact = exact.mean().item<double>(), meanAbs = exact.abs().mean().item<double>();
        double meanRel = Math.Abs(ode.LogDensity.mean().item<double>() - meanExact) / Math.Abs(meanExact);
        double maxAbs = (ode.LogDensity - exact).abs().max().item<double>();
        output.WriteLine($"mean log p(x, v) {ode.LogDensity.mean().item<double>():F5} vs exact {meanExact:F5} (relative {meanRel:E2}); max |error| {maxAbs:E2} (mean |log p| {meanAbs:F3}); NFE {ode.Evaluations}");
        Assert.True(meanRel < 0.01, $"mean relative error {meanRel:E3}");
        Assert.True(maxAbs < 0.01 * meanAbs, $"max absolute error {maxAbs:E3} against 1% of mean |log p| = {0.01 * meanAbs:E3}");
    }

    [Fact]
    public void BoundOnGaussianDataEqualsItsClosedForm()
    {
        // The paper's defaults (β = 4), one v₀ per item, exact trace: E_v[log p(x₀, v₀)] + H(N(0, γM)) is, for the
        // exact model, E_v[log N(x₀; μ, s²) + log N(v₀; 0, γM)] + H = log N(x₀; μ, s²). The mean over 512 items must match within
        // Monte-Carlo error of v₀ (s.e. ≈ 0.05 nats) plus 1% — a wrong entropy, velocity law or sign would miss by ≥ 1 nat.
        // (One Rademacher probe would add an s.e. of ≈ 0.6 nats here: the CLI and the VP tests exercise the probes.)
        var cld = new CriticallyDampedLangevin();
        const int n = 512;
        using var scope = NewDisposeScope();
        using var gen = new Generator(22);
        var model = new CldScoreModel(new GaussianCldOracle(cld, Mean, Std, mixed: true), cld, mixedScore: true);
        var x0 = Mean + Std * randn([n, 2], float64, generator: gen);
        var flow = new CldProbabilityFlowLikelihood(MinTime: 1e-5, Estimator: TraceEstimator.Exact);
        var bound = flow.LogDensityBound(model, x0, gen);
        double entropy = CldProbabilityFlowLikelihood.VelocityEntropy(cld, 2);
        Assert.Equal(2 * 0.5 * Math.Log(2 * Math.PI * Math.E * 0.01), entropy, 12);
        Assert.True((bound.LogDensityBound - bound.JointLogDensity - entropy).abs().max().item<double>() < 1e-9);
        double vStd = bound.Velocity.std().item<double>();
        Assert.InRange(vStd, 0.1 * 0.9, 0.1 * 1.1);                             // v₀ ~ N(0, γM = 0.01): s.e. of the std 2%
        var closedForm = GaussianLogDensity(x0, Mean, Std * Std);
        var difference = bound.LogDensityBound - closedForm;
        double ours = bound.LogDensityBound.mean().item<double>(), truth = closedForm.mean().item<double>();
        double se = difference.std().item<double>() / Math.Sqrt(n);
        output.WriteLine($"bound {ours:F4} vs closed form {truth:F4} (SE of the difference {se:F4}), NFE {bound.Evaluations}");
        Assert.True(Math.Abs(ours - truth) < 4 * se + 0.01 * Math.Abs(truth), $"{ours} vs {truth} ± {se}");
    }

    [Fact]
    public void CliScoresACldRunAndRefusesTheVpOnlyOptions()
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "run"), json = Path.Combine(dir.Path, "l.json");
        var t = CliRunner.Run("train", "--method", "cld", "--data", "8gaussians", "--steps", "3", "--batch", "16", "--width", "16",
            "--depth", "1", "--sample-every", "0", "--sample-steps", "5", "--threads", "1", "--quiet", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var l = CliRunner.Run("likelihood", "--run", run, "--data", "8gaussians", "--n", "32", "--estimator", "exact", "--threads", "1",
            "--quiet", "--json", json);
        Assert.True(l.ExitCode == 0, l.Stderr + l.Stdout);
        Assert.Contains("bits/dim ≤", l.Stdout);
        Assert.Contains("\"bound\": \"cld-probability-flow\"", File.ReadAllText(json));
        CliRunner.AssertFails(CliRunner.Run("likelihood", "--run", run, "--data", "8gaussians", "--vlb"), 2, "--vlb");
        CliRunner.AssertFails(CliRunner.Run("likelihood", "--run", run, "--data", "8gaussians", "--min-time", "0"), 2, "--min-time");
        CliRunner.AssertFails(CliRunner.Run("likelihood", "--run", run, "--data", "shapes:16"), 1, "shapes:16");
    }

    [Fact]
    public void CliScoresImagesOfACldUNetInBitsPerDimension()
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "run");
        var t = CliRunner.Run("train", "--method", "cld", "--data", "shapes:16", "--limit", "64", "--steps", "2", "--batch", "8",
            "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--sample-every", "0", "--sample-steps", "2",
            "--threads", "1", "--quiet", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var l = CliRunner.Run("likelihood", "--run", run, "--data", "shapes:16", "--n", "4", "--rtol", "1e-3", "--atol", "1e-3",
            "--threads", "1", "--quiet");
        Assert.True(l.ExitCode == 0, l.Stderr + l.Stdout);
        Assert.Matches(@"bits/dim ≤ \d+\.\d{4}", l.Stdout);
    }
}
