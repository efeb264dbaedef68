using System.Text.Json.Serialization;
using Langevin.Processes;

namespace Langevin.Adversarial;

/// <summary>
/// Settings of <see cref="TdpmMethod"/>: DDPM's discrete VP table, where it is truncated, the own sampler's steps, and the
/// adversarial settings of the implicit prior (the shared ones of <see cref="AdversarialConfig"/>).
/// </summary>
public sealed record TdpmConfig : AdversarialConfig
{
    /// <summary>T of the full table the β's come from (DDPM: 1000).</summary>
    public int Timesteps { get; init; } = 1000;
    /// <summary>linear or cosine β's (as DDPM).</summary>
    public string BetaSchedule { get; init; } = VpDiscreteSchedule.Linear;
    /// <summary>T_trunc: the diffusion keeps steps 0..T_trunc − 1 and the prior models q(x at step T_trunc − 1); = Timesteps is the
    /// whole chain. Zheng et al. 2023 truncate 1,000-step chains at 99 or 49 and below.</summary>
    public int Truncation { get; init; } = 100;
    /// <summary>Steps of the own sampler (DDIM η = 0 on the truncated table, trailing spacing); default min(10, T_trunc).</summary>
    public int? SampleSteps { get; init; }
    /// <summary>Images: first-layer channels of the prior's DCGAN networks.</summary>
    public int ImageChannels { get; init; } = 64;
    /// <summary>
    /// The prior's generator: <see cref="GeneratorPrior"/> — a network of its own, G(z) of a latent z (an MLP for points, DCGAN
    /// for images); <see cref="DenoiserPrior"/> — the denoiser's network itself evaluated at the truncation step on item-shaped
    /// noise, trained by a second Adam (Zheng et al. 2023's official code: one U-Net, two optimizers).
    /// </summary>
    public string Prior { get; init; } = GeneratorPrior;

    public const string GeneratorPrior = "generator", DenoiserPrior = "denoiser";

    [JsonIgnore]
    public bool SharesDenoiser => Prior == DenoiserPrior;

    protected override string Prefix => "tdpm";

    /// <summary>The automatic settings; a denoiser prior's Adam as the official code's: G at a tenth of the denoiser's
    /// rate (2·10⁻⁵ against 2·10⁻⁴), β's (0, 0.99).</summary>
    public TdpmConfig ResolvedFor(long[] itemShape, double learningRate)
    {
        var c = SharesDenoiser
            ? this with { GeneratorLearningRate = GeneratorLearningRate ?? learningRate / 10, Beta1 = Beta1 ?? 0, Beta2 = Beta2 ?? 0.99 }
            : this;
        return (TdpmConfig)c.ResolvedFor(itemShape);
    }

    /// <summary>The prior's two Adam settings without the run's clipping and warm-up, which are the denoiser's (the GAN's
    /// recipe trains without either).</summary>
    public override (Training.OptimizerSettings Generator, Training.OptimizerSettings Discriminator) Optimizers(Training.TrainConfig config)
    {
        var (g, d) = base.Optimizers(config);
        return (g with { GradClip = 0, WarmupSteps = 0 }, d with { GradClip = 0, WarmupSteps = 0 });
    }

    [JsonIgnore]
    public int OwnSampleSteps => SampleSteps ?? Math.Min(10, Truncation);

    public override void Validate()
    {
        base.Validate();
        if (Timesteps is < 2 or > 100_000) throw new SettingException("tdpm.timesteps", Timesteps, "must be in 2..100000");
        if (BetaSchedule is not (VpDiscreteSchedule.Linear or VpDiscreteSchedule.Cosine)) throw new SettingException("tdpm.beta_schedule", BetaSchedule, "must be linear or cosine");
        if (Truncation < 2 || Truncation > Timesteps) throw new SettingException("tdpm.truncation", Truncation, $"must be in 2..{Timesteps} (the steps the truncated chain keeps)");
        if (SampleSteps is { } k && (k < 1 || k > Truncation)) throw new SettingException("tdpm.sample_steps", k, $"must be in 1..{Truncation} (the truncated chain's steps)");
        if (ImageChannels < 8 || ImageChannels % 8 != 0) throw new SettingException("tdpm.image_channels", ImageChannels, "must be a positive multiple of 8");
        if (Prior is not (GeneratorPrior or DenoiserPrior)) throw new SettingException("tdpm.prior", Prior, $"must be {GeneratorPrior} or {DenoiserPrior}");
    }
}
