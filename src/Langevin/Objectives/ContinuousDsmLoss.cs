using Langevin.Training;
using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>
/// Denoising score matching for the continuous VP / sub-VP SDEs (Song et al. 2021, Eq. 7; score_sde's losses.py
/// get_sde_loss_fn): t ~ U(ε, 1), x_t = m x₀ + std z, loss ‖std·s_θ(x_t, t) + z‖² (λ(t) = std², the default) or, with
/// likelihood weighting λ(t) = g(t)² (Song et al. 2021b, "Maximum likelihood training", Thm. 1), g²‖s_θ + z/std‖²;
/// averaged over dimensions (score_sde sums them unless reduce_mean). Importance sampling draws t with density
/// ∝ g²/std², which for the VP SDE has the closed-form inverse CDF t = B⁻¹(log(1 + e^Z)), B(t) = ∫₀ᵗβ, Z ~ U(Z(ε), Z(1)),
/// Z(t) = log(e^{B(t)} − 1); the weight becomes the constant (Z(1) − Z(ε))/(1 − ε).
/// The model's score is in the σ-frame; the scaled frame's is s_θ(x_t, t) = s(x, σ)/m.
/// </summary>
public sealed class ContinuousDsmLoss : IDenoiserObjective
{
    public VpSde Sde { get; }
    public double Epsilon { get; }
    public bool LikelihoodWeighting { get; }
    public bool ImportanceSampling { get; }

    public ContinuousDsmLoss(VpSde sde, bool likelihoodWeighting = false, bool importanceSampling = false, double epsilon = 1e-5)
    {
        if (importanceSampling && !likelihoodWeighting) throw SettingException.Sentence("sde.importance_sampling", true, "needs likelihood weighting");
        if (importanceSampling && sde.SubVp) throw SettingException.Sentence("sde.importance_sampling", true, "is implemented for the VP SDE only (its inverse CDF is closed-form)");
        (Sde, LikelihoodWeighting, ImportanceSampling, Epsilon) = (sde, likelihoodWeighting, importanceSampling, epsilon);
    }

    /// <summary>B(t) = ∫₀ᵗ β = ½t²(β_max − β_min) + t β_min.</summary>
    double IntegratedBeta(double t) => 0.5 * t * t * (Sde.BetaMax - Sde.BetaMin) + t * Sde.BetaMin;

    double Z(double t) => Math.Log(double.ExpM1(IntegratedBeta(t)));

    /// <summary>Draws t: uniform on [ε, 1], or ∝ g²/std² by inverting its CDF (VP).</summary>
    public Tensor SampleTimes(long n, Generator gen, ScalarType dtype, Device device)
    {
        var u = ItemDraws.Rand([n], gen, float64, device);
        if (!ImportanceSampling) return (u * (1 - Epsilon) + Epsilon).to(dtype);
        double z0 = Z(Epsilon), z1 = Z(1);
        var b = (u * (z1 - z0) + z0).exp().log1p();                                 // B = log(1 + e^Z)
        double d = Sde.BetaMax - Sde.BetaMin;
        return (((Sde.BetaMin * Sde.BetaMin + 2 * d * b).sqrt() - Sde.BetaMin) / d).to(dtype); // B⁻¹
    }

    /// <summary>The constant weight that importance sampling leaves: ∫_ε^1 g²/std² dt / (1 − ε).</summary>
    public double ImportanceWeight => (Z(1) - Z(Epsilon)) / (1 - Epsilon);

    public Tensor Losses(PreconditionedDenoiser model, Tensor x0, Generator gen)
    {
        using var scope = NewDisposeScope();
        var t = SampleTimes(x0.shape[0], gen, x0.dtype, x0.device);
        var z = ItemDraws.Randn(x0.shape, gen, x0.dtype, x0.device);
        var sigma = Sde.Sigma(t);
        var x = x0 + sigma.Broadcast(x0) * z;                                       // x_t / m(t)
        var std = Sde.Std(t).Broadcast(x0);
        var scaledScore = model.Score(x, sigma) * Sde.InputScale(sigma).Broadcast(x0).reciprocal(); // ∇_{x_t} log p_t = s(x, σ)/m
        var residual = (scaledScore * std + z).square().MeanPerItem();             // ‖std·s + z‖² = std²‖s + z/std‖²
        if (!LikelihoodWeighting) return residual.MoveToOuterDisposeScope();
        if (ImportanceSampling) return (ImportanceWeight * residual).MoveToOuterDisposeScope();
        return (Sde.Diffusion(t).square() / Sde.Std(t).square() * residual).MoveToOuterDisposeScope(); // g²‖s + z/std‖²
    }
}
