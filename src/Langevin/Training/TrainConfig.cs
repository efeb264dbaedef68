using System.Text.Json;
using System.Text.Json.Serialization;

namespace Langevin.Training;

/// <summary>Everything a training run needs; serialised as RUN/config.json and into every checkpoint.</summary>
public sealed record TrainConfig
{
    public string Method { get; init; } = "ncsn";
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
    /// <summary>Mixed precision: forward and backward in bfloat16, fp32 master weights (<see cref="BFloat16WorkingCopy"/>).</summary>
    public bool Bf16 { get; init; }
    public int? DataLimit { get; init; }
    public NetworkConfig Network { get; init; } = new();
    public NcsnConfig Ncsn { get; init; } = new();
    public DdpmConfig Ddpm { get; init; } = new();
    public EbmConfig Ebm { get; init; } = new();
    public AdversarialEbmConfig AdversarialEbm { get; init; } = new();
    public CldConfig Cld { get; init; } = new();
    public WalkJumpConfig WalkJump { get; init; } = new();
    public DmcmcConfig Dmcmc { get; init; } = new();
    public Methods.ToyGanConfig ToyGan { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainConfig FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainConfig>(json, Json)
                ?? throw new UsageException($"{source}: empty config");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            throw new UsageException($"{source}: invalid config{where}: {FirstLine(e.Message)}");
        }
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();

    public void Validate()
    {
        if (Steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {Steps})");
        if (BatchSize < 1) throw new UsageException($"--batch must be ≥ 1 (got {BatchSize})");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new UsageException($"--lr must be > 0 (got {LearningRate})");
        if (Optimizer is not ("adam" or "adamw")) throw new UsageException($"--optimizer must be adam or adamw (got '{Optimizer}')");
        if (AdamBeta1 is < 0 or >= 1 || AdamBeta2 is < 0 or >= 1) throw new UsageException($"--adam-betas must both be in [0, 1) (got {AdamBeta1}, {AdamBeta2})");
        if (EmaDecay is < 0 or >= 1) throw new UsageException($"--ema must be in [0, 1) (got {EmaDecay})");
        if (GradClip < 0) throw new UsageException($"--grad-clip must be ≥ 0 (got {GradClip})");
        if (CheckpointEvery < 1) throw new UsageException($"--checkpoint-every must be ≥ 1 (got {CheckpointEvery})");
        if (SampleEvery < 0) throw new UsageException($"--sample-every must be ≥ 0 (got {SampleEvery})");
        if (LogEvery < 1) throw new UsageException($"--log-every must be ≥ 1 (got {LogEvery})");
        if (Bf16 && Method is "ebm" or "adv-ebm") throw new UsageException($"--bf16 is not available for --method {Method} (its sampler differentiates the energy through the network)");
        if (WarmupSteps < 0) throw new UsageException($"--warmup must be ≥ 0 (got {WarmupSteps})");
        Network.Validate();
        Ncsn.Validate();
        Ddpm.Validate();
        Ebm.Validate();
        AdversarialEbm.Validate();
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

    public void Validate()
    {
        if (Kind is not ("auto" or "mlp" or "unet" or "adm")) throw new UsageException($"--net must be auto, mlp, unet or adm (got '{Kind}')");
        if (Width < 1 || Depth < 1) throw new UsageException("--width and --depth must be ≥ 1");
        if (FourierFeatures is < 0 or > 16) throw new UsageException($"--fourier must be in 0..16 (got {FourierFeatures})");
        if (BaseChannels < 8 || BaseChannels % 8 != 0) throw new UsageException($"--channels must be a positive multiple of 8 (got {BaseChannels})");
        if (ChannelMults.Length == 0 || ChannelMults.Any(m => m < 1)) throw new UsageException("--mults must be a list of positive integers, e.g. 1,2,2");
        if (NumResBlocks < 1) throw new UsageException($"--res-blocks must be ≥ 1 (got {NumResBlocks})");
        if (Dropout is < 0 or >= 1) throw new UsageException($"--dropout must be in [0, 1) (got {Dropout})");
    }
}

/// <summary>
/// NCSN / NCSNv2 settings. Null values are filled by NCSNv2's techniques when training starts and the resolved
/// values are written back into config.json, so sampling uses exactly what training used.
/// </summary>
public sealed record NcsnConfig
{
    public double? SigmaMax { get; init; }
    public double SigmaMin { get; init; } = 0.01;
    public int? Levels { get; init; }
    public int StepsPerLevel { get; init; } = 5;
    public double? StepSize { get; init; }
    public bool FinalDenoise { get; init; } = true;

    public void Validate()
    {
        if (!(SigmaMin > 0)) throw new UsageException($"--sigma-min must be > 0 (got {SigmaMin})");
        if (SigmaMax is { } max && !(max > SigmaMin)) throw new UsageException($"--sigma-max must be > --sigma-min (got {max})");
        if (Levels is < 2) throw new UsageException($"--levels must be ≥ 2 (got {Levels})");
        if (StepsPerLevel < 1) throw new UsageException($"--steps-per-level must be ≥ 1 (got {StepsPerLevel})");
        if (StepSize is { } eps && !(eps > 0)) throw new UsageException($"--step-size must be > 0 (got {eps})");
    }
}
