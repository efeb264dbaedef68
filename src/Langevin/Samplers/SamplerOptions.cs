using Langevin.Processes;
using static Langevin.Samplers.OptionRules;

namespace Langevin.Samplers;

/// <summary>
/// The options of the catalog's samplers, named as diffusers names them (the CLI spells them <c>--name</c>). A catalog entry
/// lists the ones it takes, binding its own default where samplers differ (<see cref="DdimEta"/>, <see cref="AncestralEta"/>);
/// <see cref="All"/> is their order in help and in error checks.
/// </summary>
public static class SamplerOptions
{
    public static readonly SamplerOption<string> Process = SamplerOption.Choice("process", SamplingProcess.Kinds,
        "the process whose σ's the sampler follows (default vp; edm* samplers use edm)") with { Scope = "analytic models" };

    public static readonly SamplerOption<string> Betas = SamplerOption.Choice("betas", [VpDiscreteSchedule.Linear, VpDiscreteSchedule.Cosine],
        "β schedule, T = 1000 (default linear; cosine = squaredcos_cap_v2)") with { Scope = "vp process", Process = OptionProcess.Vp };

    public static readonly SamplerOption<string> Spacing = SamplerOption.Choice("spacing", [.. TimestepSpacing.Names],
        "timestep spacing (default: diffusers' default for the scheduler)") with { Scope = "vp process", Process = OptionProcess.Vp };

    public static readonly SamplerOption<int> StepsOffset = SamplerOption.Integer("steps-offset", "K",
        "steps_offset added to leading timesteps (default 0)") with { Scope = "vp process", Process = OptionProcess.Vp, Default = 0 };

    public static readonly SamplerOption<bool> SetAlphaToOne = SamplerOption.Boolean("set-alpha-to-one",
        "the last step goes to ᾱ = 1 (true) or to ᾱ_0 (false)") with { Process = OptionProcess.Vp, Default = true };

    public static readonly SamplerOption<bool> Karras = SamplerOption.Flag("karras",
        "Karras σ's (ρ = 7) over the schedule's range") with { Process = OptionProcess.Vp };

    public static readonly SamplerOption<bool> RoundTimesteps = SamplerOption.Flag("round-timesteps",
        "with --karras, query the model at the rounded integer timestep, as diffusers (false: at the exact σ)") with { Process = OptionProcess.Vp, Default = true };

    public static readonly SamplerOption<bool> ClipSample = SamplerOption.Flag("clip-sample", "clamp the predicted x₀ to [−1, 1]");

    static readonly SamplerOption<double> Eta = SamplerOption.Number("eta", "η", "the share of fresh noise") with { Rule = AtLeast(0.0) };
    public static readonly SamplerOption<double> DdimEta = Eta with { Default = 0 };
    public static readonly SamplerOption<double> AncestralEta = Eta with { Default = 1 };

    public static readonly SamplerOption<double> Churn = SamplerOption.Number("churn", "S", "S_churn; 0 is deterministic") with { Rule = AtLeast(0.0), Default = 0 };
    public static readonly SamplerOption<double> SNoise = SamplerOption.Number("s-noise", "S", "S_noise") with { Default = 1 };
    public static readonly SamplerOption<double> Snr = SamplerOption.Number("snr", "R", "corrector signal-to-noise ratio") with { Rule = Above(0.0), Default = 0.16 };
    public static readonly SamplerOption<int> CorrectorSteps = SamplerOption.Integer("corrector-steps", "N", "Langevin corrector steps per level") with { Rule = AtLeast(0), Default = 1 };

    public static readonly SamplerOption<string> Variance = SamplerOption.Text("variance", "fixed-small|fixed-large|learned",
        "posterior variance β̃_t (fixed-small), β_t (fixed-large), or the learned Σ of a --loss hybrid run (Nichol & Dhariwal 2021, Eq. 15)") with
        {
            Process = OptionProcess.Vp, Default = "fixed-small",
            Rule = new(v => v is "fixed-small" or "fixed-large" or "learned", "must be fixed-small, fixed-large or learned"),
        };

    static readonly SamplerOption<int> Order = SamplerOption.Integer("order", "K", "solver order");
    public static readonly SamplerOption<int> LmsOrder = Order with { Default = 4, Rule = AtLeast(1) };
    public static readonly SamplerOption<int> UniPcOrder = Order with { Default = 2, Rule = new(o => o is >= 1 and <= 3, "must be 1, 2 or 3 for unipc") };

    public static readonly SamplerOption<double> Rtol = SamplerOption.Number("rtol", "TOL", "relative tolerance") with { Default = 1e-5, DefaultDescription = "1e-5" };
    public static readonly SamplerOption<double> Atol = SamplerOption.Number("atol", "TOL", "absolute tolerance") with { Default = 1e-5, DefaultDescription = "1e-5" };

    public static readonly SamplerOption<double> SigmaMin = SamplerOption.Number("sigma-min", "σ", "smallest σ (edm default 0.002)") with { Scope = "edm/ve process", Process = OptionProcess.SigmaRange };
    public static readonly SamplerOption<double> SigmaMax = SamplerOption.Number("sigma-max", "σ", "largest σ (edm default 80)") with { Scope = "edm/ve process", Process = OptionProcess.SigmaRange };
    public static readonly SamplerOption<double> Rho = SamplerOption.Number("rho", "ρ", "Karras ρ (default 7)") with { Scope = "edm", Process = OptionProcess.SigmaRange };

    public static readonly SamplerOption<int> StepsPerLevel = SamplerOption.Integer("steps-per-level", "T", "Langevin steps per σ") with { Rule = AtLeast(1), Default = 5 };
    public static readonly SamplerOption<double> AldStepSize = SamplerOption.Number("step-size", "ε", "step size ε") with
        { Rule = Above(0.0), DefaultDescription = "from NCSNv2's Technique 4" };

    /// <summary>The catalog's options in the order help lists them and a request's options are checked.</summary>
    public static readonly IReadOnlyList<SamplerOption> All =
    [
        Process, Betas, Spacing, StepsOffset, SetAlphaToOne, Karras, ClipSample, DdimEta, AncestralEta, Churn, SNoise, Snr,
        CorrectorSteps, RoundTimesteps, Rtol, Atol, Variance, LmsOrder, UniPcOrder, SigmaMin, SigmaMax, Rho, StepsPerLevel, AldStepSize,
    ];

    /// <summary>The options of the vp process's σ table, and of the edm/ve σ range, that most samplers take.</summary>
    internal static readonly SamplerOption[] VpTable = [Process, Betas, Spacing, StepsOffset];
    internal static readonly SamplerOption[] SigmaRange = [SigmaMin, SigmaMax, Rho];
}
