using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Interop;

/// <summary>One trainable component of an export: its name, the prefix of its keys in the state dict and the PyTorch class
/// whose <c>state_dict()</c> it is, where the repository has one (docs/interop.md).</summary>
/// <param name="Prefix">"" for a one-component run, else "NAME.".</param>
/// <param name="Module">The library's class of the network (ScoreMlp, UNet, …).</param>
/// <param name="PyTorchClass">ScoreMlp (docs/interop.md) or ReferenceUNet (torch_unet.py); null where there is no PyTorch peer.</param>
/// <param name="PyTorchArgs">The constructor arguments of <paramref name="PyTorchClass"/>.</param>
public sealed record ExportedComponent(string Name, string Prefix, string Module, long Parameters, string? PyTorchClass, JsonObject? PyTorchArgs);

/// <summary>What <see cref="PyTorchStateDict.Export"/> wrote.</summary>
/// <param name="Weights">"ema" or "raw".</param>
public sealed record ExportResult(string WeightsPath, string ConfigPath, long Step, string Weights, IReadOnlyList<ExportedComponent> Components, int Tensors);

/// <summary>What <see cref="PyTorchStateDict.Import"/> created.</summary>
public sealed record ImportResult(string RunDir, string CheckpointPath, long Step, string Method, IReadOnlyList<string> Components, int Tensors);

/// <summary>
/// A trained run as a PyTorch state dict and back. <see cref="Export"/> writes the sampling weights (EMA unless asked for the
/// raw ones) of every trainable component as one safetensors file of plain F32 tensors — for a one-component run its keys
/// are exactly the network's <c>state_dict()</c> keys (which are PyTorch's: ScoreMlp, the reference U-Net), for several
/// "NAME.key" — and beside it a JSON config: the format, the run's resolved config, item shape, step and per component its
/// prefix and matching PyTorch class. <see cref="Import"/> takes such a pair (written by us or by PyTorch) and creates a run
/// folder (config.json + a checkpoint at the recorded step) that <see cref="TrainedRuns"/> and every command that reads runs
/// open unchanged. Everything is checked before anything is written; files are written by temp file + rename and the run
/// folder appears by one rename, so a refused import leaves nothing.
/// </summary>
public static class PyTorchStateDict
{
    /// <summary>The format of the JSON config (its "format" member).</summary>
    public const string Format = "langevin-export/1";

    /// <summary>File names of an export in its folder.</summary>
    public const string WeightsFile = "model.safetensors", ConfigFile = "model.json";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    // ---------------------------------------------------------------- export

    /// <summary>
    /// Exports the latest checkpoint of <paramref name="runDir"/> into <paramref name="outDir"/> (created if needed):
    /// <see cref="WeightsFile"/> and <see cref="ConfigFile"/>. <paramref name="ema"/>: each component's EMA where it keeps
    /// one (what sampling uses), else its raw weights. Settings named in errors: run, out.
    /// </summary>
    public static ExportResult Export(string runDir, string outDir, bool ema = true)
    {
        string checkpoint = TrainedRuns.LatestCheckpoint(runDir);
        long step = new RunFolder(runDir).LatestCheckpoint()!.Value.Step;
        string weightsPath = Path.Combine(outDir, WeightsFile), configPath = Path.Combine(outDir, ConfigFile);
        if (File.Exists(Path.Combine(outDir, "config.json")) || Directory.Exists(Path.Combine(outDir, "checkpoints")))
            throw SettingException.About("out", outDir, $"{outDir} holds a run; export into a folder of its own");
        using var method = TrainedRuns.OpenCheckpoint(checkpoint, ema);
        var trainable = method.Components.Where(c => c.HoldsWeights).ToList();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var components = new List<ExportedComponent>();
        using var scope = NewDisposeScope();
        foreach (var c in trainable)
        {
            string prefix = PrefixOf(c.Name, trainable.Count);
            foreach (var (k, t) in c.Module.state_dict())
                tensors[prefix + k] = t.is_floating_point() ? t.detach().to(float32) : t.detach();
            var (cls, args) = PyTorchPeer(c.Module);
            components.Add(new ExportedComponent(c.Name, prefix, c.Module.GetType().Name,
                c.Module.parameters().Sum(p => p.numel()), cls, args));
        }
        string weights = ema ? "ema" : "raw";
        var manifest = new JsonObject
        {
            ["format"] = Format,
            ["method"] = method.Config.Method,
            ["step"] = step,
            ["weights"] = weights,
            ["item_shape"] = new JsonArray(method.ItemShape.Select(d => (JsonNode)d).ToArray()),
            ["components"] = new JsonArray(components.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name, ["prefix"] = c.Prefix, ["module"] = c.Module, ["parameters"] = c.Parameters,
                ["pytorch_class"] = c.PyTorchClass, ["pytorch_args"] = c.PyTorchArgs,
            }).ToArray()),
            ["config"] = JsonNode.Parse(method.Config.ToJson()),
        };
        // the weights first: a config beside them names weights that exist
        SafetensorsFile.Write(weightsPath, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteAllText(configPath, manifest.ToJsonString(Indented) + "\n");
        return new ExportResult(weightsPath, configPath, step, weights, components, tensors.Count);
    }

    static string PrefixOf(string component, int components) => components == 1 ? "" : component + ".";

    /// <summary>The PyTorch class a network's state dict is key for key, with its constructor arguments; (null, null) for none.</summary>
    static (string?, JsonObject?) PyTorchPeer(nn.Module module) => module switch
    {
        ScoreMlp { Config: { Classes: 0 } m } => ("ScoreMlp", new JsonObject
        {
            ["data_dim"] = m.DataDim, ["hidden_width"] = m.HiddenWidth, ["hidden_layers"] = m.HiddenLayers,
            ["time_embed_dim"] = m.TimeEmbedDim, ["fourier_features"] = m.FourierFeatures,
        }),
        UNet { Config: { Classes: 0, GroupNormGroups: 8, TimeEmbedInputDim: 32, TimeEmbedDim: 128 } u } when u.InChannels == u.OutChannels =>
            ("ReferenceUNet", new JsonObject
            {
                ["base"] = u.BaseChannels, ["mults"] = new JsonArray(u.ChannelMults.Select(v => (JsonNode)v).ToArray()),
                ["num_res_blocks"] = u.NumResBlocks, ["attn_resolutions"] = new JsonArray(u.AttnResolutions.Select(v => (JsonNode)v).ToArray()),
                ["resolution"] = u.Resolution, ["dropout"] = u.Dropout, ["in_channels"] = u.InChannels,
            }),
        _ => (null, null),
    };

    // ---------------------------------------------------------------- import

    /// <summary>
    /// Creates the run folder <paramref name="runDir"/> (which must not exist, or be empty) from a safetensors state dict and
    /// an export config. Refused, naming the file, before anything is written: a config that is not an export config or
    /// holds an invalid run config; a key of the network the config describes that the file lacks, one it has that the
    /// network lacks, or one of another shape; a tensor that is not floating point where the network's is; NaN or Inf;
    /// a truncated or damaged file. F16, BF16 and F64 tensors are converted to the network's F32. The checkpoint holds the
    /// weights as both the weights and the EMA, fresh (zero) Adam moments, and the config's step (0 when it has none).
    /// Settings named in errors: weights, config, out.
    /// </summary>
    public static ImportResult Import(string weightsPath, string configPath, string runDir)
    {
        var (config, itemShape, step, listed) = ReadConfig(configPath);
        string root = Path.GetFullPath(runDir);
        if (File.Exists(root) || (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any()))
            throw SettingException.About("out", runDir, $"{runDir} already exists; import into a new folder");
        if (!File.Exists(weightsPath)) throw new DataException($"{weightsPath}: file not found");
        using var file = SafetensorsFile.Read(weightsPath);
        manual_seed(config.Seed);                              // the method's own buffers and state as a fresh run's
        using var method = TrainedRuns.Build(configPath, config, itemShape);
        var trainable = method.Components.Where(c => c.HoldsWeights).ToList();
        var names = trainable.Select(c => c.Name).ToList();
        if (!names.SequenceEqual(listed))
            throw new DataException($"{configPath}: lists the components {string.Join(", ", listed)}, but its config builds {string.Join(", ", names)}");

        using (var scope = NewDisposeScope())
        {
            var expected = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var c in trainable)
                foreach (var (k, t) in c.Module.state_dict()) expected[PrefixOf(c.Name, trainable.Count) + k] = t;
            if (Checkpoint.FirstMismatch(expected, file.Tensors) is { } mismatch)
                throw new DataException($"{weightsPath}: {mismatch} (the network {configPath} describes); the weights and the config do not belong together");
            foreach (var c in trainable)
            {
                string prefix = PrefixOf(c.Name, trainable.Count);
                var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (k, t) in c.Module.state_dict())
                    weights[k] = Converted(file.Tensors[prefix + k], t.dtype, prefix + k, weightsPath);
                Checkpoint.LoadInto(c.Module, weights, weightsPath);
            }
        }

        // everything is checked: build the run beside its destination and move it into place in one step
        string parent = Path.GetDirectoryName(root)!;
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(root)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var run = new RunFolder(temp);
            Directory.CreateDirectory(run.CheckpointsDir);
            AtomicFile.WriteAllText(run.ConfigPath, config.ToJson());
            var snapshots = new List<ComponentSnapshot>();
            try
            {
                foreach (var c in trainable)
                {
                    var settings = c.Optimizer ?? OptimizerSettings.From(config);
                    var optimizer = settings.Create(c.Module.named_parameters().Select(p => (p.name, p.parameter)));
                    var ema = c.Ema ? new ExponentialMovingAverage(c.Module, c.EmaDecay ?? config.EmaDecay, config.EmaWarmup) : null;
                    snapshots.Add(new ComponentSnapshot(c.Name, c.Module, ema, optimizer));
                }
                var plan = new StagePlan(method.Stages, names.ToHashSet());
                Checkpoint.Save(run.CheckpointPath(step), config, itemShape, step, plan.At(step), snapshots, method.State);
            }
            finally
            {
                foreach (var s in snapshots) { s.Optimizer.Dispose(); s.Ema?.Dispose(); }
            }
            if (Directory.Exists(root)) Directory.Delete(root);   // the empty folder the check allowed
            Directory.Move(temp, root);
        }
        catch
        {
            try { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); } catch (IOException) { }
            throw;
        }
        var result = new RunFolder(root);
        return new ImportResult(result.Root, result.CheckpointPath(step), step, config.Method, names, file.Tensors.Count);
    }

    /// <summary>A file's tensor in the network's dtype: floating point converted from F16/BF16/F64, finite; others as they are.</summary>
    static Tensor Converted(Tensor t, ScalarType target, string key, string path)
    {
        bool floating = t.is_floating_point();
        bool wantsFloating = target is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16;
        if (floating != wantsFloating || (!floating && t.dtype != target))
            throw new DataException($"{path}: tensor '{key}' is {t.dtype}, the network's is {target}; re-save it as {(wantsFloating ? "F32" : target.ToString())}");
        var converted = t.dtype == target ? t : t.to(target);   // (F64 beyond F32's range becomes Inf: refused below)
        if (floating && !isfinite(converted).all().item<bool>())
            throw new DataException($"{path}: tensor '{key}' holds NaN or Inf values{(converted.dtype != t.dtype ? $" as {target}" : "")}; these weights cannot be sampled from");
        return converted;
    }

    /// <summary>The export config's run config (validated), item shape, step and component names; damage is a DataException naming the file.</summary>
    static (TrainConfig Config, long[] ItemShape, long Step, IReadOnlyList<string> Components) ReadConfig(string path)
    {
        try { return ReadConfigMembers(path); }
        catch (ArgumentException e) when (e is not ArgumentNullException)   // JsonObject refuses a member given twice
        {
            throw new DataException($"{path}: invalid export config: a member is given twice ({MessageText.OneLine(e.Message.Split('\n')[0], 120)})");
        }
    }

    static (TrainConfig Config, long[] ItemShape, long Step, IReadOnlyList<string> Components) ReadConfigMembers(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: file not found");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { MaxDepth = 32 }) as JsonObject
                ?? throw new DataException($"{path}: not an export config (a JSON object)");
        }
        catch (JsonException e) { throw new DataException($"{path}: not valid JSON ({MessageText.OneLine(e.Message, 160)})"); }
        string? format = Member<string>(root, "format", path, optional: true);
        if (format != Format)
        {
            string hint = root.ContainsKey("settings") && root.ContainsKey("network")
                ? "it is a run's config.json; langevin export writes the export config beside the weights"
                : $"its format is {(format is null ? "missing" : $"'{MessageText.OneLine(format, 40)}'")}";
            throw new DataException($"{path}: not a {Format} export config ({hint})");
        }
        var shapeNode = root["item_shape"] as JsonArray ?? throw new DataException($"{path}: 'item_shape' is missing or not an array");
        long[] shape;
        try { shape = shapeNode.Select(n => n!.GetValue<long>()).ToArray(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new DataException($"{path}: 'item_shape' is not an array of integers");
        }
        if (!Checkpoint.IsItemShape(shape))
            throw new DataException($"{path}: 'item_shape' [{string.Join(", ", shape.Take(4))}] is not an item shape (1 to 3 dimensions, each ≥ 1, at most {Checkpoint.MaxItemValues:N0} values)");
        long step = root.ContainsKey("step") ? Member<long>(root, "step", path) : 0;
        if (step < 0) throw new DataException($"{path}: 'step' is negative");
        var list = root["components"] as JsonArray ?? throw new DataException($"{path}: 'components' is missing or not an array");
        var names = new List<string>();
        foreach (var c in list)
        {
            if (c is not JsonObject o) throw new DataException($"{path}: 'components' holds something that is not an object");
            names.Add(Member<string>(o, "name", path)!);
        }
        var config = root["config"] as JsonObject ?? throw new DataException($"{path}: 'config' (the run's config.json) is missing or not an object");
        return (Checkpoint.StoredConfig(path, config.ToJsonString()), shape, step, names);
    }

    static T? Member<T>(JsonObject o, string name, string path, bool optional = false)
    {
        if (o[name] is not JsonValue v)
            return optional && o[name] is null ? default : throw new DataException($"{path}: '{name}' is missing or not a {TypeName<T>()}");
        try { return v.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new DataException($"{path}: '{name}' is not a {TypeName<T>()}");
        }
    }

    static string TypeName<T>() => typeof(T) == typeof(string) ? "string" : "integer";
}
