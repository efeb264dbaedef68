using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>One MCMC transition over a batch of independent chains ([B, D] → [B, D]).</summary>
public interface IMcmcKernel
{
    Tensor Step(Tensor x, Generator? gen);
}

/// <summary>Shared bookkeeping: the step counter, NaN-checked scores and per-chain acceptance statistics.</summary>
public abstract class McmcKernel : IMcmcKernel
{
    protected McmcKernel(ITarget target) => Target = target ?? throw new ArgumentNullException(nameof(target));

    public ITarget Target { get; }

    /// <summary>Number of completed calls to <see cref="Step"/>.</summary>
    public int StepCount { get; protected set; }

    long _accepted, _proposed;

    /// <summary>Fraction of per-chain proposals accepted so far (NaN before any proposal and for ULA, which has no correction).</summary>
    public double AcceptanceRate => _proposed == 0 ? double.NaN : (double)_accepted / _proposed;

    /// <summary>Mean over chains of min(1, exp(log α)) in the last step.</summary>
    public double LastAcceptanceProbability { get; protected set; } = double.NaN;

    public void ResetAcceptance() { _accepted = 0; _proposed = 0; }

    /// <summary>Gradient (score) evaluations per chain so far: the cost unit of "ESS per gradient evaluation".</summary>
    public long GradientEvaluations { get; private set; }

    public abstract Tensor Step(Tensor x, Generator? gen);

    /// <summary>The target's score, counted as one gradient evaluation per chain.</summary>
    protected Tensor Score(Tensor x)
    {
        GradientEvaluations++;
        return Target.Score(x);
    }

    /// <summary>The target's score (counted); NaN anywhere is a <see cref="DataException"/> naming the step.</summary>
    protected Tensor CheckedScore(Tensor x)
    {
        var s = Score(x);
        using var nan = s.isnan().any();
        if (nan.item<bool>()) { s.Dispose(); throw new DataException($"target returned NaN gradients at step {StepCount + 1}"); }
        return s;
    }

    /// <summary>Metropolis–Hastings accept per chain: keep y where log u &lt; log α (NaN log α rejects).</summary>
    protected Tensor Accept(Tensor x, Tensor y, Tensor logAlpha, Generator? gen)
    {
        var u = rand([x.shape[0]], x.dtype, x.device, generator: gen);
        var accept = u.log() < logAlpha;
        _accepted += accept.sum().item<long>();
        _proposed += x.shape[0];
        LastAcceptanceProbability = logAlpha.nan_to_num(double.NegativeInfinity).clamp_max(0).exp().mean().item<double>();
        return where(accept.unsqueeze(1), y, x);
    }

    protected internal static void CheckStepSize(double stepSize)
    {
        if (!(stepSize > 0) || double.IsInfinity(stepSize)) throw new UsageException($"step size must be a positive finite number, got {stepSize}");
    }
}

/// <summary>Unadjusted Langevin algorithm: the shared <see cref="LangevinStep"/> with no correction (biased by O(α)).</summary>
public sealed class UnadjustedLangevin : McmcKernel
{
    public UnadjustedLangevin(ITarget target, double stepSize) : base(target)
    {
        CheckStepSize(stepSize);
        StepSize = stepSize;
    }

    public double StepSize { get; }

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var next = LangevinStep.Apply(x, CheckedScore(x), StepSize, gen);
        StepCount++;
        return next.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Metropolis-adjusted Langevin algorithm (Roberts &amp; Tweedie 1996): the Langevin step as a proposal,
/// corrected per chain by Metropolis–Hastings with the asymmetric Gaussian proposal densities.
/// </summary>
public sealed class Mala : McmcKernel
{
    public Mala(ITarget target, double stepSize) : base(target)
    {
        CheckStepSize(stepSize);
        StepSize = stepSize;
    }

    /// <summary>α in y = x + α∇log p(x) + √(2α) z (so the proposal variance is 2α).</summary>
    public double StepSize { get; }

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        double a = StepSize;
        var sx = CheckedScore(x);
        var y = LangevinStep.Apply(x, sx, a, gen);
        // the proposal's score is not checked: a non-finite proposal makes log α NaN and is rejected, not a data error
        var sy = Score(y);
        var logAlpha = LogAcceptance(x, y, Target.LogDensity(x), Target.LogDensity(y), sx, sy, a);
        var next = Accept(x, y, logAlpha, gen);
        StepCount++;
        return next.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// log α of MALA's Metropolis–Hastings test for y = x + α∇log p(x) + √(2α) z, per row: log p(y) − log p(x) + log q(x|y) −
    /// log q(y|x) (Hastings 1970), q the Langevin proposal (Roberts &amp; Tweedie 1996, h = 2α). Shared with the annealed sampler.
    /// </summary>
    public static Tensor LogAcceptance(Tensor x, Tensor y, Tensor logPx, Tensor logPy, Tensor scoreX, Tensor scoreY, double a)
    {
        using var scope = NewDisposeScope();
        // log q(y|x) = −|y − x − α∇log p(x)|² / (4α) + const
        var logQyx = -(y - x - a * scoreX).flatten(1).square().sum([1]) / (4 * a);
        var logQxy = -(x - y - a * scoreY).flatten(1).square().sum([1]) / (4 * a);
        return (logPy - logPx + logQxy - logQyx).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Hamiltonian Monte Carlo (Neal 2011, "MCMC using Hamiltonian dynamics", §3.2): unit mass, L leapfrog steps of size ε,
/// a Metropolis accept per chain. <see cref="Warmup"/> adapts ε by dual averaging (Hoffman &amp; Gelman 2014, Alg. 5).
/// </summary>
public sealed class Hmc : McmcKernel
{
    public Hmc(ITarget target, double stepSize, int leapfrogSteps, double targetAcceptance = 0.65) : base(target)
    {
        CheckStepSize(stepSize);
        if (leapfrogSteps < 1) throw new UsageException($"leapfrog steps must be ≥ 1, got {leapfrogSteps}");
        if (!(targetAcceptance > 0 && targetAcceptance < 1)) throw new UsageException($"target acceptance must be in (0, 1), got {targetAcceptance}");
        StepSize = stepSize;
        LeapfrogSteps = leapfrogSteps;
        TargetAcceptance = targetAcceptance;
    }

    public double StepSize { get; private set; }
    public int LeapfrogSteps { get; }
    public double TargetAcceptance { get; }

    /// <summary>Per-chain trajectories whose energy became non-finite (rejected), since construction or the end of <see cref="Warmup"/>.</summary>
    public long Divergences { get; private set; }

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        double eps = StepSize;
        var p0 = randn(x.shape, x.dtype, x.device, generator: gen);
        // H(x, p) = −log p(x) + |p|²/2 (Neal 2011, §2.1 with M = I)
        var h0 = -Target.LogDensity(x) + 0.5 * p0.square().sum(1);
        // leapfrog (Neal 2011, §2.3): half kick, L drifts with full kicks between, half kick
        var p = p0 + 0.5 * eps * CheckedScore(x);
        var q = x;
        for (int l = 1; l <= LeapfrogSteps; l++)
        {
            q = q + eps * p;
            // not checked: a trajectory that blows up (inf/NaN) is a divergence and is rejected below, not a data error
            var s = Score(q);
            p = l < LeapfrogSteps ? p + eps * s : p + 0.5 * eps * s;
        }
        var h1 = -Target.LogDensity(q) + 0.5 * p.square().sum(1);
        var logAlpha = h0 - h1;
        Divergences += (~logAlpha.isfinite()).sum().item<long>();
        // α = min(1, exp(H0 − H1)) (Neal 2011, §3.2); a non-finite H1 rejects
        var next = Accept(x, q, logAlpha, gen);
        StepCount++;
        return next.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs <paramref name="steps"/> transitions while adapting ε toward <see cref="TargetAcceptance"/> (mean over chains
    /// of the acceptance probability), then fixes ε at the averaged iterate. Returns the final state.
    /// </summary>
    public Tensor Warmup(Tensor x, int steps, Generator? gen)
    {
        if (steps < 1) throw new UsageException($"warm-up steps must be ≥ 1, got {steps}");
        // dual averaging constants from Hoffman & Gelman 2014, §3.2.1: μ = log(10 ε0), γ = 0.05, t0 = 10, κ = 0.75
        double mu = Math.Log(10 * StepSize), gamma = 0.05, t0 = 10, kappa = 0.75;
        double hBar = 0, logEpsBar = 0;
        var cur = x.alias();
        for (int m = 1; m <= steps; m++)
        {
            var next = Step(cur, gen);
            cur.Dispose();
            cur = next;
            // H̄_m = (1 − 1/(m+t0)) H̄ + (δ − α_m)/(m+t0); log ε = μ − √m/γ H̄; log ε̄ = m^{−κ} log ε + (1 − m^{−κ}) log ε̄ (Alg. 5)
            hBar = (1 - 1 / (m + t0)) * hBar + (TargetAcceptance - LastAcceptanceProbability) / (m + t0);
            double logEps = mu - Math.Sqrt(m) / gamma * hBar;
            double w = Math.Pow(m, -kappa);
            logEpsBar = w * logEps + (1 - w) * logEpsBar;
            StepSize = Math.Exp(logEps);
        }
        StepSize = Math.Exp(logEpsBar);
        ResetAcceptance();
        Divergences = 0;
        return cur;
    }
}
