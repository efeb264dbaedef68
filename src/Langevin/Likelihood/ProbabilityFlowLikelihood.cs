using Langevin.Models;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>How the divergence of the probability-flow drift is computed.</summary>
public enum TraceEstimator { Exact, Rademacher, Gaussian }

/// <summary>
/// Log-likelihood through the probability-flow ODE (Song et al. 2021, §4.3 and App. D.2; Chen et al. 2018's
/// instantaneous change of variables): in the σ-frame with u = ln σ the flow is dx/du = x − D(x, e^u), and
/// log p_{σ_min}(x) = log p_{σ_max}(x(u_max)) + ∫_{u_min}^{u_max} ∇·(x − D(x, e^u)) du, solved forward from the data with
/// <see cref="DormandPrince"/>. The divergence is exact (one backward pass per dimension) or the Skilling–Hutchinson
/// estimate εᵀ ∂(x − D)/∂x ε with K probes ε drawn once per sample (Rademacher or Gaussian), as score_sde does. The prior
/// at σ_max is N(0, (σ_max² + <see cref="PriorExtraVariance"/>) I): 0 for VE/EDM, 1 for VP (N(0, I) in the VP frame).
/// </summary>
public sealed record ProbabilityFlowLikelihood(double SigmaMin, double SigmaMax, double PriorExtraVariance = 0,
    TraceEstimator Estimator = TraceEstimator.Rademacher, int Probes = 1, double Rtol = 1e-5, double Atol = 1e-5)
{
    /// <summary>The result per sample: log-density in nats (of the σ-frame density at σ_min) and the NFE spent.</summary>
    public sealed record Result(Tensor LogDensity, int Evaluations);

    /// <summary>log p(x) for each row of <paramref name="x"/> [B, …] (any dtype; float64 recommended for tests).</summary>
    public Result LogDensity(IScoreModel model, Tensor x, Generator? gen = null, Action<int>? onEvaluation = null)
    {
        if (!(SigmaMin > 0) || !(SigmaMax > SigmaMin)) throw new UsageException($"the σ range must satisfy 0 < σ_min < σ_max (got {SigmaMin}, {SigmaMax})");
        if (Probes < 1) throw new UsageException($"--probes must be ≥ 1 (got {Probes})");
        using var scope = NewDisposeScope();
        long b = x.shape[0], d = x[0].numel();
        var shape = x.shape;
        var probes = Estimator switch
        {
            TraceEstimator.Rademacher => randint(0, 2, [Probes, .. shape], generator: gen, dtype: x.dtype, device: x.device) * 2 - 1,
            TraceEstimator.Gaussian => randn([Probes, .. shape], generator: gen, dtype: x.dtype, device: x.device),
            _ => null,
        };
        // State: [B, d + 1] = (x flattened, accumulated divergence).
        Tensor Drift(double u, Tensor state)
        {
            using var inner = NewDisposeScope();
            var xs = state[.., ..(int)d].reshape(shape).detach().requires_grad_(true);
            double sigma = Math.Exp(u);
            using var enable = enable_grad();
            var drift = xs - model.Denoise(xs, full([b], sigma, dtype: x.dtype, device: x.device));
            var divergence = Divergence(drift, xs, probes, d);
            return cat([drift.detach().reshape(b, d), divergence.detach().reshape(b, 1)], 1).MoveToOuterDisposeScope();
        }
        var start = cat([x.reshape(b, d), zeros([b, 1], dtype: x.dtype, device: x.device)], 1);
        var (end, evaluations) = DormandPrince.Solve(Drift, start, Math.Log(SigmaMin), Math.Log(SigmaMax), Rtol, Atol, onEvaluation);
        var xT = end[.., ..(int)d];
        var integral = end[.., (int)d];
        double priorVariance = SigmaMax * SigmaMax + PriorExtraVariance;
        var prior = -0.5 * xT.square().sum(1) / priorVariance - 0.5 * d * Math.Log(2 * Math.PI * priorVariance);
        return new Result((prior + integral).MoveToOuterDisposeScope(), evaluations);
    }

    /// <summary>∇·f at xs, exactly (a backward pass per coordinate) or by the Hutchinson estimate averaged over the probes.</summary>
    static Tensor Divergence(Tensor f, Tensor xs, Tensor? probes, long d)
    {
        var flatF = f.reshape(f.shape[0], d);
        if (probes is null)
        {
            var total = zeros([f.shape[0]], dtype: f.dtype, device: f.device);
            for (long i = 0; i < d; i++)
            {
                var g = autograd.grad([flatF[.., i].sum()], [xs], retain_graph: true)[0];
                total = total + g.reshape(f.shape[0], d)[.., i];
            }
            return total;
        }
        var estimate = zeros([f.shape[0]], dtype: f.dtype, device: f.device);
        for (long k = 0; k < probes.shape[0]; k++)
        {
            var eps = probes[k];
            var g = autograd.grad([(f * eps).sum()], [xs], retain_graph: true)[0];   // εᵀ J (one vector–Jacobian product)
            estimate = estimate + (g * eps).reshape(f.shape[0], d).sum(1);           // εᵀ J ε
        }
        return estimate / probes.shape[0];
    }

    /// <summary>Bits per dimension of data quantised to 256 levels and scaled to [−1, 1], from the log-density of the dequantised point (Ho et al. 2020, §4; Song et al. 2021, App. D.2).</summary>
    public static Tensor BitsPerDimension(Tensor logDensity, long dims, bool quantisedImages)
    {
        var bpd = -logDensity / (dims * Math.Log(2));
        return quantisedImages ? bpd + Math.Log2(128) : bpd;                   // density × (2/256)^d is the probability of the bin
    }
}
