using Langevin.Methods;

namespace Langevin.Adversarial;

/// <summary>
/// Settings of <see cref="GanMethod"/>. Null values are automatic and resolved per loss when a run starts
/// (<see cref="GanMethod.Resolve"/>, recorded in config.json): the loss's usual Adam settings, critic steps and spectral norm.
/// </summary>
public sealed record GanConfig : MethodConfig
{
    /// <summary>ns (non-saturating, with lazy R1), hinge (with spectral norm on D) or wgan-gp.</summary>
    public string Loss { get; init; } = "ns";
    /// <summary>Dimension of z (auto: 8 for points, 100 for images as DCGAN).</summary>
    public int? LatentDim { get; init; }
    /// <summary>Learning rates (auto: 2·10⁻⁴ each; wgan-gp 10⁻⁴, Gulrajani et al. 2017, Alg. 1).</summary>
    public double? GeneratorLearningRate { get; init; }
    public double? DiscriminatorLearningRate { get; init; }
    /// <summary>Adam's β's of both networks (auto: (0.5, 0.999) of DCGAN for ns and hinge, (0, 0.9) of WGAN-GP).</summary>
    public double? Beta1 { get; init; }
    public double? Beta2 { get; init; }
    /// <summary>D updates per G update (auto: 5 for wgan-gp, else 1).</summary>
    public int? CriticSteps { get; init; }
    /// <summary>γ of R1 (ns and hinge; 0: off — the unregularised GAN) and its lazy interval.</summary>
    public double R1Gamma { get; init; } = 0.1;
    public int R1Every { get; init; } = 4;
    /// <summary>λ of WGAN-GP's gradient penalty.</summary>
    public double GradientPenalty { get; init; } = 10;
    /// <summary>Spectral normalisation of D's layers (auto: on for hinge, as SN-GAN).</summary>
    public bool? SpectralNorm { get; init; }
    /// <summary>Width of the conv networks' first layer for images (DCGAN: 64).</summary>
    public int ImageChannels { get; init; } = 64;
    /// <summary>Steps in a row with D's loss below 10⁻³ after which training stops (0: never).</summary>
    public int CollapsePatience { get; init; } = 2000;
    /// <summary>Steps of a first stage in which only D trains (0: none).</summary>
    public long DiscriminatorWarmup { get; init; }

    public GanLoss LossKind => AdversarialLosses.Parse(Loss, "gan.loss");

    public GameRules Rules => new(LossKind, R1Gamma, R1Every, GradientPenalty,
        CriticSteps ?? throw new InvalidOperationException("GAN settings must be resolved first"), CollapsePatience);

    public override void Validate()
    {
        _ = LossKind;
        if (LatentDim is < 1) throw new SettingException("gan.latent_dim", LatentDim, "must be ≥ 1");
        if (GeneratorLearningRate is { } g && !(g > 0)) throw new SettingException("gan.generator_learning_rate", g, "must be > 0");
        if (DiscriminatorLearningRate is { } d && !(d > 0)) throw new SettingException("gan.discriminator_learning_rate", d, "must be > 0");
        if (Beta1 is < 0 or >= 1) throw new SettingException("gan.beta1", Beta1, "must be in [0, 1)");
        if (Beta2 is < 0 or >= 1) throw new SettingException("gan.beta2", Beta2, "must be in [0, 1)");
        if (CriticSteps is < 1) throw new SettingException("gan.critic_steps", CriticSteps, "must be ≥ 1");
        if (!(R1Gamma >= 0)) throw new SettingException("gan.r1_gamma", R1Gamma, "must be ≥ 0");
        if (R1Every < 1) throw new SettingException("gan.r1_every", R1Every, "must be ≥ 1");
        if (!(GradientPenalty >= 0)) throw new SettingException("gan.gradient_penalty", GradientPenalty, "must be ≥ 0");
        if (ImageChannels < 8 || ImageChannels % 8 != 0) throw new SettingException("gan.image_channels", ImageChannels, "must be a positive multiple of 8");
        if (CollapsePatience < 0) throw new SettingException("gan.collapse_patience", CollapsePatience, "must be ≥ 0");
        if (DiscriminatorWarmup < 0) throw new SettingException("gan.discriminator_warmup", DiscriminatorWarmup, "must be ≥ 0");
    }

    /// <summary>The automatic settings filled in for items of <paramref name="itemShape"/>.</summary>
    public GanConfig Resolved(long[] itemShape)
    {
        var loss = LossKind;
        bool w = loss == GanLoss.Wasserstein;
        return this with
        {
            LatentDim = LatentDim ?? (itemShape.Length == 1 ? 8 : 100),
            GeneratorLearningRate = GeneratorLearningRate ?? (w ? 1e-4 : 2e-4),
            DiscriminatorLearningRate = DiscriminatorLearningRate ?? (w ? 1e-4 : 2e-4),
            Beta1 = Beta1 ?? (w ? 0 : 0.5),
            Beta2 = Beta2 ?? (w ? 0.9 : 0.999),
            CriticSteps = CriticSteps ?? (w ? 5 : 1),
            SpectralNorm = SpectralNorm ?? (loss == GanLoss.Hinge),
        };
    }
}
