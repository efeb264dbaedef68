using static TorchSharp.torch;

namespace Langevin.Processes;

/// <summary>
/// The continuous VP and sub-VP SDEs of Song et al. 2021 (Eq. 11 and 13; score_sde's sde_lib.VPSDE / subVPSDE) on
/// t ∈ [0, 1] with β(t) = β_min + t(β_max − β_min): dx = −½β(t) x dt + g(t) dw. The marginal is
/// x_t = m(t) x₀ + std(t) z, i.e. m(t)·(x₀ + σ(t) z) in the σ-frame with σ = std/m (Karras et al. 2022, Table 1).
/// </summary>
public sealed class VpSde(double betaMin = 0.1, double betaMax = 20, bool subVp = false)
{
    public double BetaMin { get; } = betaMin;
    public double BetaMax { get; } = betaMax;
    public bool SubVp { get; } = subVp;

    double Delta => BetaMax - BetaMin;

    /// <summary>β(t) = β_min + t(β_max − β_min).</summary>
    public Tensor Beta(Tensor t) => BetaMin + t * Delta;

    /// <summary>log m(t) = −¼t²(β_max − β_min) − ½t β_min = −½∫₀ᵗβ (score_sde's log_mean_coeff).</summary>
    public Tensor LogMeanCoefficient(Tensor t) => -0.25 * t.square() * Delta - 0.5 * t * BetaMin;

    public Tensor MeanCoefficient(Tensor t) => LogMeanCoefficient(t).exp();

    /// <summary>std(t) = √(1 − e^{2 log m}) (VP, Song et al. 2021 Eq. 29) or 1 − e^{2 log m} (sub-VP, Eq. 30).</summary>
    public Tensor Std(Tensor t)
    {
        var oneMinus = 1 - (2 * LogMeanCoefficient(t)).exp();
        return SubVp ? oneMinus : oneMinus.sqrt();
    }

    /// <summary>The drift f(x, t) = −½β(t) x.</summary>
    public Tensor Drift(Tensor x, Tensor t) => -0.5 * Beta(t).reshape([t.numel(), .. Enumerable.Repeat(1L, (int)x.dim() - 1)]) * x;

    /// <summary>g(t) = √β(t) (VP, Eq. 11) or √(β(t)(1 − e^{−2∫₀ᵗβ})) (sub-VP, Eq. 13).</summary>
    public Tensor Diffusion(Tensor t) =>
        SubVp ? (Beta(t) * (1 - (4 * LogMeanCoefficient(t)).exp())).sqrt() : Beta(t).sqrt();

    /// <summary>σ(t) = std(t)/m(t), the noise level in the unscaled frame.</summary>
    public Tensor Sigma(Tensor t) => Std(t) / MeanCoefficient(t);

    /// <summary>
    /// The time of a noise level: with L = −log m(σ) (VP: ½ln(1+σ²); sub-VP: −ln((√(σ²+4) − σ)/2)),
    /// t = (−β_min + √(β_min² + 4(β_max − β_min)L))/(β_max − β_min) (k-diffusion's VPSDE.sigma_to_t for VP).
    /// </summary>
    public Tensor SigmaToT(Tensor sigma)
    {
        var l = -InputScale(sigma).log();
        return ((BetaMin * BetaMin + 4 * Delta * l).sqrt() - BetaMin) / Delta;
    }

    /// <summary>m as a function of σ: 1/√(1+σ²) (VP) or (√(σ²+4) − σ)/2 (sub-VP, from σ = (1 − m²)/m).</summary>
    public Tensor InputScale(Tensor sigma) =>
        SubVp ? ((sigma.square() + 4).sqrt() - sigma) / 2 : (sigma.square() + 1).rsqrt();
}
