using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Langevin.Methods;

namespace Langevin.Training;

/// <summary>
/// Everything a training run needs; serialised as RUN/config.json and into every checkpoint. The general settings (data,
/// steps, batch, optimiser, EMA, reporting, network) are here; the method and its own settings are <see cref="Settings"/>,
/// a record of the method's (JSON: <c>"settings": {"method": "ncsn", …}</c>), so a run's config holds its own method's
/// settings only.
/// </summary>
public sealed record TrainConfig
{
    /// <summary>The method's own settings; their type names the method (<see cref="MethodRegistry"/>).</summary>
    [JsonPropertyOrder(-1)]
    public MethodConfig Settings { get; init; } = new NcsnConfig();

    /// <summary>The method's name (from <see cref="Settings"/>).</summary>
    [JsonIgnore]
    public string Method => MethodRegistry.Of(Settings).Name;

    public string Data { get; init; } = "checkerboard";
    public long Steps { get; init; } = 5000;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>adam or adamw.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Adam's β₁, β₂ (EBMs often take β₁ = 0: Lippe's tutorial 8 and Yin et al. 2022, as the loss surface moves with the sampler).</summary>
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.999;
    public double WeightDecay { get; init; }
    public int WarmupSteps { get; init; }
    /// <summary>Maximum gradient L2 norm; 0 disables clipping.</summary>
    public double GradClip { get; init; } = 1.0;
    public double EmaDecay { get; init; } = 0.999;
    public bool EmaWarmup { get; init; } = true;
    public int CheckpointEvery { get; init; } = 1000;
    public int SampleEvery { get; init; } = 1000;
    public int LogEvery { get; init; } = 10;
    public int Seed { get; init; }
    public int? Threads { get; init; }
    public string Device { get; init; } = "cpu";
    public bool HorizontalFlip { get; init; }
    /// <summary>Mixed precision: forward and backward in bfloat16, fp32 master weights (<see cref="BFloat16WorkingCopy"/>): off, on,
    /// or auto — a probe of the run's first step decides (<see cref="Training.Bf16Probe"/>).</summary>
    public Bf16Mode Bf16 { get; init; }
    /// <summary>What <c>bf16: auto</c> measured and chose when the run started (set by the trainer; null otherwise).</summary>
    public Bf16Probe? Bf16Probe { get; init; }
    /// <summary>Whether the run trains in bf16: on, or auto where the probe chose it.</summary>
    [JsonIgnore]
    public bool TrainsInBf16 => Bf16 == Bf16Mode.On || (Bf16 == Bf16Mode.Auto && Bf16Probe?.UsesBf16 == true);
    public int? DataLimit { get; init; }
    public NetworkConfig Network { get; init; } = new();

    /// <summary>The method's settings as their own type (a method reads its own: <c>config.SettingsAs&lt;EbmConfig&gt;()</c>).</summary>
    public T SettingsAs<T>() where T : MethodConfig => Settings as T
        ?? throw new ArgumentException($"the run's settings are {Settings.GetType().Name}, not {typeof(T).Name}");

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowOutOfOrderMetadataProperties = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { MethodRegistry.AddConfigTypes } },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// Reads a config (RUN/config.json, a checkpoint's, or a user's --config file). One written before methods had their own
    /// settings records (a top-level "method" and a section per method) is converted by <see cref="LegacyConfig"/>.
    /// </summary>
    public static TrainConfig FromJson(string json, string source)
    {
        try
        {
            var node = JsonNode.Parse(json) as JsonObject ?? throw new SettingException("config", source, "must be a JSON object");
            string? at;
            try { at = FirstNull(node, ""); }   // materialises every member: JsonObject refuses a duplicate key here
            catch (ArgumentException e) { throw new UsageException($"{source}: invalid config: a member is given twice ({FirstLine(e.Message)})"); }
            if (at is not null)   // written configs never hold null (WhenWritingNull): it is damage or a hand edit
                throw new UsageException($"{source}: invalid config: {at} is null; give it a value or leave it out for its default");
            if (LegacyConfig.IsLegacy(node)) node = LegacyConfig.Convert(node, source);
            return node.Deserialize<TrainConfig>(Json) ?? throw new UsageException($"{source}: empty config");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $" at {MessageText.OneLine(p, 200)}" : "";
            throw new UsageException($"{source}: invalid config{where}: {FirstLine(e.Message)}");
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"{source}: invalid config: {FirstLine(e.Message)}");
        }

    }

    /// <summary>The first line of a serializer's message, cut short (it may quote a huge value of the file).</summary>
    static string FirstLine(string s) => MessageText.OneLine(s.Split('\n')[0].Trim(), 300);

    /// <summary>The path of the first null member or element under <paramref name="node"/> (e.g. <c>network.channel_mults[1]</c>), or null.</summary>
    static string? FirstNull(JsonNode node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    string at = path.Length == 0 ? key : $"{path}.{key}";
                    if (value is null) return MessageText.Quote(at);
                    if (FirstNull(value, at) is { } inner) return inner;
                }
                return null;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                {
                    if (a[i] is null) return MessageText.Quote($"{path}[{i}]");
                    if (FirstNull(a[i]!, $"{path}[{i}]") is { } inner) return inner;
                }
                return null;
            default:
                return null;
        }
    }

    public void Validate()
    {
        if (Steps < 1) throw new SettingException("steps", Steps, "must be ≥ 1");
        if (BatchSize < 1) throw new SettingException("batch_size", BatchSize, "must be ≥ 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new SettingException("learning_rate", LearningRate, "must be > 0");
        if (Optimizer is not ("adam" or "adamw")) throw new SettingException("optimizer", Optimizer, "must be adam or adamw");
        if (AdamBeta1 is < 0 or >= 1 || AdamBeta2 is < 0 or >= 1) throw new SettingException("adam_betas", $"{AdamBeta1}, {AdamBeta2}", "must both be in [0, 1)");
        if (EmaDecay is < 0 or >= 1) throw new SettingException("ema_decay", EmaDecay, "must be in [0, 1)");
        if (GradClip < 0) throw new SettingException("grad_clip", GradClip, "must be ≥ 0");
        if (CheckpointEvery < 1) throw new SettingException("checkpoint_every", CheckpointEvery, "must be ≥ 1");
        if (SampleEvery < 0) throw new SettingException("sample_every", SampleEvery, "must be ≥ 0");
        if (LogEvery < 1) throw new SettingException("log_every", LogEvery, "must be ≥ 1");
        if (WarmupSteps < 0) throw new SettingException("warmup_steps", WarmupSteps, "must be ≥ 0");
        if (Bf16 == Bf16Mode.On && MethodRegistry.Of(Settings).Bf16Refusal is { } why) throw new SettingException("bf16", "on", $"is not available for method {Method} ({why})");
        Network.Validate();
        Settings.Validate();
    }

    /// <summary>Learning rate at a step: linear warm-up over <see cref="WarmupSteps"/>, then constant.</summary>
    public double LearningRateAt(long step) =>
        WarmupSteps > 0 && step <= WarmupSteps ? LearningRate * step / WarmupSteps : LearningRate;
}

/// <summary>The network: an MLP for points, a U-Net for images (<c>auto</c> picks by data).</summary>
public sealed record NetworkConfig
{
    /// <summary>auto, mlp or unet.</summary>
    public string Kind { get; init; } = "auto";
    public int Width { get; init; } = 256;
    public int Depth { get; init; } = 3;
    /// <summary>MLP Fourier features of the input (0: off).</summary>
    public int FourierFeatures { get; init; }
    public int BaseChannels { get; init; } = 32;
    public int[] ChannelMults { get; init; } = [1, 2, 2];
    public int NumResBlocks { get; init; } = 2;
    public int[] AttnResolutions { get; init; } = [];
    public double Dropout { get; init; }
    public AdmNetworkConfig Adm { get; init; } = new();
    /// <summary>K &gt; 0: a class-conditional network of K classes (a class embedding added to the time embedding), trained on
    /// labelled batches; 0: unconditional.</summary>
    public int Classes { get; init; }
    /// <summary>p_uncond: the share of training labels replaced by "no class", so that one network is conditional and
    /// unconditional and classifier-free guidance can be sampled (Ho &amp; Salimans 2021, Alg. 1; they found 0.1–0.2 best).</summary>
    public double LabelDropout { get; init; } = 0.1;

    public void Validate()
    {
        if (Kind is not ("auto" or "mlp" or "unet" or "adm")) throw new SettingException("network.kind", Kind, "must be auto, mlp, unet or adm");
        // upper bounds far above any model these machines train, so a damaged or mistyped value fails here, not in a 100 GB allocation
        if (Width is < 1 or > 4096) throw new SettingException("network.width", Width, "must be in 1..4096");
        if (Depth is < 1 or > 32) throw new SettingException("network.depth", Depth, "must be in 1..32");
        if (FourierFeatures is < 0 or > 16) throw new SettingException("network.fourier_features", FourierFeatures, "must be in 0..16");
        if (BaseChannels < 8 || BaseChannels % 8 != 0 || BaseChannels > 2048) throw new SettingException("network.base_channels", BaseChannels, "must be a multiple of 8 in 8..2048");
        if (ChannelMults.Length is 0 or > 8 || ChannelMults.Any(m => m is < 1 or > 32))
            throw new SettingException("network.channel_mults", string.Join(",", ChannelMults.Take(9)), "must be 1 to 8 integers in 1..32, e.g. 1,2,2");
        if (NumResBlocks is < 1 or > 32) throw new SettingException("network.num_res_blocks", NumResBlocks, "must be in 1..32");
        if (Dropout is < 0 or >= 1) throw new SettingException("network.dropout", Dropout, "must be in [0, 1)");
        if (Classes is < 0 or > 100_000) throw new SettingException("network.classes", Classes, "must be in 0..100000 (0: unconditional)");
        if (LabelDropout is < 0 or >= 1) throw new SettingException("network.label_dropout", LabelDropout, "must be in [0, 1)");
    }
}
