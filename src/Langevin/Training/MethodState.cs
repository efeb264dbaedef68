using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// What a method carries from one training step to the next besides its weights — replay buffers, a curriculum's
/// current value, rolling statistics — registered by name, saved in every checkpoint (tensors as <c>state/NAME</c>,
/// numbers in the metadata) and restored on resume, so that resume is exact by construction. Tensors are replaced, not
/// copied into, on load: read them through the indexer when they are used.
/// </summary>
public sealed class MethodState : IDisposable
{
    readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, double[]> _numbers = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;
    public IReadOnlyDictionary<string, double[]> Numbers => _numbers;
    public bool IsEmpty => _tensors.Count == 0 && _numbers.Count == 0;

    /// <summary>Registers a tensor (the state takes ownership).</summary>
    public void Add(string name, Tensor initial)
    {
        if (_tensors.ContainsKey(name) || _numbers.ContainsKey(name)) throw new ArgumentException($"state '{name}' is registered twice");
        _tensors[name] = initial;
    }

    /// <summary>Registers numbers (a scalar is one number, a rolling window several; saved exactly, as shortest round-trip text).</summary>
    public void Add(string name, params double[] initial)
    {
        if (_tensors.ContainsKey(name) || _numbers.ContainsKey(name)) throw new ArgumentException($"state '{name}' is registered twice");
        _numbers[name] = initial;
    }

    public Tensor this[string name]
    {
        get => _tensors[name];
        set
        {
            var old = _tensors[name];
            _tensors[name] = value;
            if (!ReferenceEquals(old, value)) old.Dispose();
        }
    }

    public double[] GetNumbers(string name) => _numbers[name];
    public void SetNumbers(string name, double[] values) { _ = _numbers[name]; _numbers[name] = values; }
    public double Scalar(string name) => _numbers[name][0];
    public void SetScalar(string name, double value) => SetNumbers(name, [value]);

    public void To(Device device)
    {
        foreach (var name in _tensors.Keys.ToList())
            if (_tensors[name].device != device) this[name] = _tensors[name].to(device);
    }

    /// <summary>Takes the checkpoint's values; a name this method registers but the checkpoint lacks (or the reverse) is refused.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, double[]> numbers, string source)
    {
        foreach (var name in _tensors.Keys.Concat(_numbers.Keys))
            if (!tensors.ContainsKey(name) && !numbers.ContainsKey(name))
                throw new DataException($"{source}: the checkpoint lacks the method state '{name}'; it was written by another method or version");
        foreach (var name in tensors.Keys.Concat(numbers.Keys))
            if (!_tensors.ContainsKey(name) && !_numbers.ContainsKey(name))
                throw new DataException($"{source}: the checkpoint holds method state '{name}' this method does not know; it was written by another method");
        foreach (var name in _tensors.Keys.ToList())
        {
            var device = _tensors[name].device;
            using var _ = no_grad();
            this[name] = tensors.TryGetValue(name, out var t) ? t.to(device).clone() : throw new DataException($"{source}: method state '{name}' should be a tensor");
        }
        foreach (var name in _numbers.Keys.ToList())
            _numbers[name] = numbers.TryGetValue(name, out var v) ? [.. v] : throw new DataException($"{source}: method state '{name}' should be numbers");
    }

    /// <summary>Copies another instance's state (the bf16 working instance's, into the master's before a checkpoint).</summary>
    public void CopyFrom(MethodState other)
    {
        using var _ = no_grad();
        foreach (var name in _tensors.Keys.ToList()) this[name] = other._tensors[name].clone();
        foreach (var name in _numbers.Keys.ToList()) _numbers[name] = [.. other._numbers[name]];
    }

    /// <summary>An independent copy (tensors cloned), e.g. to put the state back after steps that must leave no trace.</summary>
    public MethodState Clone()
    {
        using var _ = no_grad();
        var copy = new MethodState();
        foreach (var (name, t) in _tensors) copy._tensors[name] = t.clone();
        foreach (var (name, v) in _numbers) copy._numbers[name] = [.. v];
        return copy;
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }
}
