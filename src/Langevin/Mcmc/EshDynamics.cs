using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>
/// Energy-sampling Hamiltonian (ESH) dynamics (Versteeg 2021, "Hamiltonian dynamics with non-Newtonian momentum for rapid
/// sampling", NeurIPS). H = E(x) + (d/2) log(|v|²/d) with E = −log p; in the time-scaled form (Eq. 9) the state is the
/// position x, the unit velocity u = v/|v| and r = log|v|, moving as dx/dτ = u, du/dτ = −(I − uuᵀ)∇E/d, dr/dτ = −u·∇E/d.
/// One <see cref="Step"/> is one trajectory of L leapfrog steps (Alg. 1: half step of (u, r), full step of x, half step of
/// (u, r)) from a fresh uniformly random direction. There is no Metropolis test; the dynamics are deterministic.
/// With <see cref="Reservoir"/> the returned state is drawn from the whole trajectory with probability ∝ the original
/// time Δt ∝ e^{r} spent at each state (the ergodic time average, §3.2, done by reservoir sampling); otherwise the end point.
/// </summary>
public sealed class EshDynamics : McmcKernel
{
    public EshDynamics(ITarget target, double stepSize, int leapfrogSteps, bool reservoir = true) : base(target)
    {
        CheckStepSize(stepSize);
        if (leapfrogSteps < 1) throw new UsageException($"ESH leapfrog steps must be ≥ 1, got {leapfrogSteps}");
        StepSize = stepSize;
        LeapfrogSteps = leapfrogSteps;
        Reservoir = reservoir;
    }

    public double StepSize { get; }
    public int LeapfrogSteps { get; }
    public bool Reservoir { get; }

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var result = Trajectory(x, CheckedScore, StepSize, LeapfrogSteps, Reservoir, gen);
        StepCount++;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One ESH trajectory from x over <paramref name="score"/> (= −∇E), flattening all but the batch dimension, from a fresh
    /// uniformly random unit velocity and r = 0. Returns the end point or the reservoir draw. Used by the kernel and by EBMs.
    /// </summary>
    public static Tensor Trajectory(Tensor x, Func<Tensor, Tensor> score, double eps, int steps, bool reservoir, Generator? gen)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var u = randn(x.shape, x.dtype, x.device, generator: gen);
        u = u / u.flatten(1).norm(1, keepdim: true).view(Broadcast(x));
        var r = zeros([b], x.dtype, x.device);
        var grad = -score(x);                                  // ∇E
        var kept = x;
        var logTotal = full([b], double.NegativeInfinity, x.dtype, x.device);
        for (int k = 0; k < steps; k++)
        {
            using var stepScope = NewDisposeScope();
            var (u1, r1, logDt0) = HalfStepVelocity(u, r, grad, eps / 2);
            var xn = x + eps * u1;                             // full step of x (Alg. 1)
            var gn = -score(xn);
            var (u2, r2, logDt1) = HalfStepVelocity(u1, r1, gn, eps / 2);
            if (reservoir)
            {
                // reservoir sampling with weights Δt: keep the new state with probability Δt / Σ Δt (Versteeg 2021, §3.2)
                var logDt = logaddexp(logDt0, logDt1);
                var total = logaddexp(logTotal, logDt);
                var take = rand([b], x.dtype, x.device, generator: gen).log() < logDt - total;
                kept = where(take.view(Broadcast(x)), xn, kept);
                logTotal = total;
            }
            (x, u, r, grad) = (xn, u2, r2, gn);
            foreach (var t in new[] { x, u, r, grad, kept, logTotal }) t.MoveToOuterDisposeScope();
        }
        return (reservoir ? kept : x).MoveToOuterDisposeScope();
    }

    static long[] Broadcast(Tensor x) => [x.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 1)];

    /// <summary>
    /// The exact solution of du/dτ = −(I − uuᵀ)g/d, dr/dτ = −u·g/d over time ε for a fixed gradient g (Versteeg 2021, Eq. 10):
    /// with e = −g/|g|, a = u·e, δ = ε|g|/d,
    /// u' ∝ u + e (sinh δ + a (cosh δ − 1)), r' = r + log(cosh δ + a sinh δ), and the original time spent
    /// Δt ∝ e^{r} (sinh δ + a (cosh δ − 1))/|g|. Written with e^{−δ} so nothing overflows; returns log Δt (up to log d).
    /// </summary>
    internal static (Tensor U, Tensor R, Tensor LogDt) HalfStepVelocity(Tensor u, Tensor r, Tensor grad, double eps)
    {
        using var scope = NewDisposeScope();
        long d = u[0].numel();
        var shape = Broadcast(u);
        var gNorm = grad.flatten(1).norm(1);                   // |g|, [B]
        var e = -grad / gNorm.view(shape);                     // unit vector downhill
        var a = (u * e).flatten(1).sum(1);                     // u·e ∈ [−1, 1]
        var delta = gNorm * (eps / d);
        var q = (-delta).exp();                                // e^{−δ}
        var q2 = q.square();
        // 2e^{−δ} × (sinh δ + a (cosh δ − 1)) = (1 − e^{−2δ}) + a (1 − e^{−δ})²
        var along = (1 - q2) + a * (1 - q).square();
        // 2e^{−δ} × u' (unnormalised) = 2e^{−δ} u + e · along
        var un = 2 * q.view(shape) * u + along.view(shape) * e;
        un = un / un.flatten(1).norm(1).view(shape);
        // log(cosh δ + a sinh δ) = δ − log 2 + log(1 + a + (1 − a) e^{−2δ})
        var dr = delta - Math.Log(2) + (1 + a + (1 - a) * q2).log();
        // a = −1 exactly (u straight uphill): u stays, r falls by δ
        var antiparallel = a <= -1;
        un = where(antiparallel.view(shape), u, un);
        dr = where(antiparallel, -delta, dr);
        // log Δt = r + δ − log(2|g|) + log(along) (up to the constant log d)
        var logDt = r + delta - (2 * gNorm).log() + along.log();
        return (un.MoveToOuterDisposeScope(), (r + dr).MoveToOuterDisposeScope(), logDt.MoveToOuterDisposeScope());
    }
}
