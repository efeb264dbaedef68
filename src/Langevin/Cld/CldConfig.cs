namespace Langevin.Cld;

/// <summary>
/// Critically-damped Langevin diffusion settings (Dockhorn et al. 2022); defaults are the paper's (M = 0.25 so Γ = 1,
/// β = 4, γ = 0.04, HSM with the ε-loss and the mixed score, t ∈ [10⁻⁵, 1] in training and down to 10⁻³ in sampling).
/// </summary>
public sealed record CldConfig : Methods.MethodConfig
{
    /// <summary>M, the velocity's mass; Γ = 2√M.</summary>
    public double Mass { get; init; } = 0.25;
    public double Beta { get; init; } = 4;
    /// <summary>γ: v₀ ~ N(0, γM).</summary>
    public double VelocityVariance { get; init; } = 0.04;
    public double NumericalEps { get; init; } = 1e-6;
    /// <summary>eps (λ = ℓ_t⁻²) or likelihood (λ = βΓ).</summary>
    public string Weighting { get; init; } = "eps";
    public bool MixedScore { get; init; } = true;
    public double TrainMinTime { get; init; } = 1e-5;
    public double SampleMinTime { get; init; } = 1e-3;
    /// <summary>The default sampler: sscs, em or ode.</summary>
    public string Sampler { get; init; } = "sscs";
    public int SamplerSteps { get; init; } = 100;

    public override void Validate()
    {
        if (!(SampleMinTime > 0 && SampleMinTime < 1)) throw new SettingException("cld.sample_min_time", SampleMinTime, "must be in (0, 1)");
        if (SamplerSteps < 1) throw new SettingException("cld.sampler_steps", SamplerSteps, "must be ≥ 1");
        if (!CldSamplers.Names.Contains(Sampler)) throw new SettingException("cld.sampler", Sampler, $"must be one of {string.Join(", ", CldSamplers.Names)}");
    }
}
