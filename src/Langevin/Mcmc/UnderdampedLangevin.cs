using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>
/// The BAOAB splitting of underdamped (kinetic) Langevin dynamics with unit mass, dq = p dt, dp = (∇log π(q) − γ p) dt +
/// √(2γ) dW (Leimkuhler &amp; Matthews 2013, "Rational construction of stochastic numerical methods for molecular sampling",
/// Eq. 8 / §2.2): half kick, half drift, exact Ornstein–Uhlenbeck on p, half drift, half kick. One score evaluation per
/// step (the last kick's score is reused by the next step's first). The state (q, p, score) is the caller's: the MCMC
/// kernel <see cref="UnderdampedLangevin"/> and walk-jump sampling both step with it.
/// </summary>
public sealed class BaoabIntegrator
{
    readonly Func<Tensor, Tensor> _score;

    public BaoabIntegrator(Func<Tensor, Tensor> score, double stepSize, double friction)
    {
        if (!(stepSize > 0) || !double.IsFinite(stepSize)) throw new UsageException($"step size must be a positive finite number, got {stepSize}");
        if (!(friction > 0) || !double.IsFinite(friction)) throw new UsageException($"friction γ must be a positive finite number, got {friction}");
        _score = score;
        StepSize = stepSize;
        Friction = friction;
    }

    public double StepSize { get; }

    /// <summary>γ: 1/γ is the velocity's memory time.</summary>
    public double Friction { get; }

    /// <summary>Advances (q, p) by one BAOAB step; <paramref name="score"/> is ∇log π(q) on entry and is replaced by its value at the new q. The inputs are disposed.</summary>
    public void Step(ref Tensor q, ref Tensor p, ref Tensor score, Generator? gen)
    {
        double h = StepSize, c = Math.Exp(-Friction * h);
        using var scope = NewDisposeScope();
        var pp = p + h / 2 * score;                                           // B
        var qq = q + h / 2 * pp;                                              // A
        pp = c * pp + Math.Sqrt(1 - c * c) * randn(pp.shape, generator: gen, dtype: pp.dtype, device: pp.device);   // O: exact OU
        qq = qq + h / 2 * pp;                                                 // A
        var s = _score(qq);
        pp = pp + h / 2 * s;                                                  // B
        q.Dispose(); p.Dispose(); score.Dispose();
        q = qq.MoveToOuterDisposeScope(); p = pp.MoveToOuterDisposeScope(); score = s.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Underdamped Langevin as an MCMC kernel over a target (<see cref="BaoabIntegrator"/>; unit mass, unit temperature).
/// No Metropolis correction: the bias in x is O(h²). The velocity is part of the chain's state: the kernel keeps it
/// (and the score at the returned x, so one step costs one gradient evaluation) for the tensor it returned last; any
/// other input starts with a fresh v ~ N(0, I), its stationary law.
/// </summary>
public sealed class UnderdampedLangevin : McmcKernel, IDisposable
{
    readonly BaoabIntegrator _integrator;
    Tensor? _velocity, _score;
    Tensor? _last;

    public UnderdampedLangevin(ITarget target, double stepSize, double friction = 1.0) : base(target)
    {
        CheckStepSize(stepSize);
        _integrator = new BaoabIntegrator(CheckedScore, stepSize, friction);
    }

    public double StepSize => _integrator.StepSize;

    /// <summary>γ: 1/γ is the velocity's memory time.</summary>
    public double Friction => _integrator.Friction;

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        bool continues = ReferenceEquals(x, _last) && _velocity is not null && _velocity.shape.SequenceEqual(x.shape);
        var q = x.alias();
        var v = continues ? _velocity!.alias() : randn(x.shape, x.dtype, x.device, generator: gen);
        var s = continues ? _score!.alias() : CheckedScore(x);
        _integrator.Step(ref q, ref v, ref s, gen);
        StepCount++;
        Replace(ref _velocity, v);
        Replace(ref _score, s);
        _last = q.MoveToOuterDisposeScope();
        return _last;
    }

    static void Replace(ref Tensor? field, Tensor value)
    {
        field?.Dispose();
        field = value.detach().DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _velocity?.Dispose();
        _score?.Dispose();
        _velocity = _score = null;
    }
}
