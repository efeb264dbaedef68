using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cld;

/// <summary>
/// The velocity score s_θ(u_t, t) ≈ ∇_v log p_t(x, v) of critically-damped Langevin diffusion, over a network that sees
/// u = [x, v] (twice the data's channels or coordinates) and 1000·t, and predicts the velocity noise α_θ of the ε-parameterisation
/// (Dockhorn et al. 2022, Sec. 3.2): s_θ = −ℓ_t α_θ, or with the mixed score (their Sec. 4 / App. C.2)
/// s_θ = −v / Σ^vv_t − ℓ_t α_θ, where Σ^vv_t is the velocity variance of the HSM kernel from a point x₀ (the score of v
/// were the data a point at 0) and the network learns the residual. The network's x-half output is unused.
/// </summary>
public sealed class CldScoreModel(nn.Module<Tensor, Tensor, Tensor> network, CriticallyDampedLangevin process, bool mixedScore = true)
{
    public nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;
    public CriticallyDampedLangevin Process { get; } = process;
    public bool MixedScore { get; } = mixedScore;

    /// <summary>α_θ(u, t): the network's velocity half. u: [B, 2C, …] = [x, v]; t: [B] in (0, 1].</summary>
    public Tensor NetworkOutput(Tensor u, Tensor t)
    {
        long c = u.shape[1] / 2;
        return Network.call(u, (1000 * t).to(float32)).narrow(1, c, c);
    }

    /// <summary>s_θ(u, t) ≈ ∇_v log p_t(u): [B, C, …] for u of [B, 2C, …] and t of [B] (float64 or float32).</summary>
    public Tensor VelocityScore(Tensor u, Tensor t)
    {
        using var scope = NewDisposeScope();
        var cov = Process.HsmCovariance(t);
        var ell = CriticallyDampedLangevin.Expand(cov.Ell(), u).to(u.dtype);
        var alpha = NetworkOutput(u, t);
        var score = -ell * alpha;                                              // s = −ℓ_t α_θ (Sec. 3.2)
        if (MixedScore)
        {
            var (_, v) = CriticallyDampedLangevin.Split(u);
            score = score - v / CriticallyDampedLangevin.Expand(cov.Vv, u).to(u.dtype);   // + the Gaussian part −v/Σ^vv_t (App. C.2)
        }
        return score.MoveToOuterDisposeScope();
    }
}
