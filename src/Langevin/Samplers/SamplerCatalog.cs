using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// What <c>langevin sample --sampler NAME</c> asks for, with diffusers' option names. A null field was not given:
/// the sampler's default applies, and giving an option a sampler does not take is an error (<see cref="SamplerCatalog.Check"/>).
/// </summary>
public sealed record SamplerRequest
{
    public string Sampler { get; init; } = "ddim";
    public int? Steps { get; init; }
    /// <summary>vp (diffusers' discrete VP table), edm (Karras σ's) or ve (NCSN's geometric σ's).</summary>
    public string? Process { get; init; }
    public string? Betas { get; init; }
    public string? Spacing { get; init; }
    public int? StepsOffset { get; init; }
    public bool? SetAlphaToOne { get; init; }
    public bool? Karras { get; init; }
    public bool? ClipSample { get; init; }
    public double? Eta { get; init; }
    public double? Churn { get; init; }
    public double? SNoise { get; init; }
    public double? Snr { get; init; }
    public int? CorrectorSteps { get; init; }
    public bool? RoundTimesteps { get; init; }
    public double? Rtol { get; init; }
    public double? Atol { get; init; }
    /// <summary>DDPM's variance: fixed-small (β̃_t), fixed-large (β_t) or learned (improved DDPM, a model trained with the hybrid loss).</summary>
    public string? Variance { get; init; }
    public int? Order { get; init; }
    public double? SigmaMin { get; init; }
    public double? SigmaMax { get; init; }
    public double? Rho { get; init; }
    public int? StepsPerLevel { get; init; }
    public double? StepSize { get; init; }
}

/// <summary>A sampler's name, what it is, its default number of steps and spacing, and the options it takes.</summary>
public sealed record SamplerInfo(string Name, string Summary, int DefaultSteps, string DefaultSpacing, IReadOnlySet<string> Options);

/// <summary>The diffusion process a model was trained on, as the samplers see it.</summary>
public sealed record SamplingProcess(string Kind, VpDiscreteSchedule? Schedule = null, double SigmaMin = 0.002, double SigmaMax = 80, double Rho = 7)
{
    public const string Vp = "vp", Edm = "edm", Ve = "ve";
    public static readonly IReadOnlyList<string> Kinds = [Vp, Edm, Ve];
}

/// <summary>The result of a sampling run: the output (in the sampler's output frame), NFE, and the plan that was followed.</summary>
public sealed record SamplerResult(Tensor Output, int Evaluations, SamplingPlan Plan);

/// <summary>
/// Every sampler `langevin sample --sampler NAME` knows, over one denoiser interface: builds the σ plan from the
/// process and the request (diffusers' schedules for the discrete VP process, EDM's σ's for edm*), scales the unit
/// noise by the plan's initial σ, runs the sampler (<see cref="DiffusionSamplers"/>, <see cref="AnnealedLangevinSampler"/>)
/// and scales the result into the output frame.
/// </summary>
public static class SamplerCatalog
{
    static readonly string[] VpOptions = ["process", "betas", "spacing", "steps-offset"];
    static readonly string[] EdmOptions = ["sigma-min", "sigma-max", "rho"];

    static SamplerInfo Info(string name, string summary, int steps, string spacing, params string[] options) =>
        new(name, summary, steps, spacing, new HashSet<string>(options, StringComparer.Ordinal));

    public static readonly IReadOnlyList<SamplerInfo> All =
    [
        Info("ddim", "DDIM (Song et al. 2021), η = 0 deterministic … 1 DDPM-like", 50, TimestepSpacing.Leading,
            [.. VpOptions, .. EdmOptions, "set-alpha-to-one", "clip-sample", "eta"]),
        Info("ddpm", "DDPM ancestral sampling (Ho et al. 2020), β̃_t, β_t or learned variance (Nichol & Dhariwal 2021)", 1000, TimestepSpacing.Leading,
            [.. VpOptions, "clip-sample", "variance"]),
        Info("euler", "Euler on the probability-flow ODE (Karras et al. 2022)", 50, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras"]),
        Info("euler-ancestral", "Euler ancestral (k-diffusion)", 50, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras", "eta"]),
        Info("heun", "Heun's 2nd-order method (Karras et al. 2022, Alg. 1)", 25, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras"]),
        Info("lms", "linear multistep, order 4 (k-diffusion)", 50, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras", "order"]),
        Info("dpmpp-2m", "DPM-Solver++(2M) (Lu et al. 2022)", 20, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras", "round-timesteps"]),
        Info("unipc", "UniPC, bh2, order 2 (Zhao et al. 2023)", 20, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "karras", "round-timesteps", "order"]),
        Info("edm", "EDM's Heun sampler with S_churn (Karras et al. 2022, Alg. 2)", 18, TimestepSpacing.Linspace,
            [.. EdmOptions, "churn", "s-noise"]),
        Info("edm-euler", "Euler on EDM's σ's (diffusers' EDMEulerScheduler)", 50, TimestepSpacing.Linspace, EdmOptions),
        Info("edm-dpmpp-2m", "DPM-Solver++(2M) on EDM's σ's (diffusers' EDMDPMSolverMultistepScheduler)", 20, TimestepSpacing.Linspace, EdmOptions),
        Info("euler-maruyama", "Euler–Maruyama on the reverse SDE (Song et al. 2021)", 1000, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions]),
        Info("pc", "predictor–corrector: reverse diffusion + Langevin corrector with SNR (Song et al. 2021)", 1000, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "snr", "corrector-steps"]),
        Info("ode-rk45", "probability-flow ODE with adaptive Dormand–Prince (Song et al. 2021)", 0, TimestepSpacing.Linspace,
            [.. VpOptions, .. EdmOptions, "rtol", "atol"]),
        Info("ald", "annealed Langevin dynamics over geometric σ's (Song & Ermon 2019/2020)", 100, TimestepSpacing.Linspace,
            ["process", "betas", .. EdmOptions, "steps-per-level", "step-size"]),
    ];

    public static IEnumerable<string> Names => All.Select(s => s.Name);

    public static SamplerInfo Find(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw new UsageException($"--sampler: unknown sampler '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>The options (CLI names) a request sets.</summary>
    public static IEnumerable<string> GivenOptions(SamplerRequest r)
    {
        if (r.Process is not null) yield return "process";
        if (r.Betas is not null) yield return "betas";
        if (r.Spacing is not null) yield return "spacing";
        if (r.StepsOffset is not null) yield return "steps-offset";
        if (r.SetAlphaToOne is not null) yield return "set-alpha-to-one";
        if (r.Karras is not null) yield return "karras";
        if (r.ClipSample is not null) yield return "clip-sample";
        if (r.Eta is not null) yield return "eta";
        if (r.Churn is not null) yield return "churn";
        if (r.SNoise is not null) yield return "s-noise";
        if (r.Snr is not null) yield return "snr";
        if (r.CorrectorSteps is not null) yield return "corrector-steps";
        if (r.RoundTimesteps is not null) yield return "round-timesteps";
        if (r.Rtol is not null) yield return "rtol";
        if (r.Atol is not null) yield return "atol";
        if (r.Variance is not null) yield return "variance";
        if (r.Order is not null) yield return "order";
        if (r.SigmaMin is not null) yield return "sigma-min";
        if (r.SigmaMax is not null) yield return "sigma-max";
        if (r.Rho is not null) yield return "rho";
        if (r.StepsPerLevel is not null) yield return "steps-per-level";
        if (r.StepSize is not null) yield return "step-size";
    }

    /// <summary>Rejects an unknown sampler, an option the sampler does not take, or options of another process, in one line.</summary>
    public static SamplerInfo Check(SamplerRequest r, SamplingProcess process)
    {
        var info = Find(r.Sampler);
        foreach (var option in GivenOptions(r))
            if (!info.Options.Contains(option))
            {
                var takers = All.Where(s => s.Options.Contains(option)).Select(s => s.Name);
                throw new UsageException($"--{option} does not apply to the {info.Name} sampler (it applies to: {string.Join(", ", takers)})");
            }
        if (r.Steps is < 1) throw new UsageException($"--steps must be ≥ 1 (got {r.Steps})");
        if (r.Steps is not null && info.Name == "ode-rk45")
            throw new UsageException("--steps does not apply to ode-rk45: its step count is adaptive; set --rtol/--atol");
        bool vp = process.Kind == SamplingProcess.Vp && !info.Name.StartsWith("edm", StringComparison.Ordinal);
        foreach (var option in GivenOptions(r))
        {
            if (!vp && option is "betas" or "spacing" or "steps-offset" or "set-alpha-to-one" or "karras" or "round-timesteps" or "variance")
                throw new UsageException($"--{option} applies to the vp process only (this run samples the {(info.Name.StartsWith("edm", StringComparison.Ordinal) ? "edm" : process.Kind)} process)");
            if (vp && option is "sigma-min" or "sigma-max" or "rho")
                throw new UsageException($"--{option} applies to the edm and ve processes; the vp process takes its σ's from its β table (--betas)");
        }
        if (r.Betas is not null && process.Schedule is not null && r.Betas != process.Schedule.BetaSchedule)
            throw new UsageException($"--betas {r.Betas}: the model was trained with {process.Schedule.BetaSchedule} betas");
        if (r.RoundTimesteps is not null && r.Karras != true)
            throw new UsageException("--round-timesteps matters only with --karras (without it the timesteps are integers already)");
        if (r.Variance is not null and not ("fixed-small" or "fixed-large" or "learned"))
            throw new UsageException($"--variance must be fixed-small, fixed-large or learned (got '{r.Variance}')");
        return info;
    }

    /// <summary>The σ plan a request follows on a process.</summary>
    public static SamplingPlan Plan(SamplerRequest r, SamplingProcess process)
    {
        var info = Check(r, process);
        int steps = r.Steps ?? (info.DefaultSteps > 0 ? info.DefaultSteps : 2);
        double sigmaMin = r.SigmaMin ?? process.SigmaMin, sigmaMax = r.SigmaMax ?? process.SigmaMax, rho = r.Rho ?? process.Rho;
        if (info.Name.StartsWith("edm", StringComparison.Ordinal))
            return SamplingPlan.Edm(steps, r.SigmaMin ?? 0.002, r.SigmaMax ?? 80, r.Rho ?? 7);
        switch (process.Kind)
        {
            case SamplingProcess.Edm:
                return SamplingPlan.Edm(steps, sigmaMin, sigmaMax, rho);
            case SamplingProcess.Ve:
                return SamplingPlan.Geometric(steps, sigmaMin, sigmaMax);
        }
        var schedule = process.Schedule ?? new VpDiscreteSchedule(1000, r.Betas ?? VpDiscreteSchedule.Linear);
        string spacing = r.Spacing ?? info.DefaultSpacing;
        int offset = r.StepsOffset ?? 0;
        bool karras = r.Karras ?? false;
        return info.Name switch
        {
            "ddim" => SamplingPlan.Ddim(schedule, steps, spacing, offset, r.SetAlphaToOne ?? true),
            "ddpm" => SamplingPlan.Ddpm(schedule, steps, spacing, offset),
            "dpmpp-2m" or "unipc" => SamplingPlan.Multistep(schedule, steps, spacing, offset, karras),
            _ => SamplingPlan.Discrete(schedule, steps, spacing, offset, karras),
        };
    }

    /// <summary>The NFE a request will cost (0 for the adaptive ode-rk45, whose cost the tolerances decide).</summary>
    public static int ExpectedEvaluations(SamplerRequest r, SamplingProcess process)
    {
        var info = Check(r, process);
        var plan = Plan(r, process);
        return info.Name switch
        {
            "heun" or "edm" => DiffusionSamplers.HeunEvaluations(plan.Sigmas),
            "pc" => DiffusionSamplers.PredictorCorrectorEvaluations(plan.Sigmas, r.CorrectorSteps ?? 1),
            "ode-rk45" => 0,
            "ald" => plan.Steps * (r.StepsPerLevel ?? 5) + 1,
            _ => plan.Steps,
        };
    }

    /// <summary>
    /// Draws samples: x_init = noise × the plan's initial σ, the sampler, then × the output scale. The noise is unit
    /// Gaussian [N, …] in the model's dtype and device; it is not modified.
    /// </summary>
    public static SamplerResult Run(IScoreModel model, Tensor noise, SamplerRequest r, SamplingProcess process, Generator? gen,
        Action<int, int>? onStep = null)
    {
        var info = Check(r, process);
        var plan = Plan(r, process);
        if (info.Name == "ddpm" && r.Variance == "learned" && model is not IVarianceModel)
            throw new UsageException("--variance learned needs a model with a learned variance: a ddpm run trained with --loss hybrid (--net adm)");
        if (RoundsTimesteps(r, process))
        {
            var schedule = process.Schedule ?? new VpDiscreteSchedule(1000, r.Betas ?? VpDiscreteSchedule.Linear);
            // diffusers' DPMSolverMultistep casts t(σ) to int64 without rounding for cosine betas (squaredcos_cap_v2)
            model = new RoundedTimestepModel(model, schedule, truncate: info.Name == "dpmpp-2m" && schedule.BetaSchedule == VpDiscreteSchedule.Cosine);
        }
        int evaluations = 0;
        void Count(int done, int total) { evaluations = done; onStep?.Invoke(done, total); }
        using var scope = NewDisposeScope();
        var x = noise * plan.InitialScale;
        var s = plan.Sigmas;
        var result = info.Name switch
        {
            "ddim" => DiffusionSamplers.Ddim(model, x, s, r.Eta ?? 0, gen, r.ClipSample ?? false, plan.Targets, plan.Carry, Count),
            "ddpm" => DiffusionSamplers.Ddpm(model, x, s, gen, DdpmVarianceOf(r), r.ClipSample ?? false,
                noiseLastStep: plan.Timesteps![^1] > 0, Count),
            "euler" or "edm-euler" => DiffusionSamplers.Euler(model, x, s, Count),
            "euler-ancestral" => DiffusionSamplers.EulerAncestral(model, x, s, gen, r.Eta ?? 1, Count),
            "heun" => DiffusionSamplers.Heun(model, x, s, Count),
            "edm" => DiffusionSamplers.Heun(model, x, s, Count, churn: r.Churn ?? 0, sNoise: r.SNoise ?? 1, gen: gen),
            "lms" => DiffusionSamplers.Lms(model, x, s, r.Order ?? 4, Count),
            "dpmpp-2m" or "edm-dpmpp-2m" => DiffusionSamplers.DpmSolverPP2M(model, x, s, Count),
            "unipc" => DiffusionSamplers.UniPc(model, x, s, r.Order ?? 2, Count),
            "euler-maruyama" => DiffusionSamplers.EulerMaruyama(model, x, s, gen, Count),
            "pc" => DiffusionSamplers.PredictorCorrector(model, x, s, gen, r.Snr ?? 0.16, r.CorrectorSteps ?? 1, Count),
            "ode-rk45" => DiffusionSamplers.ProbabilityFlowRk45(model, x, s, r.Rtol ?? 1e-5, r.Atol ?? 1e-5, Count),
            "ald" => AnnealedLangevin(model, x, s, r, gen, Count),
            _ => throw new InvalidOperationException($"sampler {info.Name} has no runner"),
        };
        var output = plan.OutputScale == 1 ? result : result * plan.OutputScale;
        return new SamplerResult(output.MoveToOuterDisposeScope(), evaluations, plan);
    }

    /// <summary>The ddpm sampler's <c>--variance</c> (default fixed-small).</summary>
    public static DdpmVariance DdpmVarianceOf(SamplerRequest r) => r.Variance switch
    {
        "fixed-large" => DdpmVariance.FixedLarge,
        "learned" => DdpmVariance.Learned,
        _ => DdpmVariance.FixedSmall,
    };

    /// <summary>
    /// Whether the model is queried at rounded integer timesteps: dpmpp-2m and unipc with Karras σ's on the vp process do
    /// so by default, as diffusers' schedulers of those names; <c>--round-timesteps false</c> queries at the exact σ.
    /// </summary>
    public static bool RoundsTimesteps(SamplerRequest r, SamplingProcess process) =>
        r.Sampler is "dpmpp-2m" or "unipc" && r.Karras == true && process.Kind == SamplingProcess.Vp && (r.RoundTimesteps ?? true);

    /// <summary>NCSN's annealed Langevin dynamics over geometric σ's between the plan's largest and smallest positive σ.</summary>
    static Tensor AnnealedLangevin(IScoreModel model, Tensor x, double[] plan, SamplerRequest r, Generator? gen, Action<int, int> onStep)
    {
        double max = plan[0], min = plan[^1] > 0 ? plan[^1] : plan[^2];
        var sigmas = new GeometricSigmas(max, min, plan.Length - 1);
        sigmas.Validate();
        int perLevel = r.StepsPerLevel ?? 5;
        if (perLevel < 1) throw new UsageException($"--steps-per-level must be ≥ 1 (got {perLevel})");
        double eps = r.StepSize ?? NcsnV2Techniques.StepSize(sigmas, perLevel);
        if (!(eps > 0)) throw new UsageException($"--step-size must be > 0 (got {eps})");
        return new AnnealedLangevinSampler(sigmas, perLevel, eps).Sample(model, x, gen, onStep: onStep);
    }
}
