using System.Globalization;
using System.Text.Json;
using Langevin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// A training checkpoint as one safetensors file: tensors <c>model.*</c> (the network's state dict, keys as in
/// PyTorch), <c>ema.*</c>, <c>optim.m.*</c>/<c>optim.v.*</c>; metadata: the resolved config, item shape, step,
/// optimizer step count and EMA update count. Randomness is a function of (seed, step), so no RNG state is needed
/// to resume exactly; the seed is recorded.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string Format = "langevin-checkpoint/1";

    public required string Path { get; init; }
    public required TrainConfig Config { get; init; }
    public required long[] ItemShape { get; init; }
    public required long Step { get; init; }
    public required long OptimizerSteps { get; init; }
    public required long EmaUpdates { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Model { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Ema { get; init; }
    public required IReadOnlyDictionary<string, Tensor> Optimizer { get; init; }
    SafetensorsContent? _content;

    public static void Save(string path, TrainConfig config, long[] itemShape, long step, nn.Module network,
        ExponentialMovingAverage ema, AdamOptimizer optimizer)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, t) in network.state_dict()) tensors["model." + k] = t;
        foreach (var (k, t) in ema.Shadow) tensors["ema." + k] = t;
        foreach (var (k, t) in optimizer.StateTensors()) tensors["optim." + k] = t;
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["config"] = config.ToJson(),
            ["item_shape"] = JsonSerializer.Serialize(itemShape),
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["optimizer_steps"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["ema_updates"] = ema.Updates.ToString(CultureInfo.InvariantCulture),
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
            if (Get("format") != Format) throw new DataException($"{path}: unsupported checkpoint format '{m["format"]}'");
            long ParseLong(string key) => long.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v
                : throw new DataException($"{path}: checkpoint metadata '{key}' is not an integer");
            long[] shape;
            try { shape = JsonSerializer.Deserialize<long[]>(Get("item_shape")) ?? []; }
            catch (JsonException) { throw new DataException($"{path}: checkpoint metadata 'item_shape' is invalid"); }
            Dictionary<string, Tensor> Prefixed(string prefix) => content.Tensors
                .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
            return new Checkpoint
            {
                Path = path,
                Config = TrainConfig.FromJson(Get("config"), path),
                ItemShape = shape,
                Step = ParseLong("step"),
                OptimizerSteps = ParseLong("optimizer_steps"),
                EmaUpdates = ParseLong("ema_updates"),
                Model = Prefixed("model."),
                Ema = Prefixed("ema."),
                Optimizer = Prefixed("optim."),
                _content = content,
            };
        }
        catch
        {
            content.Dispose();
            throw;
        }
    }

    /// <summary>Copies weights (model or EMA) into a network, checking every key and shape first.</summary>
    public static void LoadInto(nn.Module network, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var target = network.state_dict();
        foreach (var (k, t) in target)
        {
            if (!weights.TryGetValue(k, out var w))
                throw new UsageException($"{source}: the checkpoint lacks '{k}'; it was saved from another architecture");
            if (!w.shape.SequenceEqual(t.shape))
                throw new UsageException($"{source}: '{k}' has shape [{string.Join(", ", w.shape)}], the network expects [{string.Join(", ", t.shape)}]; it was saved from another architecture");
        }
        var extra = weights.Keys.Except(target.Keys).FirstOrDefault();
        if (extra is not null) throw new UsageException($"{source}: the checkpoint has '{extra}', which this network lacks; it was saved from another architecture");
        using var _ = no_grad();
        foreach (var (k, t) in target) t.copy_(weights[k]);
    }

    public void Dispose() => _content?.Dispose();
}
