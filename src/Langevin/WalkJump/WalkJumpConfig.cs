namespace Langevin.WalkJump;

/// <summary>
/// Multimeasurement generative model settings (Saremi &amp; Srivastava 2022): M noisy copies at noise σ, the
/// parameterisation of the estimator, and the walk (underdamped Langevin, BAOAB) between jumps. Null step size and
/// friction resolve to 0.5σ and 1/σ.
/// </summary>
public sealed record WalkJumpConfig : Methods.MethodConfig
{
    /// <summary>The parameterisations of x̂: a denoiser network, or the gradient of a scalar energy.</summary>
    public static readonly IReadOnlyList<string> Parameterisations = ["denoiser", "energy"];

    /// <summary>M ≥ 1, the number of measurements y_m = x + σ ε_m.</summary>
    public int Measurements { get; init; } = 4;
    public double Sigma { get; init; } = 1.0;
    /// <summary>denoiser: x̂ = ȳ + (σ/√M) F_θ(ȳ); energy: x̂ = ȳ − (σ²/M) ∇f_θ(ȳ).</summary>
    public string Parameterisation { get; init; } = "denoiser";
    /// <summary>Walk steps (one network evaluation each) between consecutive jumps.</summary>
    public int WalkSteps { get; init; } = 10;
    public double? StepSize { get; init; }
    public double? Friction { get; init; }

    public override void Validate()
    {
        if (Measurements < 1) throw new SettingException("walkjump.measurements", Measurements, "(the number of measurements M) must be ≥ 1");
        if (!(Sigma > 0) || !double.IsFinite(Sigma)) throw new SettingException("walkjump.sigma", Sigma, "(the walk-jump noise σ) must be > 0");
        if (!Parameterisations.Contains(Parameterisation))
            throw new SettingException("walkjump.parameterisation", Parameterisation, $"must be one of: {string.Join(", ", Parameterisations)}");
        if (WalkSteps < 1) throw new SettingException("walkjump.walk_steps", WalkSteps, "must be ≥ 1");
        if (StepSize is { } d && !(d > 0)) throw new SettingException("walkjump.step_size", d, "must be > 0");
        if (Friction is { } g && !(g > 0)) throw new SettingException("walkjump.friction", g, "must be > 0");
    }
}
