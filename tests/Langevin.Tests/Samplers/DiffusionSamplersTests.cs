using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>The probability-flow samplers against exact scores: a closed-form ODE solution and a 2-D mixture.</summary>
public class DiffusionSamplersTests(ITestOutputHelper output)
{
    const double SigmaMin = 0.002, SigmaMax = 80, S = 0.5;
    static readonly double[] Mu = [1.0, -2.0];

    delegate Tensor Solver(IScoreModel m, Tensor x, double[] sigmas);

    static readonly Dictionary<string, Solver> Solvers = new()
    {
        ["euler"] = (m, x, s) => DiffusionSamplers.Euler(m, x, s),
        ["heun"] = (m, x, s) => DiffusionSamplers.Heun(m, x, s),
        ["dpmpp2m"] = (m, x, s) => DiffusionSamplers.DpmSolverPP2M(m, x, s),
    };

    /// <summary>
    /// Relative error max |x̂ − x(0)|/|x(0) − μ| against the closed form x(0) = μ + (x_T − μ)·s/√(s² + σ_max²) for N(μ, s²I).
    /// The flow is linear in x − μ, so this is the same for every sample: the solver's error on the contraction factor.
    /// </summary>
    static double GaussianOdeError(string solver, int steps)
    {
        using var m = new GaussianMixtureScore([1.0], [Mu], S);
        using var gen = new Generator(7);
        using var scope = NewDisposeScope();
        var mu = tensor(Mu, float64);
        var xT = SigmaMax * randn([64, 2], generator: gen, dtype: float64) + mu;
        var exact = mu + (xT - mu) * (S / Math.Sqrt(S * S + SigmaMax * SigmaMax)); // d(x − μ)/dσ = (x − μ) σ/(s² + σ²)
        var x = Solvers[solver](m, xT, SamplingSigmas.Karras(steps, SigmaMin, SigmaMax));
        return ((x - exact) / (exact - mu)).abs().max().item<double>();
    }

    [Theory]
    [InlineData("euler", 200, 2e-2)]     // measured 1.42e-2 (Karras ρ = 7, σ ∈ [0.002, 80], s = 0.5)
    [InlineData("heun", 50, 1e-2)]       // measured 6.1e-3
    [InlineData("heun", 200, 1e-3)]      // measured 3.5e-4 (second order: ≈ (50/200)² · 6.1e-3)
    [InlineData("dpmpp2m", 20, 8e-2)]    // measured 4.9e-2
    [InlineData("dpmpp2m", 100, 3e-3)]   // measured 1.5e-3
    public void MatchesTheClosedFormProbabilityFlowOfAGaussian(string solver, int steps, double tolerance)
    {
        double error = GaussianOdeError(solver, steps);
        output.WriteLine($"{solver} N={steps}: max relative error {error:E3}");
        Assert.True(error < tolerance, $"{solver} with {steps} steps: error {error:E3} ≥ {tolerance:E0}");
    }

    [Theory]
    [InlineData("euler", 25, 1.6, 2.4)]     // first order: doubling N halves the error
    [InlineData("heun", 12, 3.2, 5)]        // second order: doubling N quarters it
    [InlineData("dpmpp2m", 12, 3, 6)]
    public void ErrorShrinksWithTheOrderOfTheMethod(string solver, int steps, double minRatio, double maxRatio)
    {
        double e1 = GaussianOdeError(solver, steps), e2 = GaussianOdeError(solver, 2 * steps), e4 = GaussianOdeError(solver, 4 * steps);
        output.WriteLine($"{solver}: N={steps} {e1:E3}, N={2 * steps} {e2:E3} (×{e1 / e2:F2}), N={4 * steps} {e4:E3} (×{e2 / e4:F2})");
        Assert.InRange(e1 / e2, minRatio, maxRatio);
        Assert.InRange(e2 / e4, minRatio, maxRatio);
    }

    public static TheoryData<string, int> MixtureCases => new()
    {
        { "euler", 100 }, { "heun", 30 }, { "dpmpp2m", 30 }, { "ancestral", 100 },
    };

    [Theory]
    [MemberData(nameof(MixtureCases))]
    public void ReproducesATwoComponentMixture(string solver, int steps)
    {
        using var m = new GaussianMixtureScore([0.3, 0.7], [[-2.0, 0.0], [2.0, 1.0]], std: 0.3);
        using var gen = new Generator(11);
        using var scope = NewDisposeScope();
        const int n = 2000;
        var sigmas = SamplingSigmas.Karras(steps, SigmaMin, SigmaMax);
        var xT = SigmaMax * randn([n, 2], generator: gen, dtype: float64);
        int reported = 0;
        var x = solver == "ancestral"
            ? DiffusionSamplers.EulerAncestral(m, xT, sigmas, gen, onStep: (done, _) => reported = done)
            : Solvers[solver](m, xT, sigmas);
        Assert.False(x.isnan().any().item<bool>());

        var left = x[.., 0].lt(0);
        double leftShare = left.to(float64).mean().item<double>();
        double se = Math.Sqrt(0.3 * 0.7 / n);
        var l = x[left]; var r = x[left.logical_not()];
        var lMean = l.reshape(-1, 2).mean([0]).data<double>().ToArray();
        var rMean = r.reshape(-1, 2).mean([0]).data<double>().ToArray();
        double lStd = l.reshape(-1, 2).std(0).mean().item<double>(), rStd = r.reshape(-1, 2).std(0).mean().item<double>();
        output.WriteLine($"{solver} N={steps}: left share {leftShare:F4} (±{se:F4}), means ({lMean[0]:F3},{lMean[1]:F3}) ({rMean[0]:F3},{rMean[1]:F3}), std {lStd:F3} {rStd:F3}");

        Assert.InRange(leftShare, 0.3 - 4 * se, 0.3 + 4 * se);
        Assert.Equal(-2.0, lMean[0], 0.1); Assert.Equal(0.0, lMean[1], 0.1);
        Assert.Equal(2.0, rMean[0], 0.1); Assert.Equal(1.0, rMean[1], 0.1);
        Assert.InRange(lStd, 0.25, 0.35);
        Assert.InRange(rStd, 0.25, 0.35);
        if (solver == "ancestral") Assert.Equal(steps, reported);
    }

    [Fact]
    public void ReportsNetworkEvaluations()
    {
        using var m = new GaussianMixtureScore([1.0], [Mu], S);
        using var x = zeros([4, 2], dtype: float64);
        var sigmas = SamplingSigmas.Karras(10, SigmaMin, SigmaMax);
        var counts = new List<(int, int)>();
        DiffusionSamplers.Heun(m, x, sigmas, (d, t) => counts.Add((d, t))).Dispose();
        Assert.Equal(19, counts.Count);
        Assert.All(counts.Select((c, i) => (c, i)), p => Assert.Equal((p.i + 1, 19), p.c));
        counts.Clear();
        DiffusionSamplers.Euler(m, x, sigmas, (d, t) => counts.Add((d, t))).Dispose();
        Assert.Equal((10, 10), counts[^1]);
        counts.Clear();
        DiffusionSamplers.DpmSolverPP2M(m, x, sigmas, (d, t) => counts.Add((d, t))).Dispose();
        Assert.Equal((10, 10), counts[^1]);
        Assert.Equal(0.0, x.abs().sum().item<double>()); // input untouched
    }

    [Fact]
    public void EulerAncestralWithEtaZeroIsEuler()
    {
        using var m = new GaussianMixtureScore([0.3, 0.7], [[-2.0, 0.0], [2.0, 1.0]], std: 0.3);
        using var gen = new Generator(3);
        using var xT = SigmaMax * randn([16, 2], generator: gen, dtype: float64);
        var sigmas = SamplingSigmas.Karras(20, SigmaMin, SigmaMax);
        using var a = DiffusionSamplers.EulerAncestral(m, xT, sigmas, gen, eta: 0);
        using var e = DiffusionSamplers.Euler(m, xT, sigmas);
        Assert.True(a.allclose(e, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void AncestralStepSplitsTheNextVariance()
    {
        var (down, up) = DiffusionSamplers.AncestralStep(2.0, 1.0);
        Assert.Equal(1.0, down * down + up * up, 12);
        Assert.Equal(Math.Sqrt(3.0 / 4), up, 12); // √(σ_next²(σ² − σ_next²)/σ²) = √(1·3/4)
        Assert.Equal((0.5, 0.0), DiffusionSamplers.AncestralStep(2.0, 0.5, 0));
    }

    [Fact]
    public void SigmaArraysDescendToZero()
    {
        var karras = SamplingSigmas.Karras(5, SigmaMin, SigmaMax);
        Assert.Equal(6, karras.Length);
        Assert.Equal(SigmaMax, karras[0]); Assert.Equal(SigmaMin, karras[4]); Assert.Equal(0.0, karras[5]);

        var schedule = new VpDiscreteSchedule();
        var vp = SamplingSigmas.FromSpacing(schedule, 10, TimestepSpacing.Trailing);
        var timesteps = TimestepSpacing.Timesteps(1000, 10, TimestepSpacing.Trailing);
        Assert.Equal(11, vp.Length);
        Assert.Equal(0.0, vp[^1]);
        for (int i = 0; i < 10; i++) Assert.Equal(schedule.Sigma(timesteps[i]), vp[i]);
        for (int i = 0; i < 10; i++) Assert.True(vp[i + 1] < vp[i]);
        // the VP σ array drives a sampler end to end
        using var m = new GaussianMixtureScore([1.0], [Mu], S);
        using var x = DiffusionSamplers.Heun(m, zeros([2, 2], dtype: float64), vp);
        Assert.True(x.isfinite().all().item<bool>());
    }

    [Fact]
    public void RejectsSigmasThatAreNotDescendingToAFinalSigmaAtLeastZero()
    {
        using var m = new GaussianMixtureScore([1.0], [Mu], S);
        using var x = zeros([2, 2], dtype: float64);
        Assert.Throws<ArgumentException>(() => DiffusionSamplers.Euler(m, x, [1.0, -0.5]));
        Assert.Throws<ArgumentException>(() => DiffusionSamplers.Euler(m, x, [0.5, 1.0, 0]));
        Assert.Throws<ArgumentException>(() => DiffusionSamplers.Euler(m, x, [1.0, 1.0, 0]));
    }
}
