using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>The catalog as data: each entry's options against what it accepts, the step callback, typed requests, method samplers' options.</summary>
public class SamplerEntryTests
{
    static readonly double[] Weights = [0.3, 0.7];
    static readonly double[][] Means = [[-1.5, 0.5], [1.5, -0.5]];

    static SamplingProcess Vp => new(SamplingProcess.Vp, new VpDiscreteSchedule());
    static SamplingProcess EdmProcess => new(SamplingProcess.Edm);

    /// <summary>Each sampler's options as the catalog declared them by hand before it became data (the table they were moved from).</summary>
    static readonly Dictionary<string, string[]> Declared = new()
    {
        ["ddim"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "set-alpha-to-one", "clip-sample", "eta"],
        ["ddpm"] = ["process", "betas", "spacing", "steps-offset", "clip-sample", "variance"],
        ["euler"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras"],
        ["euler-ancestral"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras", "eta"],
        ["heun"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras"],
        ["lms"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras", "order"],
        ["dpmpp-2m"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras", "round-timesteps"],
        ["unipc"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "karras", "round-timesteps", "order"],
        ["edm"] = ["sigma-min", "sigma-max", "rho", "churn", "s-noise"],
        ["edm-euler"] = ["sigma-min", "sigma-max", "rho"],
        ["edm-dpmpp-2m"] = ["sigma-min", "sigma-max", "rho"],
        ["euler-maruyama"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho"],
        ["pc"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "snr", "corrector-steps"],
        ["ode-rk45"] = ["process", "betas", "spacing", "steps-offset", "sigma-min", "sigma-max", "rho", "rtol", "atol"],
        ["ald"] = ["process", "betas", "sigma-min", "sigma-max", "rho", "steps-per-level", "step-size"],
    };

    /// <summary>A value in range for every catalog option.</summary>
    static readonly Dictionary<string, object> Valid = new()
    {
        ["process"] = "vp", ["betas"] = "linear", ["spacing"] = "trailing", ["steps-offset"] = 1, ["set-alpha-to-one"] = false,
        ["karras"] = true, ["clip-sample"] = true, ["eta"] = 0.5, ["churn"] = 1.0, ["s-noise"] = 1.01, ["snr"] = 0.2,
        ["corrector-steps"] = 2, ["round-timesteps"] = false, ["rtol"] = 1e-3, ["atol"] = 1e-3, ["variance"] = "fixed-large",
        ["order"] = 2, ["sigma-min"] = 0.01, ["sigma-max"] = 10.0, ["rho"] = 5.0, ["steps-per-level"] = 2, ["step-size"] = 1e-4,
    };

    public static TheoryData<string> Samplers => [.. SamplerCatalog.Names];

    [Fact]
    public void EveryEntryDeclaresTheOptionsItTookBefore()
    {
        Assert.Equal(Declared.Keys.Order(), SamplerCatalog.Names.Order());
        foreach (var entry in SamplerCatalog.All)
            Assert.True(Declared[entry.Name].Order().SequenceEqual(entry.Options.Select(o => o.Name).Order()),
                $"{entry.Name}: declares {string.Join(", ", entry.Options.Select(o => o.Name))}");
        Assert.Equal(Valid.Keys.Order(), SamplerOptions.All.Select(o => o.Name).Distinct().Order());
    }

    /// <summary>
    /// Each option of the catalog, given alone (with --karras where it needs it) on the process it belongs to: the samplers
    /// that declare it accept it, every other refuses it in one line naming exactly the samplers that take it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samplers))]
    public void AcceptsExactlyTheOptionsItDeclares(string sampler)
    {
        var entry = SamplerCatalog.Find(sampler);
        foreach (var (name, value) in Valid)
        {
            var request = SamplerRequest.For(sampler, entry.Adaptive ? null : 10).With(name, value);
            if (name == "round-timesteps" && entry.Takes("karras")) request = request.With(SamplerOptions.Karras, true);
            bool sigmaRange = SamplerOptions.All.First(o => o.Name == name).Process == OptionProcess.SigmaRange;
            var process = sigmaRange || entry.FollowsEdmSigmas ? EdmProcess : Vp;
            var takers = Declared.Where(d => d.Value.Contains(name)).Select(d => d.Key);
            if (Declared[sampler].Contains(name))
            {
                SamplerCatalog.Check(request, process);
                Assert.True(SamplerCatalog.Plan(request, process).Steps >= 1);
            }
            else
            {
                var e = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(request, process));
                Assert.Equal($"{SamplerOption.SettingOf(name)} does not apply to the {sampler} sampler (it applies to: {string.Join(", ", SamplerCatalog.Names.Where(takers.Contains))})", e.Message);
            }
        }
    }

    [Theory]
    [InlineData("ddim", "eta", -0.5, "eta must be ≥ 0 (got -0.5)")]
    [InlineData("euler-ancestral", "eta", -1.0, "eta must be ≥ 0 (got -1)")]
    [InlineData("edm", "churn", -1.0, "churn must be ≥ 0 (got -1)")]
    [InlineData("pc", "snr", 0.0, "snr must be > 0 (got 0)")]
    [InlineData("pc", "corrector-steps", -1, "corrector_steps must be ≥ 0 (got -1)")]
    [InlineData("lms", "order", 0, "order must be ≥ 1 (got 0)")]
    [InlineData("unipc", "order", 4, "order must be 1, 2 or 3 for unipc (got 4)")]
    [InlineData("ald", "steps-per-level", 0, "steps_per_level must be ≥ 1 (got 0)")]
    [InlineData("ald", "step-size", -1.0, "step_size must be > 0 (got -1)")]
    [InlineData("ddpm", "variance", "learnt", "variance must be fixed-small, fixed-large or learned (got 'learnt')")]
    public void RefusesValuesOutOfRangeInOneLine(string sampler, string option, object value, string message)
    {
        var process = sampler == "edm" ? EdmProcess : Vp;
        var e = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(SamplerRequest.For(sampler).With(option, value), process));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void AnOptionNoCatalogSamplerTakesIsRefused()
    {
        var e = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(SamplerRequest.For("ddim").With(MethodSamplers.Friction, 1.0), Vp));
        Assert.Equal("friction is not an option of the catalog's samplers", e.Message);
        var own = Assert.ThrowsAny<UsageException>(() => MethodSamplers.RefuseOwnOnly(name => name == "friction"));
        Assert.Equal("friction applies to the walk-jump sampler only (a walkjump run's own)", own.Message);
        MethodSamplers.RefuseOwnOnly(name => name == "step-size");    // ald, a catalog sampler, takes it: the catalog decides
    }

    /// <summary>The typed request and the shorthand one are the same request and sample the same.</summary>
    [Fact]
    public void TypedAndShorthandRequestsAgree()
    {
        var typed = SamplerRequest.For("ddim", steps: 10).With(SamplerOptions.DdimEta, 0.5).With(SamplerOptions.ClipSample, true);
        var shorthand = new SamplerRequest { Sampler = "ddim", Steps = 10, Eta = 0.5, ClipSample = true };
        Assert.Equal(shorthand, typed);
        Assert.Equal(0.5, typed.Eta);
        Assert.Null(typed.Karras);
        Assert.Equal(0.0, SamplerRequest.For("ddim").Get(SamplerOptions.DdimEta));          // the entry's default
        Assert.Equal(1.0, SamplerRequest.For("euler-ancestral").Get(SamplerOptions.AncestralEta));
        Assert.NotEqual(shorthand, shorthand with { Eta = 0.25 });
        Assert.Equal(SamplerRequest.For("ddim"), (shorthand with { Eta = null, ClipSample = null, Steps = null }));

        using var mixture = new GaussianMixtureScore(Weights, Means, 0.4);
        using var scope = NewDisposeScope();
        var noise = randn([16, 2], generator: new Generator(2), dtype: float64);
        var a = SamplerCatalog.Run(mixture, noise, typed, Vp, new Generator(3)).Output;
        var b = SamplerCatalog.Run(mixture, noise, shorthand, Vp, new Generator(3)).Output;
        Assert.True(a.eq(b).all().item<bool>());
    }

    /// <summary>
    /// Euler on the analytic mixture: the callback sees step i from σ_i to σ_{i+1} for exactly the plan's σ's, in order,
    /// at the state the step starts from, with denoised = the mixture's exact D(x, σ_i) there.
    /// </summary>
    [Fact]
    public void EulerReportsEveryStepOfThePlanWithTheModelsDenoisedValue()
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, 0.4);
        using var scope = NewDisposeScope();
        var request = SamplerRequest.For("euler", steps: 12);
        var plan = SamplerCatalog.Plan(request, Vp);
        var noise = randn([32, 2], generator: new Generator(4), dtype: float64);
        var seen = new List<(int Index, double Sigma, double Next)>();
        var x = (noise * plan.InitialScale).DetachFromDisposeScope();
        var result = SamplerCatalog.Run(mixture, noise, request, Vp, null, onSample: s =>
        {
            seen.Add((s.Index, s.Sigma, s.NextSigma));
            Assert.True(s.X.eq(x).all().item<bool>(), $"step {s.Index} starts where the last one ended");
            using var sigma = full([s.X.shape[0]], s.Sigma, dtype: float64);
            Assert.True(s.Denoised.eq(mixture.Denoise(s.X, sigma)).all().item<bool>(), $"step {s.Index}: D(x, σ) exactly");
            var next = (s.X + (s.NextSigma - s.Sigma) * ((s.X - s.Denoised) / s.Sigma)).DetachFromDisposeScope();   // the Euler step, to follow along
            x.Dispose();
            x = next;
        });
        Assert.Equal(Enumerable.Range(0, plan.Steps), seen.Select(s => s.Index));
        Assert.Equal(plan.Sigmas[..^1], seen.Select(s => s.Sigma));
        Assert.Equal(plan.Sigmas[1..], seen.Select(s => s.Next));
        Assert.Equal(1.0, plan.OutputScale);
        Assert.True(result.Output.eq(x).all().item<bool>(), "the last step's update is the output");
        x.Dispose();
    }

    /// <summary>
    /// Every catalog sampler reports its steps: indices 0, 1, … with descending σ's from the plan's first, and denoised equal
    /// to D(x, σ) of the model the sampler queries (the Tweedie denoiser of the score for ald; x − dx/du for ode-rk45).
    /// </summary>
    [Theory]
    [MemberData(nameof(Samplers))]
    public void EverySamplerReportsItsSteps(string sampler)
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, 0.4);
        using var scope = NewDisposeScope();
        var entry = SamplerCatalog.Find(sampler);
        var request = SamplerRequest.For(sampler, entry.Adaptive ? null : 6);
        if (sampler == "ode-rk45") request = request with { Rtol = 1e-3, Atol = 1e-3 };
        var process = entry.FollowsEdmSigmas ? EdmProcess : Vp;
        var plan = SamplerCatalog.Plan(request, process);
        var noise = randn([16, 2], generator: new Generator(6), dtype: float64);
        var steps = new List<SamplerStep>();
        double worst = 0;
        SamplerCatalog.Run(mixture, noise, request, process, new Generator(7), onSample: s =>
        {
            steps.Add(s with { X = null!, Denoised = null! });
            using var sigma = full([s.X.shape[0]], s.Sigma, dtype: float64);
            worst = Math.Max(worst, (s.Denoised - mixture.Denoise(s.X, sigma)).abs().max().item<double>());
        });
        Assert.NotEmpty(steps);
        Assert.Equal(Enumerable.Range(0, steps.Count), steps.Select(s => s.Index));
        Assert.Equal(plan.Sigmas[0], steps[0].Sigma, 12);
        Assert.All(steps, s => Assert.True(s.NextSigma < s.Sigma || s.NextSigma == s.Sigma && s.Index == steps.Count - 1, $"{s.Index}: {s.Sigma} → {s.NextSigma}"));
        Assert.All(steps.Zip(steps.Skip(1)), p => Assert.Equal(p.First.NextSigma, p.Second.Sigma, 12));
        if (!entry.Adaptive) Assert.Equal(plan.Steps, steps.Count);
        Assert.True(worst < 1e-9, $"{sampler}: denoised differs from D(x, σ) by {worst:E2}");
    }

    [Fact]
    public void MethodSamplersReadTheirTypedOptionsAndRefuseOthers()
    {
        var r = MethodSamplers.Dlg.Read(6, new Dictionary<string, string> { ["gibbs-steps"] = "4", ["sigma-update"] = "draw", ["init-noise"] = "0.25" });
        Assert.Equal(4, r.GetOr(MethodSamplers.GibbsSteps, 10));
        Assert.Equal(20, r.GetOr(MethodSamplers.BurnIn, 20));
        Assert.Equal("draw", r.Get(MethodSamplers.SigmaUpdate));
        Assert.Equal("lowest", r.Get(MethodSamplers.HandOff));
        Assert.Equal(0.25, r.Get(MethodSamplers.InitNoise));
        Assert.Equal(6, r.Steps);

        var bad = Assert.ThrowsAny<UsageException>(() => MethodSamplers.WalkJump.Read(null, new Dictionary<string, string> { ["gibbs-steps"] = "3" }));
        Assert.Equal("gibbs_steps does not apply to the walk-jump sampler (it takes: steps, step_size, friction)", bad.Message);
        Assert.Equal("friction must be > 0 (got -1)",
            Assert.ThrowsAny<UsageException>(() => MethodSamplers.WalkJump.Read(null, new Dictionary<string, string> { ["friction"] = "-1" })).Message);
        Assert.Equal("chains must be an integer (got 'many')",
            Assert.ThrowsAny<UsageException>(() => MethodSamplers.Dlg.Read(null, new Dictionary<string, string> { ["chains"] = "many" })).Message);
        Assert.Equal("start must be noise or buffer (got 'data')",
            Assert.ThrowsAny<UsageException>(() => MethodSamplers.Sgld.Read(null, new Dictionary<string, string> { ["start"] = "data" })).Message);
        Assert.Equal("steps_per_level does not apply to the pgd sampler (it takes: steps)",
            Assert.ThrowsAny<UsageException>(() => MethodSamplers.Pgd.Read(null, new Dictionary<string, string> { ["steps-per-level"] = "2" })).Message);
        Assert.Equal("steps does not apply to the ald sampler (it takes no options)",
            Assert.ThrowsAny<UsageException>(() => MethodSamplers.Ald.Read(10, null)).Message);
        Assert.Null(MethodSamplers.CldRk45.Read(null, new Dictionary<string, string>()).Steps);
    }

    /// <summary>An option name means one thing to the CLI: one type, flag or not, wherever it is declared.</summary>
    [Fact]
    public void AnOptionNameHasOneTypeEverywhere()
    {
        var all = SamplerCatalog.All.SelectMany(e => e.Options).Concat(MethodSamplers.All.SelectMany(m => m.Options));
        foreach (var g in all.GroupBy(o => o.Name))
        {
            Assert.Single(g.Select(o => o.ValueType).Distinct());
            Assert.Single(g.Select(o => o.IsFlag).Distinct());
        }
    }
}
