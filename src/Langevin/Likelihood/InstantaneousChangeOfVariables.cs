using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>How the divergence of the probability-flow drift is computed.</summary>
public enum TraceEstimator { Exact, Rademacher, Gaussian }

/// <summary>
/// The instantaneous change of variables (Chen et al. 2018, Thm. 1) along an ODE dy/ds = f(s, y): solving y together with
/// ∫∇·f ds from s₀ to s₁ gives log p_{s₀}(y(s₀)) = log p_{s₁}(y(s₁)) + ∫_{s₀}^{s₁} ∇·f(s, y(s)) ds. The pair is one
/// <see cref="DormandPrince"/> system (as score_sde and CLD-SGM integrate it). The divergence is exact (one backward pass
/// per coordinate) or the Skilling–Hutchinson estimate εᵀ (∂f/∂y) ε averaged over K probes ε drawn once per item
/// (Rademacher or Gaussian). Shared by the σ-frame flow (<see cref="ProbabilityFlowLikelihood"/>) and CLD's joint (x, v)
/// flow (<see cref="Langevin.Cld.CldProbabilityFlowLikelihood"/>).
/// </summary>
public sealed record InstantaneousChangeOfVariables(TraceEstimator Estimator = TraceEstimator.Rademacher, int Probes = 1,
    double Rtol = 1e-5, double Atol = 1e-5)
{
    /// <summary>y(s₁) (the shape of y₀), ∫_{s₀}^{s₁} ∇·f ds per item [B], and the evaluations of f spent.</summary>
    public sealed record Solution(Tensor End, Tensor DivergenceIntegral, int Evaluations);

    /// <summary>
    /// Integrates <paramref name="drift"/> (differentiable in y; called with gradients enabled) from y₀ [B, …] at s₀ to s₁.
    /// </summary>
    public Solution Integrate(Func<double, Tensor, Tensor> drift, Tensor y0, double s0, double s1, Generator? gen = null,
        Action<int>? onEvaluation = null)
    {
        if (Probes < 1) throw new SettingException("probes", Probes, "must be ≥ 1");
        using var scope = NewDisposeScope();
        long b = y0.shape[0], d = y0[0].numel();
        var shape = y0.shape;
        var probes = Estimator switch
        {
            TraceEstimator.Rademacher => randint(0, 2, [Probes, .. shape], generator: gen, dtype: y0.dtype, device: y0.device) * 2 - 1,
            TraceEstimator.Gaussian => randn([Probes, .. shape], generator: gen, dtype: y0.dtype, device: y0.device),
            _ => null,
        };
        // State: [B, d + 1] = (y flattened, accumulated divergence).
        Tensor F(double s, Tensor state)
        {
            using var inner = NewDisposeScope();
            var ys = state[.., ..(int)d].reshape(shape).detach().requires_grad_(true);
            using var enable = enable_grad();
            var f = drift(s, ys);
            var divergence = Divergence(f, ys, probes, d);
            return cat([f.detach().reshape(b, d), divergence.detach().reshape(b, 1)], 1).MoveToOuterDisposeScope();
        }
        var start = cat([y0.reshape(b, d), zeros([b, 1], dtype: y0.dtype, device: y0.device)], 1);
        var (end, evaluations) = DormandPrince.Solve(F, start, s0, s1, Rtol, Atol, onEvaluation);
        var y = end[.., ..(int)d].reshape(shape);
        var integral = end[.., (int)d];
        return new Solution(y.MoveToOuterDisposeScope(), integral.MoveToOuterDisposeScope(), evaluations);
    }

    /// <summary>∇·f at ys, exactly (a backward pass per coordinate) or by the Hutchinson estimate averaged over the probes.</summary>
    static Tensor Divergence(Tensor f, Tensor ys, Tensor? probes, long d)
    {
        var flatF = f.reshape(f.shape[0], d);
        if (probes is null)
        {
            var total = zeros([f.shape[0]], dtype: f.dtype, device: f.device);
            for (long i = 0; i < d; i++)
            {
                var g = autograd.grad([flatF[.., i].sum()], [ys], retain_graph: true)[0];
                total = total + g.reshape(f.shape[0], d)[.., i];
            }
            return total;
        }
        var estimate = zeros([f.shape[0]], dtype: f.dtype, device: f.device);
        for (long k = 0; k < probes.shape[0]; k++)
        {
            var eps = probes[k];
            var g = autograd.grad([(f * eps).sum()], [ys], retain_graph: true)[0];   // εᵀ J (one vector–Jacobian product)
            estimate = estimate + (g * eps).reshape(f.shape[0], d).sum(1);           // εᵀ J ε
        }
        return estimate / probes.shape[0];
    }
}
