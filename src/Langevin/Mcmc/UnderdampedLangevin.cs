using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>
/// Underdamped (kinetic) Langevin dynamics dx = v dt, dv = ∇log p(x) dt − γ v dt + √(2γ) dW (unit mass, unit temperature),
/// integrated by the BAOAB splitting (Leimkuhler &amp; Matthews 2013, "Rational construction of stochastic numerical methods
/// for molecular sampling", Eq. 8 / §2.2). No Metropolis correction: the bias in x is O(h²).
/// The velocity is part of the chain's state: the kernel keeps it (and the score at the returned x, so one step costs one
/// gradient evaluation) for the tensor it returned last; any other input starts with a fresh v ~ N(0, I), its stationary law.
/// </summary>
public sealed class UnderdampedLangevin : McmcKernel, IDisposable
{
    Tensor? _velocity, _score;
    Tensor? _last;

    public UnderdampedLangevin(ITarget target, double stepSize, double friction = 1.0) : base(target)
    {
        CheckStepSize(stepSize);
        if (!(friction > 0) || double.IsInfinity(friction)) throw new UsageException($"friction γ must be a positive finite number, got {friction}");
        StepSize = stepSize;
        Friction = friction;
    }

    public double StepSize { get; }

    /// <summary>γ: 1/γ is the velocity's memory time.</summary>
    public double Friction { get; }

    public override Tensor Step(Tensor x, Generator? gen)
    {
        using var scope = NewDisposeScope();
        double h = StepSize;
        bool continues = ReferenceEquals(x, _last) && _velocity is not null && _velocity.shape.SequenceEqual(x.shape);
        var v = continues ? _velocity!.alias() : randn(x.shape, x.dtype, x.device, generator: gen);
        var s = continues ? _score!.alias() : CheckedScore(x);
        // B: v ← v + (h/2) ∇log p(x)
        v = v + 0.5 * h * s;
        // A: x ← x + (h/2) v
        var q = x + 0.5 * h * v;
        // O: v ← e^{−γh} v + √(1 − e^{−2γh}) ξ  (exact Ornstein–Uhlenbeck step)
        double c = Math.Exp(-Friction * h);
        v = c * v + Math.Sqrt(1 - c * c) * randn(x.shape, x.dtype, x.device, generator: gen);
        // A: x ← x + (h/2) v
        q = q + 0.5 * h * v;
        // B: v ← v + (h/2) ∇log p(x)
        s = CheckedScore(q);
        v = v + 0.5 * h * s;
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
