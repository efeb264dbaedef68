using System.Globalization;
using System.Text.Json;
using Langevin.IO;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>One component's part of a checkpoint: its weights, their EMA (null when it keeps none) and its optimizer state.</summary>
public sealed record ComponentCheckpoint(IReadOnlyDictionary<string, Tensor> Weights, IReadOnlyDictionary<string, Tensor>? Ema,
    IReadOnlyDictionary<string, Tensor> Optimizer, long OptimizerSteps, long EmaUpdates)
{
    /// <summary>What sampling uses: the EMA where the component keeps one, else the weights.</summary>
    public IReadOnlyDictionary<string, Tensor> SamplingWeights => Ema ?? Weights;
}

/// <summary>What the trainer hands <see cref="Checkpoint.Save"/> of one trainable component.</summary>
/// <param name="SharesWeights">the component trains another's network (<see cref="Component.SharesWeightsOf"/>): only its optimizer is written.</param>
public sealed record ComponentSnapshot(string Name, nn.Module Module, ExponentialMovingAverage? Ema, AdamOptimizer Optimizer, bool SharesWeights = false);

/// <summary>
/// A training checkpoint as one safetensors file, keyed by component: tensors <c>model/NAME/KEY</c> (the component's state
/// dict, keys as in PyTorch), <c>ema/NAME/KEY</c>, <c>optim/NAME/m.KEY</c> / <c>optim/NAME/v.KEY</c>, and the method state
/// <c>state/NAME</c>; metadata: the resolved config, item shape, step, stage and step within it, per-component counters
/// (optimizer steps, EMA updates), the method state's numbers, the seed. Randomness is a function of (seed, step), so no
/// RNG state is needed to resume exactly.
/// Format 1 (before the training core had components: <c>model.*</c>, <c>ema.*</c>, <c>optim.*</c>) still loads, as the one
/// component <see cref="Component.Default"/>; a key of its state dict that the network no longer has but the method
/// state does (the EBM's replay buffer, adv-ebm's PGD step count were module buffers then) becomes that state.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string Format = "langevin-checkpoint/2";
    public const string LegacyFormat = "langevin-checkpoint/1";

    public required string Path { get; init; }
    public required TrainConfig Config { get; init; }
    public required long[] ItemShape { get; init; }
    public required long Step { get; init; }
    /// <summary>The stage of <see cref="Step"/> and the step within it (null in format 1).</summary>
    public string? Stage { get; init; }
    public long? StageStep { get; init; }
    public required IReadOnlyDictionary<string, ComponentCheckpoint> Components { get; init; }
    public required IReadOnlyDictionary<string, Tensor> StateTensors { get; init; }
    public required IReadOnlyDictionary<string, double[]> StateNumbers { get; init; }
    public bool IsLegacy { get; init; }
    SafetensorsContent? _content;

    /// <summary>The one component of a single-network method.</summary>
    public ComponentCheckpoint Default => Components.TryGetValue(Component.Default, out var c) ? c
        : throw new DataException($"{Path}: holds the components {string.Join(", ", Components.Keys)}, not one '{Component.Default}'");
    public IReadOnlyDictionary<string, Tensor> Model => Default.Weights;
    public IReadOnlyDictionary<string, Tensor> Ema => Default.SamplingWeights;
    public IReadOnlyDictionary<string, Tensor> Optimizer => Default.Optimizer;
    public long OptimizerSteps => Default.OptimizerSteps;
    public long EmaUpdates => Default.EmaUpdates;

    public static void Save(string path, TrainConfig config, long[] itemShape, long step, StagePosition stage,
        IEnumerable<ComponentSnapshot> components, MethodState state)
    {
        var tensors = new Dictionary<string, Tensor>();
        var counters = new Dictionary<string, Dictionary<string, long>>();
        foreach (var c in components)
        {
            if (!c.SharesWeights) foreach (var (k, t) in c.Module.state_dict()) tensors[$"model/{c.Name}/{k}"] = t;
            if (c.Ema is not null) foreach (var (k, t) in c.Ema.Shadow) tensors[$"ema/{c.Name}/{k}"] = t;
            foreach (var (k, t) in c.Optimizer.StateTensors()) tensors[$"optim/{c.Name}/{k}"] = t;
            counters[c.Name] = new() { ["optimizer_steps"] = c.Optimizer.StepCount, ["ema_updates"] = c.Ema?.Updates ?? 0, ["has_ema"] = c.Ema is null ? 0 : 1 };
        }
        foreach (var (k, t) in state.Tensors) tensors[$"state/{k}"] = t;
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["config"] = config.ToJson(),
            ["item_shape"] = JsonSerializer.Serialize(itemShape),
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["stage"] = stage.Stage.Name,
            ["stage_step"] = stage.StageStep.ToString(CultureInfo.InvariantCulture),
            ["components"] = JsonSerializer.Serialize(counters),
            ["state_numbers"] = JsonSerializer.Serialize(state.Numbers),
            ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
        };
        SafetensorsFile.Write(path, tensors, meta);
    }

    public static Checkpoint Load(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: checkpoint not found");
        var content = SafetensorsFile.Read(path);
        try
        {
            var m = content.Metadata;
            string Get(string key) => m.TryGetValue(key, out var v) ? v
                : throw new DataException($"{path}: not a Langevin checkpoint (metadata '{key}' missing)");
            string format = Get("format");
            if (format is not (Format or LegacyFormat)) throw new DataException($"{path}: unsupported checkpoint format '{format}' (this version reads {Format} and {LegacyFormat})");
            long ParseLong(string key) => long.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v
                : throw new DataException($"{path}: checkpoint metadata '{key}' is not an integer");
            T ParseJson<T>(string key) where T : class
            {
                try { return JsonSerializer.Deserialize<T>(Get(key)) ?? throw new DataException($"{path}: checkpoint metadata '{key}' is empty"); }
                catch (JsonException) { throw new DataException($"{path}: checkpoint metadata '{key}' is invalid"); }
            }
            Dictionary<string, Tensor> Prefixed(string prefix) => content.Tensors
                .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            var config = StoredConfig(path, Get("config"));
            long[] shape = ParseJson<long[]>("item_shape");
            if (!IsItemShape(shape))
                throw new DataException($"{path}: checkpoint metadata 'item_shape' [{string.Join(", ", shape.Take(4))}{(shape.Length > 4 ? ", …" : "")}] is not an item shape (1 to 3 dimensions, each ≥ 1, at most {MaxItemValues:N0} values)");
            if (ParseLong("step") < 0) throw new DataException($"{path}: checkpoint metadata 'step' is negative");
            Dictionary<string, ComponentCheckpoint> components;
            if (format == LegacyFormat)
            {
                components = new()
                {
                    [Component.Default] = new(Prefixed("model."), Prefixed("ema."), Prefixed("optim."), ParseLong("optimizer_steps"), ParseLong("ema_updates")),
                };
                return new Checkpoint
                {
                    Path = path, Config = config, ItemShape = shape, Step = ParseLong("step"), Components = components,
                    StateTensors = new Dictionary<string, Tensor>(), StateNumbers = new Dictionary<string, double[]>(), IsLegacy = true, _content = content,
                };
            }
            var counters = ParseJson<Dictionary<string, Dictionary<string, long>>>("components");
            if (counters.Values.Any(v => v is null)) throw new DataException($"{path}: checkpoint metadata 'components' is invalid (a component without counters)");
            var numbers = ParseJson<Dictionary<string, double[]>>("state_numbers");
            if (numbers.Values.Any(v => v is null)) throw new DataException($"{path}: checkpoint metadata 'state_numbers' is invalid (a null entry)");
            components = counters.ToDictionary(kv => kv.Key, kv => new ComponentCheckpoint(
                Prefixed($"model/{kv.Key}/"), kv.Value.GetValueOrDefault("has_ema", 1) == 1 ? Prefixed($"ema/{kv.Key}/") : null, Prefixed($"optim/{kv.Key}/"),
                kv.Value.GetValueOrDefault("optimizer_steps"), kv.Value.GetValueOrDefault("ema_updates")));
            return new Checkpoint
            {
                Path = path, Config = config, ItemShape = shape, Step = ParseLong("step"), Stage = Get("stage"), StageStep = ParseLong("stage_step"),
                Components = components, StateTensors = Prefixed("state/"), StateNumbers = numbers,
                _content = content,
            };
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>The most values one item may have (a 3 × 2048 × 2048 image is 12.6 M): a larger stored shape is damage, not data.</summary>
    public const long MaxItemValues = 1L << 24;

    /// <summary>Whether <paramref name="shape"/> can be the items of a run: 1 to 3 dimensions, each ≥ 1, ≤ <see cref="MaxItemValues"/> values.</summary>
    public static bool IsItemShape(long[] shape)
    {
        if (shape.Length is < 1 or > 3 || shape.Any(d => d < 1 || d > MaxItemValues)) return false;
        long values = 1;
        foreach (long d in shape) if ((values *= d) > MaxItemValues) return false;
        return true;
    }

    /// <summary>A checkpoint's config, parsed and validated: what is wrong with it is the file's fault, named with the file.</summary>
    internal static TrainConfig StoredConfig(string path, string json)
    {
        try
        {
            var config = TrainConfig.FromJson(json, path);
            config.Validate();
            return config;
        }
        catch (SettingException e) { throw new DataException($"{path}: its stored config is invalid: {e.Message}"); }
        catch (UsageException e) { throw new DataException(e.Message); }
    }

    /// <summary>The checkpoint's part for a component the method declares, or a one-line error naming what it holds.</summary>
    public ComponentCheckpoint For(string component) => Components.TryGetValue(component, out var c) ? c
        : throw new DataException($"{Path}: holds no component '{component}' (it holds {string.Join(", ", Components.Keys)}); it was written by another method");

    /// <summary>
    /// Loads a trained method's weights for sampling (each trainable component's EMA where it keeps one and
    /// <paramref name="ema"/> is set, else its weights) and its method state.
    /// </summary>
    public void LoadForSampling(IGenerativeMethod method, bool ema = true)
    {
        foreach (var c in method.Components.Where(c => c.HoldsWeights))
        {
            var part = For(c.Name);
            LoadInto(c.Module, WithoutLegacyState(ema ? part.SamplingWeights : part.Weights, c.Module, method.State), Path);
        }
        LoadState(method);
    }

    /// <summary>The method state, from the state section (format 2) or from the legacy module buffers of the default component (format 1).</summary>
    public void LoadState(IGenerativeMethod method)
    {
        if (method.State.IsEmpty && StateTensors.Count == 0 && StateNumbers.Count == 0) return;
        if (!IsLegacy)
        {
            method.State.Load(StateTensors, StateNumbers, Path);
            return;
        }
        // format 1: the state lived in module buffers of the one network (copied, not averaged, into the EMA)
        var weights = Default.Weights;
        var tensors = new Dictionary<string, Tensor>();
        var numbers = new Dictionary<string, double[]>();
        foreach (var name in method.State.Tensors.Keys) if (weights.TryGetValue(name, out var t)) tensors[name] = t;
        foreach (var name in method.State.Numbers.Keys)
            if (weights.TryGetValue(name, out var t)) { using var d = t.to(float64).flatten(); numbers[name] = d.data<double>().ToArray(); }
        method.State.Load(tensors, numbers, Path);
    }

    /// <summary>Format 1 weights without the keys that are method state now (the module lacks them, the state has them).</summary>
    public IReadOnlyDictionary<string, Tensor> WithoutLegacyState(IReadOnlyDictionary<string, Tensor> weights, nn.Module module, MethodState state)
    {
        if (!IsLegacy || state.IsEmpty) return weights;
        var own = module.state_dict().Keys.ToHashSet();
        return weights.Where(kv => own.Contains(kv.Key) || !(state.Tensors.ContainsKey(kv.Key) || state.Numbers.ContainsKey(kv.Key)))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>Copies weights (model or EMA) into a network, checking every key and shape first.</summary>
    public static void LoadInto(nn.Module network, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var target = network.state_dict();
        if (FirstMismatch(target, weights) is { } mismatch)
            throw new UsageException($"{source}: the checkpoint {mismatch}; it was saved from another architecture");
        using var _ = no_grad();
        foreach (var (k, t) in target) t.copy_(weights[k]);
    }

    /// <summary>
    /// The first way <paramref name="weights"/> do not fit a network's state dict <paramref name="expected"/>, as a phrase
    /// after "the file …" ("lacks 'K'", "has 'K' of shape [a], the network's is [b]", "has 'K', which the network lacks"), or
    /// null when every key and shape matches (dtypes are not compared).
    /// </summary>
    public static string? FirstMismatch(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> weights)
    {
        foreach (var (k, t) in expected)
        {
            if (!weights.TryGetValue(k, out var w)) return $"lacks '{k}'";
            if (!w.shape.SequenceEqual(t.shape))
                return $"has '{k}' of shape [{string.Join(", ", w.shape)}], the network's is [{string.Join(", ", t.shape)}]";
        }
        var extra = weights.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).FirstOrDefault();
        return extra is null ? null : $"has '{extra}', which the network lacks";
    }

    public void Dispose() => _content?.Dispose();
}
