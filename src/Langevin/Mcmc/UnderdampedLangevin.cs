using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>
/// Underdamped (kinetic) Langevin dynamics with unit mass, dq = p dt, dp = (∇log π(q) − γ p) dt + √(2γ) dW, discretised by
/// BAOAB (Leimkuhler &amp; Matthews 2013): half kick, half drift, exact Ornstein–Uhlenbeck on p, half drift, half kick.
/// One score evaluation per step (the last kick's score is reused by the next step's first). The state is (q, p), kept here.
/// </summary>
public sealed class UnderdampedLangevin
{
    readonly Func<Tensor, Tensor> _score;

    public UnderdampedLangevin(Func<Tensor, Tensor> score, double stepSize, double friction)
    {
        if (!(stepSize > 0) || !double.IsFinite(stepSize)) throw new UsageException($"step size must be a positive finite number, got {stepSize}");
        if (!(friction > 0) || !double.IsFinite(friction)) throw new UsageException($"friction must be a positive finite number, got {friction}");
        _score = score;
        StepSize = stepSize;
        Friction = friction;
    }

    public double StepSize { get; }
    public double Friction { get; }

    /// <summary>Advances (q, p) by one BAOAB step; <paramref name="score"/> is ∇log π(q) on entry and is replaced by its value at the new q.</summary>
    public void Step(ref Tensor q, ref Tensor p, ref Tensor score, Generator? gen)
    {
        double h = StepSize, c = Math.Exp(-Friction * h);
        using (var scope = NewDisposeScope())
        {
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
}
