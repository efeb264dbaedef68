using Langevin.Models;
using Langevin.Processes;

namespace Langevin.Training;

/// <summary>
/// Settings of the diffusion methods <c>ddpm</c> (discrete VP, Ho et al. 2020), <c>edm</c> (Karras et al. 2022) and
/// <c>sde</c> (continuous VP / sub-VP, Song et al. 2021).
/// <see cref="SigmaData"/> is filled from the data when EDM training starts and written back into config.json.
/// </summary>
public sealed record DdpmConfig
{
    /// <summary>DDPM: number of diffusion steps T.</summary>
    public int Timesteps { get; init; } = 1000;
    /// <summary>DDPM: linear (1e-4 … 0.02) or cosine (Nichol &amp; Dhariwal 2021) β's.</summary>
    public string Betas { get; init; } = VpDiscreteSchedule.Linear;
    /// <summary>DDPM: what the network predicts: eps, x0, v or score.</summary>
    public string Prediction { get; init; } = "eps";
    /// <summary>DDPM: simple (L_simple, Ho et al. 2020 Eq. 14) or hybrid (L_simple + λ L_vlb with learned variances,
    /// Nichol &amp; Dhariwal 2021; needs --net adm and ε-prediction).</summary>
    public string Loss { get; init; } = "simple";
    /// <summary>EDM: σ_data of the preconditioning and loss weight (default: the data's standard deviation).</summary>
    public double? SigmaData { get; init; }
    /// <summary>EDM: mean and standard deviation of ln σ during training.</summary>
    public double PMean { get; init; } = -1.2;
    public double PStd { get; init; } = 1.2;
    /// <summary>EDM: the σ range of sampling (Karras et al. 2022, Table 1: 0.002 … 80).</summary>
    public double SigmaMin { get; init; } = 0.002;
    public double SigmaMax { get; init; } = 80;
    /// <summary>SDE: the sub-VP SDE instead of the VP SDE (Song et al. 2021, Eq. 13).</summary>
    public bool SubVp { get; init; }
    /// <summary>SDE: λ(t) = g(t)² (likelihood weighting) instead of λ(t) = std(t)².</summary>
    public bool LikelihoodWeighting { get; init; }
    /// <summary>SDE: draw t ∝ g²/std² (VP only; needs likelihood weighting).</summary>
    public bool ImportanceSampling { get; init; }
    /// <summary>Sampler steps for previews and `langevin sample` without --steps (DDIM for ddpm, EDM's Heun for edm).</summary>
    public int? SampleSteps { get; init; }

    public static readonly IReadOnlyList<string> Losses = ["simple", "hybrid"];

    public void Validate()
    {
        if (Timesteps < 2) throw new UsageException($"--timesteps must be ≥ 2 (got {Timesteps})");
        if (Betas is not (VpDiscreteSchedule.Linear or VpDiscreteSchedule.Cosine)) throw new UsageException($"--betas must be linear or cosine (got '{Betas}')");
        Predictions.Parse(Prediction);
        if (!Losses.Contains(Loss)) throw new UsageException($"--loss must be one of: {string.Join(", ", Losses)} (got '{Loss}')");
        if (SigmaData is { } sd && !(sd > 0 && double.IsFinite(sd))) throw new UsageException($"--sigma-data must be > 0 (got {sd})");
        if (!(PStd > 0) || !double.IsFinite(PMean)) throw new UsageException($"--p-std must be > 0 and --p-mean finite (got {PMean}, {PStd})");
        if (!(SigmaMin > 0) || !(SigmaMax > SigmaMin) || !double.IsFinite(SigmaMax)) throw new UsageException($"need 0 < σ_min < σ_max (got {SigmaMin}, {SigmaMax})");
        if (ImportanceSampling && (!LikelihoodWeighting || SubVp)) throw new UsageException("--importance-sampling needs --likelihood-weighting and the VP SDE (not --sub-vp)");
        if (SampleSteps is < 1) throw new UsageException($"--sample-steps must be ≥ 1 (got {SampleSteps})");
    }
}
