using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015, Algorithm 1) and AdamW (Loshchilov &amp; Hutter 2019, decoupled weight decay),
/// written out so that its state — the moment estimates m, v and the step count — lives in our checkpoints
/// by parameter name and a resumed run continues bit-for-bit. Matches torch.optim.Adam/AdamW's update.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    readonly List<(string Name, Parameter Param, Tensor M, Tensor V)> _slots = [];
    readonly double _beta1, _beta2, _eps, _weightDecay;
    readonly bool _decoupled;

    public long StepCount { get; private set; }

    public AdamOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
    {
        (_beta1, _beta2, _eps, _weightDecay, _decoupled) = (beta1, beta2, eps, weightDecay, decoupledWeightDecay);
        foreach (var (name, p) in parameters)
            if (p.requires_grad) _slots.Add((name, p, zeros_like(p), zeros_like(p)));
    }

    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Param);

    public void ZeroGrad()
    {
        foreach (var s in _slots) s.Param.grad = null;
    }

    /// <summary>L2 norm of all gradients; when above <paramref name="maxNorm"/> (&gt; 0) they are scaled down to it.</summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var scope = NewDisposeScope();
        var grads = _slots.Select(s => s.Param.grad).Where(g => g is not null).Select(g => g!.detach()).ToList();
        if (grads.Count == 0) return 0;
        double norm = stack(grads.Select(g => g.norm()).ToArray()).norm().item<float>();
        if (maxNorm > 0 && double.IsFinite(norm) && norm > maxNorm)
        {
            using var _ = no_grad();
            foreach (var g in grads) g.mul_(maxNorm / (norm + 1e-6));
        }
        return norm;
    }

    public void Step(double lr)
    {
        StepCount++;
        double bc1 = 1 - Math.Pow(_beta1, StepCount), bc2 = 1 - Math.Pow(_beta2, StepCount);
        using var _ = no_grad();
        foreach (var (_, p, m, v) in _slots)
        {
            using var scope = NewDisposeScope();
            var g = p.grad;
            if (g is null) continue;
            if (_weightDecay != 0)
            {
                if (_decoupled) p.mul_(1 - lr * _weightDecay);       // AdamW: θ ← θ − η λ θ
                else g = g.add(p, alpha: _weightDecay);              // Adam: g ← g + λ θ
            }
            m.mul_(_beta1).add_(g, alpha: 1 - _beta1);               // m ← β₁m + (1−β₁)g
            v.mul_(_beta2).addcmul_(g, g, value: 1 - _beta2);        // v ← β₂v + (1−β₂)g²
            var denom = (v.sqrt() / Math.Sqrt(bc2)).add_(_eps);      // √v̂ + ε
            p.addcdiv_(m, denom, value: -lr / bc1);                  // θ ← θ − η m̂ / (√v̂ + ε)
        }
    }

    public Dictionary<string, Tensor> StateTensors()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (name, _, m, v) in _slots) { d[$"m.{name}"] = m; d[$"v.{name}"] = v; }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long stepCount, string source)
    {
        using var _ = no_grad();
        foreach (var (name, _, m, v) in _slots)
        {
            foreach (var (key, dst) in new[] { ($"m.{name}", m), ($"v.{name}", v) })
            {
                if (!state.TryGetValue(key, out var src) || !src.shape.SequenceEqual(dst.shape))
                    throw new DataException($"{source}: optimizer state for '{name}' is missing or has the wrong shape; the checkpoint is from another network");
                dst.copy_(src);
            }
        }
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var (_, _, m, v) in _slots) { m.Dispose(); v.Dispose(); }
        _slots.Clear();
    }
}
