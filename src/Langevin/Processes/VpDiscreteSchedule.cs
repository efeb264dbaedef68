using static TorchSharp.torch;

namespace Langevin.Processes;

/// <summary>
/// The discrete variance-preserving (DDPM/DDIM) process seen in the σ-space frame: step t has ᾱ_t, and
/// x_vp = √ᾱ_t · x_ve with the unscaled-frame noise level σ_t = √((1 − ᾱ_t)/ᾱ_t) (Karras et al. 2022, Table 1).
/// Like diffusers, the β and ᾱ tables are float32, so a model trained there sees exactly the same numbers here.
/// </summary>
public sealed class VpDiscreteSchedule
{
    public const string Linear = "linear";
    public const string Cosine = "cosine";

    /// <summary>Number of training steps T.</summary>
    public int T { get; }
    public string BetaSchedule { get; }
    public float[] Betas { get; }
    public float[] AlphasCumprod { get; }

    readonly double[] _logSigmas; // increasing in t

    public VpDiscreteSchedule(int t = 1000, string betaSchedule = Linear)
    {
        if (t < 2) throw new SettingException("train_steps", t, "must be ≥ 2");
        T = t;
        BetaSchedule = betaSchedule;
        Betas = betaSchedule switch
        {
            Linear => LinearBetas(t),
            Cosine => CosineBetas(t),
            _ => throw new SettingException("beta_schedule", betaSchedule, $"must be one of: {Linear}, {Cosine}"),
        };
        AlphasCumprod = CumprodOneMinus(Betas);
        _logSigmas = Enumerable.Range(0, t).Select(i => Math.Log(Sigma(i))).ToArray();
    }

    VpDiscreteSchedule(VpDiscreteSchedule full, int steps)
    {
        T = steps;
        BetaSchedule = full.BetaSchedule;
        Betas = full.Betas[..steps];
        AlphasCumprod = full.AlphasCumprod[..steps];
        _logSigmas = full._logSigmas[..steps];
    }

    /// <summary>
    /// The first <paramref name="steps"/> steps of this table, the same β's and ᾱ's (a truncated diffusion, Zheng et al. 2023:
    /// the chain from t = steps − 1 down); samplers planning on it visit only those steps.
    /// </summary>
    public VpDiscreteSchedule Truncated(int steps)
    {
        if (steps < 2 || steps > T) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"a truncated table keeps 2..{T} steps");
        return steps == T ? this : new VpDiscreteSchedule(this, steps);
    }

    // DDPM (Ho et al. 2020, §4) linear betas 1e-4 → 0.02, computed as diffusers does: torch.linspace(..., dtype=float32).
    static float[] LinearBetas(int t)
    {
        using var betas = linspace(1e-4, 0.02, t, dtype: ScalarType.Float32);
        return betas.data<float>().ToArray();
    }

    // Nichol & Dhariwal 2021, Eq. 17, as diffusers' betas_for_alpha_bar("cosine") (squaredcos_cap_v2): computed in double, stored as float32.
    static float[] CosineBetas(int t)
    {
        static double AlphaBar(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new float[t];
        for (int i = 0; i < t; i++)
            betas[i] = (float)Math.Min(1 - AlphaBar((i + 1) / (double)t) / AlphaBar(i / (double)t), 0.999);
        return betas;
    }

    // diffusers: alphas_cumprod = torch.cumprod(1.0 - betas, dim=0) in float32 (libtorch's CPU cumprod accumulates in double).
    static float[] CumprodOneMinus(float[] betas)
    {
        using var b = tensor(betas, ScalarType.Float32);
        using var alphas = 1.0f - b;
        using var cumprod = alphas.cumprod(0);
        return cumprod.data<float>().ToArray();
    }

    /// <summary>σ_t = √((1 − ᾱ_t)/ᾱ_t) from the float32 ᾱ_t (k-diffusion's DiscreteSchedule sigmas, in double).</summary>
    public double Sigma(int t)
    {
        if (t < 0 || t >= T) throw new ArgumentOutOfRangeException(nameof(t), t, $"timestep must be in 0..{T - 1}");
        double a = AlphasCumprod[t];
        return Math.Sqrt((1 - a) / a); // x_vp = √ᾱ x₀ + √(1−ᾱ) ε = √ᾱ (x₀ + σ ε) (Karras et al. 2022, Eq. 7 with s = √ᾱ)
    }

    public double[] Sigmas() => Enumerable.Range(0, T).Select(Sigma).ToArray();

    /// <summary>
    /// Continuous timestep for σ by linear interpolation of log σ between neighbouring steps, clamped to [0, T − 1]
    /// (k-diffusion's DiscreteSchedule.sigma_to_t).
    /// </summary>
    public double SigmaToT(double sigma)
    {
        if (double.IsNaN(sigma)) throw new ArgumentException("σ is NaN", nameof(sigma));
        double logSigma = Math.Log(sigma);
        // k-diffusion: low_idx = last i with log σ ≥ log_sigmas[i] (0 if none), clamped to T − 2.
        int low = 0;
        for (int i = 0; i < T; i++) if (logSigma >= _logSigmas[i]) low = i; else break;
        low = Math.Min(low, T - 2);
        int high = low + 1;
        double lo = _logSigmas[low], hi = _logSigmas[high];
        double w = Math.Clamp((lo - logSigma) / (lo - hi), 0, 1); // k-diffusion sigma_to_t: w = (low − log σ)/(low − high)
        return (1 - w) * low + w * high;
    }

    /// <summary>
    /// <see cref="SigmaToT(double)"/> for a tensor of σ's (any shape), computed in float64 and returned in σ's dtype:
    /// k-diffusion's vectorised DiscreteSchedule.sigma_to_t (log-σ interpolation, clamped to [0, T − 1]).
    /// </summary>
    public Tensor SigmaToT(Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var table = tensor(_logSigmas, ScalarType.Float64, sigma.device);                   // [T], increasing
        var logSigma = sigma.to(ScalarType.Float64).log();
        var low = (logSigma.unsqueeze(-1) >= table).sum([-1]).sub(1).clamp(0, T - 2);      // last i with log σ ≥ log σ_i
        var lo = table.index_select(0, low.flatten()).reshape(low.shape);
        var hi = table.index_select(0, (low + 1).flatten()).reshape(low.shape);
        var w = ((lo - logSigma) / (lo - hi)).clamp(0, 1);                                  // k-diffusion sigma_to_t
        return ((1 - w) * low.to(ScalarType.Float64) + w * (low + 1).to(ScalarType.Float64)).to(sigma.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>σ at a continuous timestep t ∈ [0, T − 1]: exp of the linear interpolation of log σ (k-diffusion's t_to_sigma).</summary>
    public Tensor TToSigma(Tensor t)
    {
        using var scope = NewDisposeScope();
        var table = tensor(_logSigmas, ScalarType.Float64, t.device);
        var tt = t.to(ScalarType.Float64).clamp(0, T - 1);
        var low = tt.floor().clamp(0, T - 2).to(ScalarType.Int64);
        var w = tt - low.to(ScalarType.Float64);
        var lo = table.index_select(0, low.flatten()).reshape(low.shape);
        var hi = table.index_select(0, (low + 1).flatten()).reshape(low.shape);
        return ((1 - w) * lo + w * hi).exp().to(t.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>ᾱ used for the step after the last one (t = −1): 1 if set_alpha_to_one, else ᾱ_0 (diffusers DDIMScheduler).</summary>
    public double FinalAlphaCumprod(bool setAlphaToOne) => setAlphaToOne ? 1.0 : AlphasCumprod[0];
}
