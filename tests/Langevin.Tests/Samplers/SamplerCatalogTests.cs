using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>Every sampler of the catalog against the exact denoiser of a Gaussian mixture, and its σ plans against diffusers' rules.</summary>
public class SamplerCatalogTests(ITestOutputHelper output)
{
    static readonly double[] Weights = [0.3, 0.7];
    static readonly double[][] Means = [[-1.5, 0.5], [1.5, -0.5]];
    const double Std = 0.4;

    static SamplingProcess Vp => new(SamplingProcess.Vp, new VpDiscreteSchedule());

    public static TheoryData<string, int?, string?> EverySampler => new()
    {
        { "ddim", 100, null }, { "ddim-eta", 500, null }, { "ddpm", 1000, null }, { "euler", 200, null },
        { "euler-ancestral", 500, null }, { "heun", 60, null }, { "lms", 100, null }, { "dpmpp-2m", 100, null },
        { "unipc", 100, null }, { "edm", 40, null }, { "edm-churn", 80, null }, { "edm-euler", 200, null },
        { "edm-dpmpp-2m", 50, null }, { "euler-maruyama", 1000, null }, { "pc", 500, null }, { "ode-rk45", null, null },
        { "ald", 100, null }, { "heun", 40, "edm" }, { "dpmpp-2m", 60, "ve" }, { "ddim", 100, "cosine" },
    };

    /// <summary>Mixture weights, component means and standard deviations of the samples match the truth within Monte-Carlo error.</summary>
    [Theory]
    [MemberData(nameof(EverySampler))]
    public void ReproducesTheMixture(string name, int? steps, string? variant)
    {
        using var mixture = new GaussianMixtureScore(Weights, Means, Std);
        using var gen = new Generator(5);
        using var scope = NewDisposeScope();
        const int n = 2000;
        var request = new SamplerRequest { Sampler = name.Split('-')[0] == "ddim" ? "ddim" : name == "edm-churn" ? "edm" : name, Steps = steps };
        if (name == "ddim-eta") request = request with { Eta = 1 };
        if (name == "edm-churn") request = request with { Churn = 40 };
        if (name == "ald") request = request with { StepsPerLevel = 20 };   // measured: T = 5 leaves std 11% high, T = 20 within 5%
        var process = Vp;
        if (variant == "edm") { process = new SamplingProcess(SamplingProcess.Edm); request = request with { Process = "edm" }; }
        if (variant == "ve") { process = new SamplingProcess(SamplingProcess.Ve, SigmaMin: 0.01, SigmaMax: 20); request = request with { Process = "ve" }; }
        if (variant == "cosine") { process = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule(1000, VpDiscreteSchedule.Cosine)); request = request with { Betas = "cosine" }; }
        var noise = randn([n, 2], generator: gen, dtype: float64);
        var result = SamplerCatalog.Run(mixture, noise, request, process, gen);
        var x = result.Output;
        Assert.False(x.isnan().any().item<bool>());

        var left = x[.., 0].lt(0);
        double share = left.to(float64).mean().item<double>(), se = Math.Sqrt(0.3 * 0.7 / n);
        var l = x[left].reshape(-1, 2); var r = x[left.logical_not()].reshape(-1, 2);
        var lm = l.mean([0]).data<double>().ToArray(); var rm = r.mean([0]).data<double>().ToArray();
        double ls = l.std(0).mean().item<double>(), rs = r.std(0).mean().item<double>();
        output.WriteLine($"{name} {variant} N={steps} NFE={result.Evaluations}: left {share:F4} (±{se:F4}), means ({lm[0]:F3},{lm[1]:F3}) ({rm[0]:F3},{rm[1]:F3}), std {ls:F3} {rs:F3}");
        Assert.InRange(share, 0.3 - 4 * se, 0.3 + 4 * se);
        Assert.Equal(Means[0][0], lm[0], 0.08); Assert.Equal(Means[0][1], lm[1], 0.08);
        Assert.Equal(Means[1][0], rm[0], 0.05); Assert.Equal(Means[1][1], rm[1], 0.05);
        Assert.InRange(ls, 0.9 * Std, 1.1 * Std);
        Assert.InRange(rs, 0.92 * Std, 1.08 * Std);
    }

    /// <summary>
    /// On N(μ, s²I) the probability-flow ODE from σ_max to 0 maps x_T to μ + (x_T − μ)·s/√(s² + σ_max²) (the flow
    /// scales x − μ by √((s² + σ²)/(s² + σ_max²))); each deterministic sampler reaches it, the higher-order ones closely.
    /// </summary>
    [Theory]
    [InlineData("ddim", 200, 2e-2)]
    [InlineData("euler", 200, 2e-2)]
    [InlineData("heun", 100, 1e-3)]
    [InlineData("lms", 100, 2e-3)]
    [InlineData("dpmpp-2m", 100, 2e-3)]
    [InlineData("unipc", 50, 6e-3)]        // measured 3.7e-3
    [InlineData("edm", 40, 2e-2)]          // measured 9.8e-3 (σ 80 → 0.002)
    [InlineData("edm-dpmpp-2m", 40, 2e-2)] // measured 1.0e-2
    [InlineData("ode-rk45", null, 5e-4)]   // measured 1.9e-4: the final step D(x, σ_0 = 0.01) alone shrinks x − μ by s/√(s² + σ_0²) = 1 − 2e-4
    public void DeterministicSamplersFollowTheClosedFormFlow(string name, int? steps, double tolerance)
    {
        double[] mu = [1.0, -2.0];
        const double s = 0.5;
        using var gaussian = new GaussianMixtureScore([1.0], [mu], s);
        using var gen = new Generator(7);
        using var scope = NewDisposeScope();
        var process = name.StartsWith("edm", StringComparison.Ordinal) ? new SamplingProcess(SamplingProcess.Edm) : Vp;
        var request = new SamplerRequest { Sampler = name, Steps = steps };
        var plan = SamplerCatalog.Plan(request, process);
        var noise = randn([64, 2], generator: gen, dtype: float64);
        var xT = noise * plan.InitialScale;
        var m = tensor(mu, float64);
        var exact = m + (xT - m) * (s / Math.Sqrt(s * s + plan.Sigmas[0] * plan.Sigmas[0]));
        var x = SamplerCatalog.Run(gaussian, noise, request, process, gen).Output;
        double error = ((x - exact) / (exact - m)).abs().max().item<double>();
        output.WriteLine($"{name} N={steps}: relative error {error:E3}");
        Assert.True(error < tolerance, $"{name}: {error:E3} ≥ {tolerance:E0}");
    }

    [Fact]
    public void LmsCoefficientsIntegrateCubicsExactly()
    {
        double[] sigmas = [10, 6, 3.5, 2, 1.1, 0.4];
        for (int i = 3; i < sigmas.Length - 1; i++)
        {
            double sum = 0;
            for (int j = 0; j < 4; j++) sum += DiffusionSamplers.LmsCoefficient(sigmas, i, j, 4) * Math.Pow(sigmas[i - j], 3);
            double exact = (Math.Pow(sigmas[i + 1], 4) - Math.Pow(sigmas[i], 4)) / 4;
            Assert.Equal(exact, sum, 9);
        }
        Assert.Equal(sigmas[1] - sigmas[0], DiffusionSamplers.LmsCoefficient(sigmas, 0, 0, 1), 12);
    }

    [Fact]
    public void DdimWithoutSetAlphaToOneEndsWithAStepFromAlphaBarZeroToItself()
    {
        var schedule = new VpDiscreteSchedule();
        var plan = SamplingPlan.Ddim(schedule, 10, TimestepSpacing.Leading, 0, setAlphaToOne: false);   // last t = 0 → ᾱ_0
        Assert.Equal(plan.Sigmas[^2], plan.Sigmas[^1]);
        using var mixture = new GaussianMixtureScore(Weights, Means, Std);
        using var scope = NewDisposeScope();
        var noise = randn([8, 2], dtype: float64);
        var r = new SamplerRequest { Sampler = "ddim", Steps = 10, SetAlphaToOne = false };
        var x = SamplerCatalog.Run(mixture, noise, r, Vp, null).Output;
        // the last step x̂₀ + σ_0 ε̂ returns x unchanged, then the output is in the VP frame: √ᾱ_0 · x
        var before = SamplerCatalog.Run(mixture, noise, r with { Steps = 10, SetAlphaToOne = true }, Vp, null).Output;
        Assert.False(x.isnan().any().item<bool>());
        Assert.True(x.sub(before).abs().max().item<double>() < 0.05);
    }

    [Fact]
    public void DdpmNoisesTheLastStepWhenItsTimestepIsAboveZero()
    {
        var schedule = new VpDiscreteSchedule();
        Assert.Equal(19, SamplingPlan.Ddpm(schedule, 50, TimestepSpacing.Trailing, 0).Timesteps![^1]);   // so the catalog noises it
        Assert.Equal(0, SamplingPlan.Ddpm(schedule, 50, TimestepSpacing.Leading, 0).Timesteps![^1]);
        using var mixture = new GaussianMixtureScore(Weights, Means, Std);
        using var scope = NewDisposeScope();
        var x = randn([4000, 2], dtype: float64);
        double[] lastStep = [schedule.Sigma(19), 0];
        using var g1 = new Generator(1);
        var quiet = DiffusionSamplers.Ddpm(mixture, x, lastStep, g1, variance: DdpmVariance.FixedLarge);
        var noised = DiffusionSamplers.Ddpm(mixture, x, lastStep, g1, variance: DdpmVariance.FixedLarge, noiseLastStep: true);
        double expected = Math.Sqrt(1 - schedule.AlphasCumprod[19]);   // diffusers: std √β_t = √(1 − ᾱ_19) when prev = −1
        double std = (noised - quiet).std().item<double>();
        output.WriteLine($"last-step noise std {std:F5}, expected {expected:F5}");
        Assert.Equal(expected, std, 0.05 * expected);
    }

    [Fact]
    public void DdimPlanStepsToTMinusTOverNAndCarriesTheVpStateAcross()
    {
        var schedule = new VpDiscreteSchedule();
        var leading = SamplingPlan.Ddim(schedule, 50, TimestepSpacing.Leading, 1, setAlphaToOne: false);
        Assert.Equal(schedule.Sigma(981), leading.Sigmas[0]);                       // leading + steps_offset 1: 981, 961, …, 1
        Assert.Equal(schedule.Sigma(0), leading.Sigmas[^1]);                        // final ᾱ = ᾱ_0 without set_alpha_to_one
        Assert.Equal(SamplingPlan.VpScale(schedule.Sigma(0)), leading.OutputScale, 15);
        Assert.All(leading.Carry!, c => Assert.Equal(1.0, c));                       // targets coincide with the next timesteps
        Assert.Equal(Math.Sqrt(1 + schedule.Sigma(981) * schedule.Sigma(981)), leading.InitialScale, 12); // unit noise in the VP frame

        var trailing = SamplingPlan.Ddim(schedule, 3, TimestepSpacing.Trailing, 0, setAlphaToOne: true);
        Assert.Equal([schedule.Sigma(999), schedule.Sigma(666), schedule.Sigma(332), 0], trailing.Sigmas);
        Assert.Equal([schedule.Sigma(666), schedule.Sigma(333), 0], trailing.Targets!);  // 666 − 333 = 333, not 332
        Assert.Equal(SamplingPlan.VpScale(schedule.Sigma(333)) / SamplingPlan.VpScale(schedule.Sigma(332)), trailing.Carry![1], 15);
        Assert.Equal(1.0, trailing.OutputScale);
    }

    [Fact]
    public void DiscreteAndMultistepPlansFollowDiffusersTimesteps()
    {
        var schedule = new VpDiscreteSchedule();
        // DPMSolverMultistep / UniPC linspace: np.linspace(0, 999, 11).round()[::-1][:-1] (499.5 rounds to even 500)
        Assert.Equal([999, 899, 799, 699, 599, 500, 400, 300, 200, 100], SamplingPlan.MultistepTimesteps(1000, 10, TimestepSpacing.Linspace, 0));
        Assert.Equal([900, 810, 720, 630, 540, 450, 360, 270, 180, 90], SamplingPlan.MultistepTimesteps(1000, 10, TimestepSpacing.Leading, 0));
        // Euler linspace: float timesteps, σ interpolated linearly in σ
        var t = SamplingPlan.FloatTimesteps(1000, 20, TimestepSpacing.Linspace, 0);
        Assert.Equal(999, t[0]); Assert.Equal(0, t[^1]); Assert.Equal(999 - 999 / 19.0, t[1], 10);
        double w = t[1] - Math.Floor(t[1]);
        Assert.Equal((1 - w) * schedule.Sigma((int)t[1]) + w * schedule.Sigma((int)t[1] + 1), SamplingPlan.InterpolateSigma(schedule, t[1]), 12);
        // init_noise_sigma: σ_max for linspace/trailing, √(σ_max² + 1) for leading
        var lin = SamplingPlan.Discrete(schedule, 20, TimestepSpacing.Linspace, 0, karras: false);
        var lead = SamplingPlan.Discrete(schedule, 20, TimestepSpacing.Leading, 0, karras: false);
        Assert.Equal(schedule.Sigma(999), lin.InitialScale, 12);
        Assert.Equal(Math.Sqrt(lead.Sigmas[0] * lead.Sigmas[0] + 1), lead.InitialScale, 12);
        // Karras σ's between the ends of the spaced σ's; multistep Karras over the whole table
        var karras = SamplingPlan.Discrete(schedule, 20, TimestepSpacing.Leading, 1, karras: true);
        Assert.Equal(SamplingPlan.InterpolateSigma(schedule, 951), karras.Sigmas[0], 12);
        Assert.Equal(schedule.Sigma(1), karras.Sigmas[^2], 12);
        var mk = SamplingPlan.Multistep(schedule, 20, TimestepSpacing.Linspace, 0, karras: true);
        Assert.Equal(schedule.Sigma(999), mk.Sigmas[0], 12); Assert.Equal(schedule.Sigma(0), mk.Sigmas[^2], 12);
        // EDM: init noise √(σ_max² + 1)
        Assert.Equal(Math.Sqrt(80 * 80 + 1), SamplingPlan.Edm(18).InitialScale, 12);
    }

    [Fact]
    public void RoundedTimestepsQueryTheModelAtTheIntegerTimestep()
    {
        var schedule = new VpDiscreteSchedule();
        using var mixture = new GaussianMixtureScore(Weights, Means, Std);
        var rounded = new RoundedTimestepModel(mixture, schedule);
        using var scope = NewDisposeScope();
        var x = randn([16, 2], dtype: float64);
        // at a table σ nothing changes
        double table = schedule.Sigma(400);
        Assert.Equal(table, rounded.RoundedSigma(table));
        Assert.True(rounded.Denoise(x, full([16], table, float64)).allclose(mixture.Denoise(x, full([16], table, float64)), 0, 1e-12));
        // between table σ's: D = x − σ ε_r with ε_r the ε-model at t_r on the VP state
        double sigma = 0.5 * (schedule.Sigma(10) + schedule.Sigma(11)) * 1.001;
        double r = rounded.RoundedSigma(sigma);
        Assert.Contains(r, new[] { schedule.Sigma(10), schedule.Sigma(11) });
        double a = 1 / Math.Sqrt(1 + sigma * sigma), ar = 1 / Math.Sqrt(1 + r * r);
        var xvp = a * x;
        var epsR = (xvp - ar * mixture.Denoise(xvp / ar, full([16], r, float64))) / Math.Sqrt(1 - ar * ar);
        Assert.True(rounded.Denoise(x, full([16], sigma, float64)).allclose(x - sigma * epsR, 0, 1e-10));
    }

    [Theory]
    [InlineData("ddpm", "karras", "karras does not apply to the ddpm sampler")]
    [InlineData("euler", "eta", "eta does not apply to the euler sampler")]
    [InlineData("edm", "spacing", "spacing does not apply to the edm sampler")]
    [InlineData("ddim", "sigma-max", "sigma_max applies to the edm and ve processes")]
    [InlineData("dpmpp-2m", "round-timesteps", "round_timesteps matters only with Karras σ's")]
    [InlineData("ddim", "round-timesteps", "round_timesteps does not apply to the ddim sampler")]
    [InlineData("nosuch", null, "unknown sampler 'nosuch'")]
    public void RejectsOptionsASamplerDoesNotTake(string sampler, string? option, string message)
    {
        var r = new SamplerRequest { Sampler = sampler };
        r = option switch
        {
            "karras" => r with { Karras = true },
            "eta" => r with { Eta = 0.5 },
            "spacing" => r with { Spacing = "leading" },
            "sigma-max" => r with { SigmaMax = 10 },
            "round-timesteps" => r with { RoundTimesteps = true },
            _ => r,
        };
        var e = Assert.ThrowsAny<UsageException>(() => SamplerCatalog.Check(r, Vp));
        Assert.Contains(message, e.Message);
    }
}
