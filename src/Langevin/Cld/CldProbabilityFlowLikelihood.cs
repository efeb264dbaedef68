using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Likelihood;

namespace Langevin.Cld;

/// <summary>
/// The likelihood of critically-damped Langevin diffusion through its probability-flow ODE (Dockhorn et al. 2022, Sec. 3
/// and App. on likelihood computation; Song et al. 2021b, App. D.2). The joint state u = (x, v) follows, in forward time,
/// du/dt = f(u) − (0, Γβ s_θ(u, t)) (only v carries noise, so only its score enters), and the instantaneous change of
/// variables gives log p(x₀, v₀) = log N(u(1); 0, diag(I, M I)) + ∫_{t_min}^1 ∇·(du/dt) dt exactly, up to the solver and
/// the equilibrium standing in for p_1. The velocity is auxiliary: by Jensen,
/// <code>  log p(x₀) = log ∫ p(x₀, v₀) dv₀ ≥ E_{v₀~N(0, γM I)}[log p(x₀, v₀)] + H(N(0, γM I)),  H = (d/2) log(2πe γM), </code>
/// the bound the paper reports in bits/dim; one v₀ per item gives an unbiased estimate of it. The trace estimator and the
/// integrator are the σ-frame likelihood's (<see cref="InstantaneousChangeOfVariables"/>).
/// </summary>
public sealed record CldProbabilityFlowLikelihood(double MinTime = 1e-5, TraceEstimator Estimator = TraceEstimator.Rademacher,
    int Probes = 1, double Rtol = 1e-5, double Atol = 1e-5)
{
    /// <summary>log p(x₀, v₀) in nats per item and the NFE spent.</summary>
    public sealed record Joint(Tensor LogDensity, int Evaluations);

    /// <summary>The bound on log p(x₀) per item (nats), the joint log p(x₀, v₀) it came from, the drawn v₀, and the NFE.</summary>
    public sealed record Bound(Tensor LogDensityBound, Tensor JointLogDensity, Tensor Velocity, int Evaluations);

    /// <summary>log p(x₀, v₀) of the model, for x₀ and v₀ of the data's shape [B, …] (float64 recommended for tests).</summary>
    public Joint JointLogDensity(CldScoreModel model, Tensor x0, Tensor v0, Generator? gen = null, Action<int>? onEvaluation = null)
    {
        if (!(MinTime > 0 && MinTime < 1)) throw SettingException.About("min_time", MinTime, $"the CLD likelihood ODE starts at t_min in (0, 1) (got {MinTime})");
        using var scope = NewDisposeScope();
        var p = model.Process;
        // du/dt = −du/dτ: the sampler's reverse-time right-hand side, negated (Song et al. 2021b, Eq. 13)
        Tensor Drift(double t, Tensor u) => -CldSamplers.ProbabilityFlowDrift(model, u, t);
        var flow = new InstantaneousChangeOfVariables(Estimator, Probes, Rtol, Atol)
            .Integrate(Drift, cat([x0, v0], 1), MinTime, 1.0, gen, onEvaluation);
        var (x1, v1) = CriticallyDampedLangevin.Split(flow.End);
        var prior = IsotropicGaussianLogDensity(x1, 1) + IsotropicGaussianLogDensity(v1, p.Mass);   // the equilibrium N(0, I) × N(0, M I)
        return new Joint((prior + flow.DivergenceIntegral).MoveToOuterDisposeScope(), flow.Evaluations);
    }

    /// <summary>
    /// The bound E_{v₀}[log p(x₀, v₀)] + H(N(0, γM I)) on log p(x₀), estimated per item with one v₀ ~ N(0, γM I) drawn
    /// from <paramref name="gen"/>.
    /// </summary>
    public Bound LogDensityBound(CldScoreModel model, Tensor x0, Generator? gen = null, Action<int>? onEvaluation = null)
    {
        using var scope = NewDisposeScope();
        var p = model.Process;
        var v0 = randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device) * Math.Sqrt(p.VelocityVariance * p.Mass);
        var joint = JointLogDensity(model, x0, v0, gen, onEvaluation);
        var bound = joint.LogDensity + VelocityEntropy(p, x0[0].numel());
        return new Bound(bound.MoveToOuterDisposeScope(), joint.LogDensity.MoveToOuterDisposeScope(), v0.MoveToOuterDisposeScope(),
            joint.Evaluations);
    }

    /// <summary>H(N(0, γM I_d)) = (d/2) log(2πe γM), the entropy of the initial velocity.</summary>
    public static double VelocityEntropy(CriticallyDampedLangevin process, long dims) =>
        0.5 * dims * Math.Log(2 * Math.PI * Math.E * process.VelocityVariance * process.Mass);

    /// <summary>log N(z; 0, variance I) per item of z [B, …].</summary>
    public static Tensor IsotropicGaussianLogDensity(Tensor z, double variance)
    {
        long d = z[0].numel();
        return -0.5 * z.reshape(z.shape[0], d).square().sum(1) / variance - 0.5 * d * Math.Log(2 * Math.PI * variance);
    }
}
