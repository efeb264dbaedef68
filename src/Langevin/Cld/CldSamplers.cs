using Langevin.Models;
using Langevin.Processes;
using static TorchSharp.torch;
using Langevin.Samplers;

namespace Langevin.Cld;

/// <summary>
/// Samplers for critically-damped Langevin diffusion (Dockhorn et al. 2022), k-diffusion style: each runs the reverse
/// process from u = [x, v] at t = 1 down to t_min on a uniform grid of <c>steps</c> steps and returns u. The state is
/// position–velocity, so these live beside the scalar-σ <see cref="DiffusionSamplers"/> rather than inside them.
/// In reverse time the SDE is du = [−f(u) + (0, 2Γβ s_θ)] dτ + (0, √(2Γβ)) dW̄ and the probability-flow ODE
/// du/dτ = −f(u) + (0, Γβ s_θ) (Sec. 3.3; Song et al. 2021b, Eq. 6 and 13). onStep reports (done, total) NFE;
/// onFrame receives x after every step.
/// </summary>
public static class CldSamplers
{
    public static readonly IReadOnlyList<string> Names = ["sscs", "em", "ode", "ode-rk45"];

    /// <summary>Network evaluations a sampler spends: one per step, four per RK4 step of the ODE, unknown (0) for the adaptive ode-rk45.</summary>
    public static int FunctionEvaluations(string name, int steps) => name switch { "ode" => 4 * steps, "ode-rk45" => 0, _ => steps };

    /// <summary>The grid t_0 = 1 &gt; t_1 &gt; … &gt; t_N = t_min, uniform as in the paper's code.</summary>
    public static double[] Times(int steps, double minTime)
    {
        if (steps < 1) throw SettingException.About("steps", steps, $"a CLD sampler needs at least 1 step (got {steps})");
        return Enumerable.Range(0, steps + 1).Select(i => 1 - i * (1 - minTime) / steps).ToArray();
    }

    /// <summary>
    /// Symmetric splitting CLD sampler (SSCS; Dockhorn et al. 2022, Sec. 3.3, Alg. 1 / App. D): the reverse SDE splits
    /// into an analytically solvable linear part A (the reverse drift with the equilibrium score −v/M folded in, plus all
    /// the noise) and the score part S: dv = 2Γβ (s_θ + v/M) dτ; one step is A(h/2) ∘ S(h) ∘ A(h/2), S by Euler.
    /// </summary>
    public static Tensor Sscs(CldScoreModel model, Tensor u, double[] times, Generator? gen,
        Action<int, int>? onStep = null, Action<Tensor>? onFrame = null)
    {
        var p = model.Process;
        int steps = times.Length - 1;
        return DiffusionSamplers.Loop(u, steps, (u, i) =>
        {
            double h = times[i] - times[i + 1];
            var next = AnalyticHalfStep(p, u, h / 2, gen);
            var score = model.VelocityScore(next, TimeVector(next, times[i]));
            var (x, v) = CriticallyDampedLangevin.Split(next);
            // S: v ← v + h · 2Γβ (s_θ + M⁻¹ v) (App. D, the score half of the splitting, Euler)
            next = cat([x, v + h * p.DiffusionSquared * (score + v / p.Mass)], 1);
            return AnalyticHalfStep(p, next, h / 2, gen);
        }, (u, i) => Report(u, i, steps, onStep, onFrame));
    }

    static void Report(Tensor u, int i, int steps, Action<int, int>? onStep, Action<Tensor>? onFrame)
    {
        onStep?.Invoke(i + 1, steps);
        onFrame?.Invoke(CriticallyDampedLangevin.Split(u).X);
    }

    /// <summary>
    /// The linear part A of SSCS over reverse time δ: du = β [−M⁻¹ v; x − Γ M⁻¹ v] dτ + (0, √(2Γβ)) dW. With x ↦ −x it is
    /// the forward CLD SDE itself, so it is solved exactly by the forward kernel (Φ, Σ_noise over B = βδ) with the
    /// x–v couplings negated (App. D).
    /// </summary>
    public static Tensor AnalyticHalfStep(CriticallyDampedLangevin p, Tensor u, double delta, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var b = tensor(p.Beta * delta, float64);
        var (pxx, pxv, pvx, pvv) = CriticallyDampedLangevin.Transition(b, p.Friction);
        var noise = CriticallyDampedLangevin.NoiseCovariance(b, p.Friction);
        var (x, v) = CriticallyDampedLangevin.Split(u);
        var zx = randn(x.shape, generator: gen, dtype: x.dtype, device: x.device);
        var zv = randn(x.shape, generator: gen, dtype: x.dtype, device: x.device);
        double dxx = pxx.item<double>(), dxv = pxv.item<double>(), dvx = pvx.item<double>(), dvv = pvv.item<double>();
        // Cholesky of the noise covariance with Σxv negated (see CldCovariance.Cholesky), guarded against round-off at tiny δ
        double sxx = Math.Sqrt(Math.Max(noise.Xx.item<double>(), 0));
        double svx = sxx > 0 ? -noise.Xv.item<double>() / sxx : 0;
        double svv = Math.Sqrt(Math.Max(noise.Vv.item<double>() - svx * svx, 0));
        var nx = dxx * x - dxv * v + sxx * zx;                                 // mean Φ with the x–v couplings negated
        var nv = -dvx * x + dvv * v + svx * zx + svv * zv;
        return cat([nx, nv], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Euler–Maruyama on the reverse SDE (Sec. 3.3; the paper's EM baseline).</summary>
    public static Tensor EulerMaruyama(CldScoreModel model, Tensor u, double[] times, Generator? gen,
        Action<int, int>? onStep = null, Action<Tensor>? onFrame = null)
    {
        var p = model.Process;
        int steps = times.Length - 1;
        return DiffusionSamplers.Loop(u, steps, (u, i) =>
        {
            double h = times[i] - times[i + 1];
            var drift = ReverseDrift(model, u, times[i], 1.0);
            var (x, v) = CriticallyDampedLangevin.Split(u + h * drift);
            var z = randn(v.shape, generator: gen, dtype: v.dtype, device: v.device);
            return cat([x, v + Math.Sqrt(p.DiffusionSquared * h) * z], 1);   // noise only on v: G = (0, √(2Γβ))
        }, (u, i) => Report(u, i, steps, onStep, onFrame));
    }

    /// <summary>
    /// The probability-flow ODE integrated by a fixed-step classical RK4 on the grid (4 NFE per step). The right-hand side
    /// is public (<see cref="ProbabilityFlowDrift"/>) so that an adaptive integrator can take its place.
    /// </summary>
    public static Tensor ProbabilityFlow(CldScoreModel model, Tensor u, double[] times,
        Action<int, int>? onStep = null, Action<Tensor>? onFrame = null)
    {
        int steps = times.Length - 1, total = 4 * steps, done = 0;
        Tensor F(Tensor y, double t) { var d = ProbabilityFlowDrift(model, y, t); done++; onStep?.Invoke(done, total); return d; }
        return DiffusionSamplers.Loop(u, steps, (u, i) =>
        {
            double t = times[i], h = t - times[i + 1], mid = t - h / 2;
            // classical RK4 in reverse time τ = 1 − t
            var k1 = F(u, t);
            var k2 = F(u + h / 2 * k1, mid);
            var k3 = F(u + h / 2 * k2, mid);
            var k4 = F(u + h * k3, times[i + 1]);
            return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
        }, (u, _) => onFrame?.Invoke(CriticallyDampedLangevin.Split(u).X));
    }

    /// <summary>
    /// The probability-flow ODE solved adaptively by <see cref="DormandPrince"/> (RK45, as the paper's code and score_sde use
    /// scipy's solve_ivp) from t = 1 down to t_min: du/dt = −(du/dτ) of <see cref="ProbabilityFlowDrift"/>. Returns u and the
    /// NFE, which the tolerances decide; onStep reports (done, done) as the evaluations happen.
    /// </summary>
    public static (Tensor U, int Evaluations) ProbabilityFlowRk45(CldScoreModel model, Tensor u, double minTime, double rtol = 1e-5,
        double atol = 1e-5, Action<int, int>? onStep = null)
    {
        if (!(minTime > 0 && minTime < 1)) throw new ArgumentOutOfRangeException(nameof(minTime), minTime, "t_min must lie in (0, 1)");
        using var _ = no_grad();
        return DormandPrince.Solve((t, y) => -ProbabilityFlowDrift(model, y, t), u, 1.0, minTime, rtol, atol,
            onEvaluation: n => onStep?.Invoke(n, n));
    }

    /// <summary>du/dτ of the probability-flow ODE in reverse time τ = 1 − t: −f(u) + (0, Γβ s_θ(u, t)) (Song et al. 2021b, Eq. 13).</summary>
    public static Tensor ProbabilityFlowDrift(CldScoreModel model, Tensor u, double t) => ReverseDrift(model, u, t, 0.5);

    /// <summary>−f(u) + (0, c · 2Γβ s_θ(u, t)): c = 1 for the reverse SDE, ½ for the probability-flow ODE.</summary>
    static Tensor ReverseDrift(CldScoreModel model, Tensor u, double t, double c)
    {
        var p = model.Process;
        var score = model.VelocityScore(u, TimeVector(u, t));
        var (fx, fv) = CriticallyDampedLangevin.Split(p.Drift(u));
        return cat([-fx, -fv + c * p.DiffusionSquared * score], 1);
    }

    static Tensor TimeVector(Tensor u, double t) => full([u.shape[0]], t, float64, u.device);
}
