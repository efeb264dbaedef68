using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static Langevin.Samplers.SamplerOptions;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>The diffusion process a model was trained on, as the samplers see it.</summary>
public sealed record SamplingProcess(string Kind, VpDiscreteSchedule? Schedule = null, double SigmaMin = 0.002, double SigmaMax = 80, double Rho = 7)
{
    public const string Vp = "vp", Edm = "edm", Ve = "ve";
    public static readonly IReadOnlyList<string> Kinds = [Vp, Edm, Ve];

    /// <summary>The σ's the model was trained over: the VP table's first and last σ, else <see cref="SigmaMin"/>..<see cref="SigmaMax"/>.</summary>
    public (double Min, double Max) SigmaBounds => Kind == Vp ? (Schedule!.Sigma(0), Schedule.Sigma(Schedule.T - 1)) : (SigmaMin, SigmaMax);
}

/// <summary>The result of a sampling run: the output (in the sampler's output frame), NFE, and the plan that was followed.</summary>
public sealed record SamplerResult(Tensor Output, int Evaluations, SamplingPlan Plan);

/// <summary>A sampler as help and option checks see it: its name, what it is, and the options it takes.</summary>
public abstract record SamplerDescription(string Name, string Summary, IReadOnlyList<SamplerOption> Options)
{
    public bool Takes(string option) => Options.Any(o => o.Name == option);

    public SamplerOption? Option(string name) => Options.FirstOrDefault(o => o.Name == name);
}

/// <summary>The σ plan of a sampler on the discrete vp process: the diffusers scheduler family whose set_timesteps it follows.</summary>
public delegate SamplingPlan VpPlanner(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset, SamplerRequest request);

/// <summary>What a catalog sampler's run function is given: the model as it queries it, x at the plan's first σ, the request.</summary>
public sealed record SamplerRun(IScoreModel Model, Tensor X, SamplingPlan Plan, SamplerRequest Request, Generator? Gen,
    Action<int, int> OnStep, Action<SamplerStep>? OnSample)
{
    public double[] Sigmas => Plan.Sigmas;

    public T Get<T>(SamplerOption<T> option) where T : notnull => Request.Get(option);
}

/// <summary>
/// One sampler of the catalog, everything about it in one place: name, summary, default steps and spacing, its options, its σ
/// plan on the vp process (<see cref="VpPlan"/>; null for the edm* samplers, which follow EDM's σ's on every process), the
/// function that runs it, and its NFE as a function of the plan.
/// </summary>
public sealed record SamplerEntry(string Name, string Summary, int DefaultSteps, string DefaultSpacing, IReadOnlyList<SamplerOption> Options,
    VpPlanner? VpPlan, Func<SamplerRun, Tensor> Run) : SamplerDescription(Name, Summary, Options)
{
    /// <summary>Network evaluations for a plan (default one per step; 0 for an adaptive sampler, whose tolerances decide).</summary>
    public Func<SamplingPlan, SamplerRequest, int> Evaluations { get; init; } = (plan, _) => plan.Steps;

    /// <summary>The model as the sampler queries it (e.g. at rounded timesteps, as diffusers' schedulers of its name); null: as it is.</summary>
    public Func<IScoreModel, SamplerRequest, SamplingProcess, IScoreModel>? Query { get; init; }

    /// <summary>Rules between options, beyond each option's own range.</summary>
    public Action<SamplerRequest>? Rules { get; init; }

    /// <summary>Whether the step count is adaptive (its steps cannot be set).</summary>
    public bool Adaptive { get; init; }

    public bool FollowsEdmSigmas => VpPlan is null;
}

/// <summary>
/// Every sampler `langevin sample --sampler NAME` knows, over one denoiser interface: builds the σ plan from the
/// process and the request (diffusers' schedules for the discrete VP process, EDM's σ's for edm*), scales the unit
/// noise by the plan's initial σ, runs the sampler (<see cref="DiffusionSamplers"/>, <see cref="AnnealedLangevinSampler"/>)
/// and scales the result into the output frame. A sampler is one <see cref="SamplerEntry"/> in <see cref="All"/>.
/// </summary>
public static class SamplerCatalog
{
    static readonly VpPlanner DiscretePlan = (s, n, spacing, offset, r) => SamplingPlan.Discrete(s, n, spacing, offset, r.Get(Karras));
    static readonly VpPlanner MultistepPlan = (s, n, spacing, offset, r) => SamplingPlan.Multistep(s, n, spacing, offset, r.Get(Karras));
    static readonly Func<SamplingPlan, SamplerRequest, int> HeunCost = (plan, _) => DiffusionSamplers.HeunEvaluations(plan.Sigmas);

    public static readonly IReadOnlyList<SamplerEntry> All =
    [
        new("ddim", "DDIM (Song et al. 2021), η = 0 deterministic … 1 DDPM-like", 50, TimestepSpacing.Leading,
            [.. VpTable, .. SigmaRange, SetAlphaToOne, ClipSample, DdimEta],
            (s, n, spacing, offset, r) => SamplingPlan.Ddim(s, n, spacing, offset, r.Get(SetAlphaToOne)),
            c => DiffusionSamplers.Ddim(c.Model, c.X, c.Sigmas, c.Get(DdimEta), c.Gen, c.Get(ClipSample), c.Plan.Targets, c.Plan.Carry,
                c.OnStep, c.OnSample)),
        new("ddpm", "DDPM ancestral sampling (Ho et al. 2020), β̃_t, β_t or learned variance (Nichol & Dhariwal 2021)", 1000, TimestepSpacing.Leading,
            [.. VpTable, ClipSample, Variance],
            (s, n, spacing, offset, _) => SamplingPlan.Ddpm(s, n, spacing, offset),
            c => DiffusionSamplers.Ddpm(c.Model, c.X, c.Sigmas, c.Gen, VarianceOf(c.Get(Variance)), c.Get(ClipSample),
                noiseLastStep: c.Plan.Timesteps is { } t && t[^1] > 0, c.OnStep, c.OnSample)),
        new("euler", "Euler on the probability-flow ODE (Karras et al. 2022)", 50, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras], DiscretePlan,
            c => DiffusionSamplers.Euler(c.Model, c.X, c.Sigmas, c.OnStep, c.OnSample)),
        new("euler-ancestral", "Euler ancestral (k-diffusion)", 50, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras, AncestralEta], DiscretePlan,
            c => DiffusionSamplers.EulerAncestral(c.Model, c.X, c.Sigmas, c.Gen, c.Get(AncestralEta), c.OnStep, c.OnSample)),
        new("heun", "Heun's 2nd-order method (Karras et al. 2022, Alg. 1)", 25, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras], DiscretePlan,
            c => DiffusionSamplers.Heun(c.Model, c.X, c.Sigmas, c.OnStep, onSample: c.OnSample)) { Evaluations = HeunCost },
        new("lms", "linear multistep, order 4 (k-diffusion)", 50, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras, LmsOrder], DiscretePlan,
            c => DiffusionSamplers.Lms(c.Model, c.X, c.Sigmas, c.Get(LmsOrder), c.OnStep, c.OnSample)),
        new("dpmpp-2m", "DPM-Solver++(2M) (Lu et al. 2022)", 20, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras, RoundTimesteps], MultistepPlan,
            c => DiffusionSamplers.DpmSolverPP2M(c.Model, c.X, c.Sigmas, c.OnStep, c.OnSample))
            // diffusers' DPMSolverMultistep casts t(σ) to int64 without rounding for cosine betas (squaredcos_cap_v2)
            { Query = AtRoundedTimesteps(truncateCosine: true), Rules = RoundingNeedsKarras },
        new("unipc", "UniPC, bh2, order 2 (Zhao et al. 2023)", 20, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Karras, RoundTimesteps, UniPcOrder], MultistepPlan,
            c => DiffusionSamplers.UniPc(c.Model, c.X, c.Sigmas, c.Get(UniPcOrder), c.OnStep, c.OnSample))
            { Query = AtRoundedTimesteps(truncateCosine: false), Rules = RoundingNeedsKarras },
        new("edm", "EDM's Heun sampler with S_churn (Karras et al. 2022, Alg. 2)", 18, TimestepSpacing.Linspace,
            [.. SigmaRange, Churn, SNoise], null,
            c => DiffusionSamplers.Heun(c.Model, c.X, c.Sigmas, c.OnStep, churn: c.Get(Churn), sNoise: c.Get(SNoise), gen: c.Gen, onSample: c.OnSample))
            { Evaluations = HeunCost },
        new("edm-euler", "Euler on EDM's σ's (diffusers' EDMEulerScheduler)", 50, TimestepSpacing.Linspace, SigmaRange, null,
            c => DiffusionSamplers.Euler(c.Model, c.X, c.Sigmas, c.OnStep, c.OnSample)),
        new("edm-dpmpp-2m", "DPM-Solver++(2M) on EDM's σ's (diffusers' EDMDPMSolverMultistepScheduler)", 20, TimestepSpacing.Linspace, SigmaRange, null,
            c => DiffusionSamplers.DpmSolverPP2M(c.Model, c.X, c.Sigmas, c.OnStep, c.OnSample)),
        new("euler-maruyama", "Euler–Maruyama on the reverse SDE (Song et al. 2021)", 1000, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange], DiscretePlan,
            c => DiffusionSamplers.EulerMaruyama(c.Model, c.X, c.Sigmas, c.Gen, c.OnStep, c.OnSample)),
        new("pc", "predictor–corrector: reverse diffusion + Langevin corrector with SNR (Song et al. 2021)", 1000, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Snr, CorrectorSteps], DiscretePlan,
            c => DiffusionSamplers.PredictorCorrector(c.Model, c.X, c.Sigmas, c.Gen, c.Get(Snr), c.Get(CorrectorSteps), c.OnStep, c.OnSample))
            { Evaluations = (plan, r) => DiffusionSamplers.PredictorCorrectorEvaluations(plan.Sigmas, r.Get(CorrectorSteps)) },
        new("ode-rk45", "probability-flow ODE with adaptive Dormand–Prince (Song et al. 2021)", 0, TimestepSpacing.Linspace,
            [.. VpTable, .. SigmaRange, Rtol, Atol], DiscretePlan,
            c => DiffusionSamplers.ProbabilityFlowRk45(c.Model, c.X, c.Sigmas, c.Get(Rtol), c.Get(Atol), c.OnStep, c.OnSample))
            { Evaluations = (_, _) => 0, Adaptive = true },
        new("ald", "annealed Langevin dynamics over geometric σ's (Song & Ermon 2019/2020)", 100, TimestepSpacing.Linspace,
            [Process, Betas, .. SigmaRange, StepsPerLevel, AldStepSize], DiscretePlan, AnnealedLangevin)
            { Evaluations = (plan, r) => plan.Steps * r.Get(StepsPerLevel) + 1 },
    ];

    public static IEnumerable<string> Names => All.Select(s => s.Name);

    public static SamplerEntry Find(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw SettingException.About("sampler", name, $"unknown sampler '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>
    /// Rejects an unknown sampler, an option the sampler does not take, options of another process, and values out of
    /// range, in one line each.
    /// </summary>
    public static SamplerEntry Check(SamplerRequest r, SamplingProcess process)
    {
        var entry = Find(r.Sampler);
        var given = GivenInOrder(r);
        foreach (string name in given)
            if (!entry.Takes(name))
            {
                var takers = All.Where(s => s.Takes(name)).Select(s => s.Name).ToList();
                throw SettingException.Sentence(SamplerOption.SettingOf(name), r.Given[name], takers.Count == 0
                    ? "is not an option of the catalog's samplers"
                    : $"does not apply to the {entry.Name} sampler (it applies to: {string.Join(", ", takers)})");
            }
        if (r.Steps is < 1) throw new SettingException("steps", r.Steps, "must be ≥ 1");
        if (r.Steps is not null && entry.Adaptive)
            throw SettingException.Sentence("steps", r.Steps, $"does not apply to {entry.Name}: its step count is adaptive; set its tolerances rtol and atol");
        bool vp = process.Kind == SamplingProcess.Vp && !entry.FollowsEdmSigmas;
        var options = given.Select(name => entry.Option(name)!).ToList();
        foreach (var option in options)
        {
            if (!vp && option.Process == OptionProcess.Vp)
                throw SettingException.Sentence(option.Setting, r.Given[option.Name], $"applies to the vp process only (this run samples the {(entry.FollowsEdmSigmas ? SamplingProcess.Edm : process.Kind)} process)");
            if (vp && option.Process == OptionProcess.SigmaRange)
                throw SettingException.Sentence(option.Setting, r.Given[option.Name], "applies to the edm and ve processes; the vp process takes its σ's from its β table");
        }
        if (r.Has(Betas) && process.Schedule is not null && r.Get(Betas) != process.Schedule.BetaSchedule)
            throw SettingException.Sentence(Betas.Setting, r.Get(Betas), $"{r.Get(Betas)}: the model was trained with {process.Schedule.BetaSchedule} betas");
        entry.Rules?.Invoke(r);
        foreach (var option in options) option.CheckValue(r.Given[option.Name]);
        return entry;
    }

    /// <summary>The options a request sets, in the catalog's order (<see cref="SamplerOptions.All"/>); names it does not know last.</summary>
    static List<string> GivenInOrder(SamplerRequest r)
    {
        var known = SamplerOptions.All.Select(o => o.Name).Distinct().ToList();
        return [.. r.Given.Keys.OrderBy(name => known.IndexOf(name) is int i and >= 0 ? i : int.MaxValue).ThenBy(name => name, StringComparer.Ordinal)];
    }

    /// <summary>The σ plan a request follows on a process.</summary>
    public static SamplingPlan Plan(SamplerRequest r, SamplingProcess process)
    {
        var entry = Check(r, process);
        int steps = r.Steps ?? (entry.DefaultSteps > 0 ? entry.DefaultSteps : 2);
        var on = entry.FollowsEdmSigmas ? new SamplingProcess(SamplingProcess.Edm) : process;
        double sigmaMin = r.GetOr(SigmaMin, on.SigmaMin), sigmaMax = r.GetOr(SigmaMax, on.SigmaMax), rho = r.GetOr(Rho, on.Rho);
        return on.Kind switch
        {
            SamplingProcess.Edm => SamplingPlan.Edm(steps, sigmaMin, sigmaMax, rho),
            SamplingProcess.Ve => SamplingPlan.Geometric(steps, sigmaMin, sigmaMax),
            _ => entry.VpPlan!(ScheduleOf(r, process), steps, r.GetOr(Spacing, entry.DefaultSpacing), r.Get(StepsOffset), r),
        };
    }

    /// <summary>The NFE a request will cost (0 for the adaptive ode-rk45, whose cost the tolerances decide).</summary>
    public static int ExpectedEvaluations(SamplerRequest r, SamplingProcess process) => Check(r, process).Evaluations(Plan(r, process), r);

    /// <summary>
    /// Draws samples: x_init = noise × the plan's initial σ, the sampler, then × the output scale. The noise is unit
    /// Gaussian [N, …] in the model's dtype and device; it is not modified. <paramref name="onStep"/> reports NFE as
    /// (done, total); <paramref name="onSample"/> each step (<see cref="SamplerStep"/>, in the σ-frame).
    /// </summary>
    public static SamplerResult Run(IScoreModel model, Tensor noise, SamplerRequest r, SamplingProcess process, Generator? gen,
        Action<int, int>? onStep = null, Action<SamplerStep>? onSample = null)
    {
        var entry = Check(r, process);
        var plan = Plan(r, process);
        model = entry.Query?.Invoke(model, r, process) ?? model;
        int evaluations = 0;
        void Count(int done, int total) { evaluations = done; onStep?.Invoke(done, total); }
        using var scope = NewDisposeScope();
        var result = entry.Run(new SamplerRun(model, noise * plan.InitialScale, plan, r, gen, Count, onSample));
        var output = plan.OutputScale == 1 ? result : result * plan.OutputScale;
        return new SamplerResult(output.MoveToOuterDisposeScope(), evaluations, plan);
    }

    /// <summary>The VP table of the process, or (analytic models) the one --betas names.</summary>
    static VpDiscreteSchedule ScheduleOf(SamplerRequest r, SamplingProcess process) =>
        process.Schedule ?? new VpDiscreteSchedule(1000, r.GetOr(Betas, VpDiscreteSchedule.Linear));

    static DdpmVariance VarianceOf(string variance) => variance switch
    {
        "fixed-large" => DdpmVariance.FixedLarge,
        "learned" => DdpmVariance.Learned,
        _ => DdpmVariance.FixedSmall,
    };

    /// <summary>
    /// dpmpp-2m and unipc with Karras σ's on the vp process query the model at rounded integer timesteps by default, as
    /// diffusers' schedulers of those names; <c>--round-timesteps false</c> queries at the exact σ.
    /// </summary>
    static Func<IScoreModel, SamplerRequest, SamplingProcess, IScoreModel> AtRoundedTimesteps(bool truncateCosine) => (model, r, process) =>
    {
        if (!(r.Get(Karras) && process.Kind == SamplingProcess.Vp && r.Get(RoundTimesteps))) return model;
        var schedule = ScheduleOf(r, process);
        return new RoundedTimestepModel(model, schedule, truncate: truncateCosine && schedule.BetaSchedule == VpDiscreteSchedule.Cosine);
    };

    static void RoundingNeedsKarras(SamplerRequest r)
    {
        if (r.Has(RoundTimesteps) && !r.Get(Karras))
            throw SettingException.Sentence(RoundTimesteps.Setting, r.Get(RoundTimesteps), "matters only with Karras σ's (without them the timesteps are integers already)");
    }

    /// <summary>NCSN's annealed Langevin dynamics over geometric σ's between the plan's largest and smallest positive σ.</summary>
    static Tensor AnnealedLangevin(SamplerRun c)
    {
        double[] plan = c.Sigmas;
        double max = plan[0], min = plan[^1] > 0 ? plan[^1] : plan[^2];
        var sigmas = new GeometricSigmas(max, min, plan.Length - 1);
        sigmas.Validate();
        int perLevel = c.Get(StepsPerLevel);
        double eps = c.Request.GetOr(AldStepSize, NcsnV2Techniques.StepSize(sigmas, perLevel));
        return new AnnealedLangevinSampler(sigmas, perLevel, eps).Sample(c.Model, c.X, c.Gen, onStep: c.OnStep, onSample: c.OnSample);
    }
}
