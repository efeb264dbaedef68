using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cld;

/// <summary>
/// Hybrid score matching (Dockhorn et al. 2022, Sec. 3.2, Eq. 9–10): with x₀ from the data and v₀ ~ N(0, γM)
/// marginalised, p(u_t | x₀) is Gaussian and its velocity score is −ℓ_t ε_v, so
/// <code>  L = E_{t, x₀, ε} [ λ(t) ‖ s_θ(μ_t + L_t ε, t) + ℓ_t ε_v ‖² ],  t ~ U[t_min, 1]. </code>
/// Weightings λ(t): <c>eps</c> = ℓ_t⁻², the plain ε-loss ‖ε_v − (−s_θ/ℓ_t)‖² (the paper's "reweighted" objective and
/// its code's toy default), and <c>likelihood</c> = βΓ, the squared diffusion ½ G Gᵀ that makes L a bound on the
/// negative log-likelihood (Sec. 3.2; Song et al. 2021b). Summed over dimensions, averaged over the batch.
/// </summary>
public sealed class HybridScoreMatching
{
    public static readonly IReadOnlyList<string> Weightings = ["eps", "likelihood"];

    public HybridScoreMatching(string weighting = "eps", double minTime = 1e-5)
    {
        if (!Weightings.Contains(weighting)) throw new SettingException("cld.weighting", weighting, $"must be one of {string.Join(", ", Weightings)}");
        if (!(minTime > 0 && minTime < 1)) throw new UsageException($"CLD training t_min must be in (0, 1) (got {minTime})");
        Weighting = weighting;
        MinTime = minTime;
    }

    public string Weighting { get; }
    public double MinTime { get; }

    public Tensor Loss(CldScoreModel model, Tensor x0, Generator gen)
    {
        var process = model.Process;
        long b = x0.shape[0];
        var t = rand([b], float64, x0.device, generator: gen) * (1 - MinTime) + MinTime;   // t ~ U[t_min, 1]
        var (x, v, epsV) = process.PerturbHsm(x0, t, gen);
        var score = model.VelocityScore(cat([x, v], 1), t);
        var ell = CriticallyDampedLangevin.Expand(process.HsmCovariance(t).Ell(), x0).to(x0.dtype);
        var residual = Weighting == "eps"
            ? score / ell + epsV                                               // λ = ℓ⁻²: ‖s/ℓ + ε_v‖²
            : Math.Sqrt(process.Beta * process.Friction) * (score + ell * epsV); // λ = βΓ: βΓ ‖s + ℓ ε_v‖²
        return residual.square().reshape(b, -1).sum(1).mean();
    }
}
