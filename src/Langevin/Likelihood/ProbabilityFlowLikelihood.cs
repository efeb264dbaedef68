using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>
/// Log-likelihood through the probability-flow ODE (Song et al. 2021, §4.3 and App. D.2; Chen et al. 2018's
/// instantaneous change of variables): in the σ-frame with u = ln σ the flow is dx/du = x − D(x, e^u), and
/// log p_{σ_min}(x) = log p_{σ_max}(x(u_max)) + ∫_{u_min}^{u_max} ∇·(x − D(x, e^u)) du, solved forward from the data by
/// <see cref="InstantaneousChangeOfVariables"/> (adaptive RK45; the divergence exact or the Skilling–Hutchinson estimate
/// with K probes drawn once per sample, Rademacher or Gaussian, as score_sde does). The prior
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
        using var scope = NewDisposeScope();
        long b = x.shape[0], d = x[0].numel();
        Tensor Drift(double u, Tensor xs) => xs - model.Denoise(xs, full([b], Math.Exp(u), dtype: x.dtype, device: x.device));
        var flow = new InstantaneousChangeOfVariables(Estimator, Probes, Rtol, Atol)
            .Integrate(Drift, x, Math.Log(SigmaMin), Math.Log(SigmaMax), gen, onEvaluation);
        double priorVariance = SigmaMax * SigmaMax + PriorExtraVariance;
        var prior = -0.5 * flow.End.reshape(b, d).square().sum(1) / priorVariance - 0.5 * d * Math.Log(2 * Math.PI * priorVariance);
        return new Result((prior + flow.DivergenceIntegral).MoveToOuterDisposeScope(), flow.Evaluations);
    }

    /// <summary>Bits per dimension of data quantised to 256 levels and scaled to [−1, 1], from the log-density of the dequantised point (Ho et al. 2020, §4; Song et al. 2021, App. D.2).</summary>
    public static Tensor BitsPerDimension(Tensor logDensity, long dims, bool quantisedImages)
    {
        var bpd = -logDensity / (dims * Math.Log(2));
        return quantisedImages ? bpd + Math.Log2(128) : bpd;                   // density × (2/256)^d is the probability of the bin
    }
}
