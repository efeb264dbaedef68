using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Methods;
using Langevin.Training;

namespace Langevin.Cli.Commands;

/// <summary>
/// The options that set a <see cref="TrainConfig"/>, shared by `train` and `demo`: the general ones (data, steps, optimiser,
/// network, …) parsed here, and each method's own, which the method's registration describes and applies
/// (<see cref="MethodRegistration.Options"/>). Recipes and defaults live with the methods; this only parses.
/// </summary>
public static class TrainOptions
{
    /// <summary>A general option: its spec, the settings (config.json paths) it sets, and how it applies a parsed value.</summary>
    sealed record General(OptionSpec Spec, string[] Settings, Func<TrainConfig, ParsedArgs, TrainConfig> Apply);

    static General G(string name, string? value, string help, string setting, Func<TrainConfig, ParsedArgs, TrainConfig> apply) =>
        new(new OptionSpec(name, value, help), [setting], apply);

    static General N(string name, string? value, string help, string setting, Func<NetworkConfig, ParsedArgs, NetworkConfig> apply) =>
        new(new OptionSpec(name, value, help), ["network." + setting], (c, a) => c with { Network = apply(c.Network, a) });

    static readonly General[] Generals =
    [
        G("data", "SPEC", "training data (see 'langevin datasets'); default checkerboard", "data", (c, a) => c with { Data = a.String("data")! }),
        G("steps", "N", "training steps", "steps", (c, a) => c with { Steps = a.Long("steps")!.Value }),
        G("batch", "N", "batch size", "batch_size", (c, a) => c with { BatchSize = a.Int("batch")!.Value }),
        G("lr", "X", "learning rate", "learning_rate", (c, a) => c with { LearningRate = a.Double("lr")!.Value }),
        G("optimizer", "adam|adamw", "optimizer", "optimizer", (c, a) => c with { Optimizer = a.String("optimizer")! }),
        new(new OptionSpec("adam-betas", "B1,B2", "Adam's β₁,β₂ (default 0.9,0.999; EBMs on images: 0,0.999)"), ["adam_betas", "adam_beta1", "adam_beta2"],
            (c, a) => AdamBetas(a) is var (b1, b2) ? c with { AdamBeta1 = b1, AdamBeta2 = b2 } : c),
        G("weight-decay", "X", "weight decay (L2 for adam, decoupled for adamw)", "weight_decay", (c, a) => c with { WeightDecay = a.Double("weight-decay")!.Value }),
        G("warmup", "N", "linear learning-rate warm-up steps", "warmup_steps", (c, a) => c with { WarmupSteps = a.Int("warmup")!.Value }),
        G("grad-clip", "X", "clip the gradient norm to X (0: off)", "grad_clip", (c, a) => c with { GradClip = a.Double("grad-clip")!.Value }),
        G("ema", "X", "EMA decay of the weights used for sampling", "ema_decay", (c, a) => c with { EmaDecay = a.Double("ema")!.Value }),
        G("checkpoint-every", "N", "write RUN/checkpoints/step_N.safetensors every N steps", "checkpoint_every", (c, a) => c with { CheckpointEvery = a.Int("checkpoint-every")!.Value }),
        G("sample-every", "N", "write RUN/samples/step_N.png every N steps (0: only at the end)", "sample_every", (c, a) => c with { SampleEvery = a.Int("sample-every")!.Value }),
        G("log-every", "N", "append to RUN/log.jsonl every N steps", "log_every", (c, a) => c with { LogEvery = a.Int("log-every")!.Value }),
        G("seed", "N", "random seed", "seed", (c, a) => c with { Seed = a.Int("seed")!.Value }),
        G("threads", "N", "CPU threads (default: the core count)", "threads", (c, a) => c with { Threads = a.Int("threads") }),
        G("device", "cpu|cuda", "compute device", "device", (c, a) => c with { Device = a.String("device")! }),
        new(new OptionSpec("bf16", null, "mixed precision: forward and backward in bfloat16, fp32 master weights, optimizer and EMA; --bf16 auto: only if a probe of the first step measures it ≥ 5% faster on this CPU (docs/benchmarks.md)") { Words = ["auto", "on", "off"] },
            ["bf16", "bf16_probe"], (c, a) => c with { Bf16 = Bf16Modes.Parse(a.String("bf16")!)!.Value }),
        G("flip", null, "random horizontal flips of images", "horizontal_flip", (c, a) => c with { HorizontalFlip = a.Flag("flip") }),
        G("limit", "N", "use only the first N training items", "data_limit", (c, a) => c with { DataLimit = a.Int("limit") }),
        N("net", "auto|mlp|unet|adm", "network (auto: mlp for points, unet for images; adm: improved-DDPM U-Net)", "kind", (n, a) => n with { Kind = a.String("net")! }),
        N("width", "N", "MLP hidden width", "width", (n, a) => n with { Width = a.Int("width")!.Value }),
        N("depth", "N", "MLP hidden layers", "depth", (n, a) => n with { Depth = a.Int("depth")!.Value }),
        N("fourier", "K", "MLP Fourier features sin/cos(2^k π x/4), k < K, of the input (0: off)", "fourier_features", (n, a) => n with { FourierFeatures = a.Int("fourier")!.Value }),
        N("channels", "N", "U-Net base channels", "base_channels", (n, a) => n with { BaseChannels = a.Int("channels")!.Value }),
        N("mults", "1,2,2", "U-Net channel multipliers per resolution", "channel_mults", (n, a) => n with { ChannelMults = a.IntList("mults")! }),
        N("res-blocks", "N", "U-Net residual blocks per resolution", "num_res_blocks", (n, a) => n with { NumResBlocks = a.Int("res-blocks")!.Value }),
        N("attn", "R,...", "U-Net attention resolutions, e.g. 7 or 8,16", "attn_resolutions", (n, a) => n with { AttnResolutions = a.IntList("attn")! }),
        N("dropout", "X", "U-Net dropout", "dropout", (n, a) => n with { Dropout = a.Double("dropout")!.Value }),
        N("classes", "K", "class-conditional network of K classes, trained on the data's labels (0: unconditional; ddpm, edm, sde)", "classes", (n, a) => n with { Classes = a.Int("classes")!.Value }),
        N("label-dropout", "P", "share of labels dropped to 'no class' in training, for classifier-free guidance (default 0.1)", "label_dropout", (n, a) => n with { LabelDropout = a.Double("label-dropout")!.Value }),
        N("heads", "N", "ADM attention heads", "adm.heads", (n, a) => n with { Adm = n.Adm with { Heads = a.Int("heads")!.Value } }),
        N("no-scale-shift", null, "ADM: add the embedding instead of adaptive group norm", "adm.scale_shift_norm", (n, a) => n with { Adm = n.Adm with { ScaleShiftNorm = !a.Flag("no-scale-shift") } }),
        N("no-biggan", null, "ADM: conv resampling instead of BigGAN up/down residual blocks", "adm.resblock_updown", (n, a) => n with { Adm = n.Adm with { ResblockUpdown = !a.Flag("no-biggan") } }),
    ];

    static readonly OptionSpec MethodSpec = new("method", "NAME", $"the method: {string.Join(", ", MethodRegistry.Names)} (default ncsn; 'langevin train --method NAME --help' lists its options)");
    static readonly OptionSpec ConfigSpec = new("config", "FILE.json", "start from this config (the format of RUN/config.json); options override it");

    /// <summary>The general options: data, method, config file, steps, optimiser, reporting, network.</summary>
    public static IReadOnlyList<OptionSpec> GeneralSpecs { get; } = [Generals[0].Spec, MethodSpec, ConfigSpec, .. Generals.Skip(1).Select(g => g.Spec)];

    /// <summary>One spec per method option name (for the parser); its help names the methods that take it.</summary>
    public static IReadOnlyList<OptionSpec> MethodSpecs { get; } = [.. MethodRegistry.All
        .SelectMany(r => r.Options.Select(o => (Method: r.Name, Option: o)))
        .GroupBy(x => x.Option.Name)
        .Select(g => new OptionSpec(g.Key, g.First().Option.Value, $"{string.Join(", ", g.Select(x => x.Method))}: {g.First().Option.Help}"))];

    /// <summary>Everything `train` parses.</summary>
    public static IReadOnlyList<OptionSpec> Specs { get; } = [.. GeneralSpecs, .. MethodSpecs];

    /// <summary>The specs of one method's own options (its help).</summary>
    public static IReadOnlyList<OptionSpec> SpecsOf(MethodRegistration method) => [.. method.Options.Select(o => new OptionSpec(o.Name, o.Value, o.Help))];

    /// <summary>(setting, option) pairs: how library error messages name what the options set.</summary>
    public static IEnumerable<(string Setting, string Option)> SettingNames() =>
        Generals.SelectMany(g => g.Settings.Select(s => (s, g.Spec.Name)))
            .Append(("method", "method")).Append(("config", "config"))
            .Concat(MethodRegistry.All.SelectMany(r => r.Options.Select(o => (o.Setting, o.Name))));

    /// <summary>--adam-betas B1,B2 as two numbers (null when not given).</summary>
    static (double Beta1, double Beta2)? AdamBetas(ParsedArgs a)
    {
        if (a.String("adam-betas") is not { } s) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double b1)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b2))
            return (b1, b2);
        throw new UsageException($"--adam-betas must be two numbers B1,B2, e.g. 0,0.999 (got '{s}')");
    }

    /// <summary>
    /// The config the options describe on top of <paramref name="start"/>: --config replaces it by the file, --method by that
    /// method's default settings (when it names another method), then the general options, then the method's own. An option of
    /// another method is refused in one line naming the methods that take it.
    /// </summary>
    public static TrainConfig Build(ParsedArgs a, TrainConfig start, IEnumerable<string>? exclude = null)
    {
        var c = start;
        if (a.String("config") is { } file)
        {
            if (!File.Exists(file)) throw new UsageException($"--config: {file} not found");
            c = TrainConfig.FromJson(File.ReadAllText(file), file);
        }
        if (a.String("method") is { } name && name != c.Method) c = c with { Settings = MethodRegistry.Get(name).DefaultConfig() };
        foreach (var g in Generals) if (a.Has(g.Spec.Name)) c = g.Apply(c, a);
        var method = MethodRegistry.Get(c.Method);
        foreach (var spec in MethodSpecs.Where(s => a.Has(s.Name)))
        {
            var option = method.Options.FirstOrDefault(o => o.Name == spec.Name)
                ?? throw new UsageException($"--{spec.Name} does not apply to --method {method.Name} (it applies to: {string.Join(", ", MethodRegistry.All.Where(r => r.Options.Any(o => o.Name == spec.Name)).Select(r => r.Name))})");
            c = option.Apply(c, a.String(spec.Name)!);
        }
        c.Validate();
        return c;
    }

    /// <summary>The settings --resume may change: the run's length and how it reports.</summary>
    public static readonly IReadOnlyList<string> ChangeableOnResume = ["steps", "checkpoint_every", "sample_every", "log_every", "threads", "bf16", "bf16_probe"];

    /// <summary>
    /// The first fixed setting that <paramref name="rebuilt"/> (the resume command's options over the run's config) changes
    /// in <paramref name="stored"/>, as the option that sets it; a null in <paramref name="rebuilt"/> (an automatic value)
    /// matches whatever the run resolved. Null when nothing fixed changes.
    /// </summary>
    public static string? ChangedOption(TrainConfig rebuilt, TrainConfig stored)
    {
        var a = JsonNode.Parse(rebuilt.ToJson())!;
        var b = JsonNode.Parse(stored.ToJson())!;
        string? path = FirstDifference(a, b, "");
        if (path is null) return null;
        var method = MethodRegistry.Get(stored.Method);
        if (path.StartsWith("settings.", StringComparison.Ordinal))
        {
            string field = path["settings.".Length..];
            if (field == "method") return "method";
            return method.Options.FirstOrDefault(o => o.Setting.EndsWith("." + field, StringComparison.Ordinal) || o.Setting == field)?.Name ?? path;
        }
        return Generals.FirstOrDefault(g => g.Settings.Contains(path))?.Spec.Name ?? path;
    }

    static string? FirstDifference(JsonNode? given, JsonNode? stored, string path)
    {
        if (given is null) return null;                       // automatic: matches the resolved value
        if (ChangeableOnResume.Contains(path)) return null;
        // a borrowed run named again (--denoiser RUN): the stored reference pins its checkpoint; only another run is a change
        if (given is JsonObject gr && gr["is_resolved"]?.GetValue<bool>() == false && stored is JsonObject sr
            && gr["run"]?.GetValue<string>() is { } run && sr["run"]?.GetValue<string>() is { } storedRun)
            return Path.GetFullPath(run) == Path.GetFullPath(storedRun) ? null : path;
        if (given is JsonObject go && stored is JsonObject so)
        {
            foreach (var (key, value) in go)
                if (FirstDifference(value, so[key], path.Length == 0 ? key : $"{path}.{key}") is { } d) return d;
            return null;
        }
        return JsonNode.DeepEquals(given, stored) ? null : path;
    }
}
