using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// An exponential moving average of a module's parameters: θ̄ ← d θ̄ + (1 − d) θ, with the optional warm-up
/// d_n = min(d, (1 + n)/(10 + n)) (as in TensorFlow's ExponentialMovingAverage with num_updates). NCSNv2 Technique 5
/// (Song &amp; Ermon 2020, §3.5). Buffers are copied, not averaged (as torch's AveragedModel by default): an average of
/// an EBM's replay buffer or of power-iteration vectors is no state of anything.
/// </summary>
public sealed class ExponentialMovingAverage : IDisposable
{
    readonly Dictionary<string, Tensor> _shadow = [];
    readonly HashSet<string> _parameters;
    readonly double _decay;
    readonly bool _warmup;

    public long Updates { get; private set; }

    public ExponentialMovingAverage(nn.Module module, double decay, bool warmup)
    {
        (_decay, _warmup) = (decay, warmup);
        using var _ = no_grad();
        foreach (var (name, t) in module.state_dict()) _shadow[name] = t.detach().clone();
        _parameters = module.named_parameters().Select(p => p.name).ToHashSet();
    }

    public IReadOnlyDictionary<string, Tensor> Shadow => _shadow;

    public double CurrentDecay => _warmup ? Math.Min(_decay, (1.0 + Updates) / (10.0 + Updates)) : _decay;

    public void Update(nn.Module module)
    {
        double d = CurrentDecay;
        using var scope = NewDisposeScope();   // in-place ops return new tensor handles; dispose them here, not in the GC
        using var _ = no_grad();
        foreach (var (name, t) in module.state_dict())
        {
            var s = _shadow[name];
            if (_parameters.Contains(name) && s.is_floating_point()) s.lerp_(t, 1 - d);   // θ̄ ← θ̄ + (1 − d)(θ − θ̄)
            else s.copy_(t);
        }
        Updates++;
    }

    public void Load(IReadOnlyDictionary<string, Tensor> state, long updates, string source)
    {
        using var _ = no_grad();
        foreach (var (name, s) in _shadow)
        {
            if (!state.TryGetValue(name, out var src) || !src.shape.SequenceEqual(s.shape))
                throw new DataException($"{source}: EMA weight '{name}' is missing or has the wrong shape; the checkpoint is from another network");
            s.copy_(src);
        }
        Updates = updates;
    }

    /// <summary>Runs <paramref name="action"/> with the averaged weights in <paramref name="module"/>, then restores them.</summary>
    public void WithAveragedWeights(nn.Module module, Action action)
    {
        var current = module.state_dict();
        var backup = current.ToDictionary(kv => kv.Key, kv => { using var d = kv.Value.detach(); return d.clone(); });
        try
        {
            CopyInto(current, _shadow);
            action();
        }
        finally
        {
            CopyInto(current, backup);
            foreach (var t in backup.Values) t.Dispose();
        }
    }

    static void CopyInto(IDictionary<string, Tensor> target, IReadOnlyDictionary<string, Tensor> source)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, t) in target) t.copy_(source[name]);
    }

    public void Dispose()
    {
        foreach (var t in _shadow.Values) t.Dispose();
        _shadow.Clear();
    }
}
