using Langevin.Models;
using Langevin.Processes;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// diffusers' DPMSolverMultistep and UniPCMultistep schedulers with Karras σ's step with the exact σ but query an
/// ε-network at the timestep rounded to an integer, t_r = round(t(σ)). This adapter reproduces that (`--round-timesteps`):
/// the state x_vp = √ᾱ(σ)·x goes to the model as if it were at σ_r = σ(t_r), giving ε_r = (x_vp − √ᾱ_r D(x_vp/√ᾱ_r, σ_r))/√(1 − ᾱ_r),
/// which the scheduler reads with its own σ: D(x, σ) ≈ x − σ ε_r. diffusers' DPMSolverMultistep truncates instead of
/// rounding for cosine betas (its int64 cast without .round()); <paramref name="truncate"/> reproduces that.
/// </summary>
public sealed class RoundedTimestepModel(IScoreModel inner, VpDiscreteSchedule schedule, bool truncate = false) : IScoreModel
{
    /// <summary>σ at the integer timestep nearest (numpy's round half to even; or below, when truncating) to the continuous timestep of σ.</summary>
    public double RoundedSigma(double sigma)
    {
        double t = schedule.SigmaToT(sigma);
        return schedule.Sigma((int)(truncate ? Math.Floor(t) : Math.Round(t, MidpointRounding.ToEven)));
    }

    public Tensor Score(Tensor x, Tensor sigma)
    {
        double s = (sigma.dim() == 0 ? sigma : sigma[0]).to(float64).item<double>();
        double r = RoundedSigma(s);
        if (r == s) return inner.Score(x, sigma);
        using var scope = NewDisposeScope();
        double a = SamplingPlan.VpScale(s), ar = SamplingPlan.VpScale(r);
        var xr = x * (a / ar);                                                // x_vp/√ᾱ_r in the σ_r frame
        var dr = inner.Denoise(xr, full_like(sigma, r));
        var epsR = (a * x - ar * dr) / (r * ar);                              // √(1 − ᾱ_r) = σ_r √ᾱ_r
        return (-epsR / sigma.Broadcast(x)).MoveToOuterDisposeScope();       // s = (D − x)/σ² with D = x − σ ε_r
    }
}
