using System.Text.Json.Serialization;
using Langevin.Methods;

namespace Langevin.Adversarial;

/// <summary>
/// The settings every generator-against-discriminator method shares (GAN, DD-GAN): the loss and its regulariser, the two
/// Adam settings, critic steps, the collapse watch and an optional D-only first stage. Null values are automatic and
/// resolved per loss when a run starts (<see cref="ResolvedFor"/>, recorded in config.json).
/// </summary>
public abstract record AdversarialConfig : MethodConfig
{
    /// <summary>ns (non-saturating, with lazy R1), hinge (with spectral norm on D) or wgan-gp.</summary>
    public string Loss { get; init; } = "ns";
    /// <summary>Dimension of z (auto: 8 for points, 100 for images as DCGAN).</summary>
    public int? LatentDim { get; init; }
    /// <summary>
    /// Learning rates (auto: G 2·10⁻⁴ and D 10⁻³, the two time-scale rule of Heusel et al. 2017 — at equal rates G's
    /// samples collapsed or stalled in the measurements of docs/methods/gan.md; wgan-gp 10⁻⁴ each, Gulrajani et al. 2017, Alg. 1).
    /// </summary>
    public double? GeneratorLearningRate { get; init; }
    public double? DiscriminatorLearningRate { get; init; }
    /// <summary>Adam's β's of both networks (auto: (0.5, 0.9) for ns and hinge, as DD-GAN's code; (0, 0.9) of WGAN-GP).</summary>
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
    /// <summary>Steps in a row with D's loss below 10⁻³ after which training stops (0: never).</summary>
    public int CollapsePatience { get; init; } = 2000;
    /// <summary>Steps of a first stage in which only D trains (0: none).</summary>
    public long DiscriminatorWarmup { get; init; }
    /// <summary>Images: the group size of a minibatch-std feature map in D (<see cref="DcganDiscriminator.MinibatchStd"/>; 0: none).</summary>
    public int MinibatchStd { get; init; }

    /// <summary>The method's name as settings spell it (gan.r1_gamma, ddgan.r1_gamma).</summary>
    protected abstract string Prefix { get; }

    [JsonIgnore]
    public GanLoss LossKind => AdversarialLosses.Parse(Loss, Prefix + ".loss");

    [JsonIgnore]
    public GameRules Rules => new(LossKind, R1Gamma, R1Every, GradientPenalty,
        CriticSteps ?? throw new InvalidOperationException("adversarial settings must be resolved first"), CollapsePatience);

    public override void Validate()
    {
        string p = Prefix;
        _ = LossKind;
        if (LatentDim is < 1) throw new SettingException($"{p}.latent_dim", LatentDim, "must be ≥ 1");
        if (GeneratorLearningRate is { } g && !(g > 0)) throw new SettingException($"{p}.generator_learning_rate", g, "must be > 0");
        if (DiscriminatorLearningRate is { } d && !(d > 0)) throw new SettingException($"{p}.discriminator_learning_rate", d, "must be > 0");
        if (Beta1 is < 0 or >= 1) throw new SettingException($"{p}.beta1", Beta1, "must be in [0, 1)");
        if (Beta2 is < 0 or >= 1) throw new SettingException($"{p}.beta2", Beta2, "must be in [0, 1)");
        if (CriticSteps is < 1) throw new SettingException($"{p}.critic_steps", CriticSteps, "must be ≥ 1");
        if (!(R1Gamma >= 0)) throw new SettingException($"{p}.r1_gamma", R1Gamma, "must be ≥ 0");
        if (R1Every < 1) throw new SettingException($"{p}.r1_every", R1Every, "must be ≥ 1");
        if (!(GradientPenalty >= 0)) throw new SettingException($"{p}.gradient_penalty", GradientPenalty, "must be ≥ 0");
        if (CollapsePatience < 0) throw new SettingException($"{p}.collapse_patience", CollapsePatience, "must be ≥ 0");
        if (DiscriminatorWarmup < 0) throw new SettingException($"{p}.discriminator_warmup", DiscriminatorWarmup, "must be ≥ 0");
        if (MinibatchStd < 0) throw new SettingException($"{p}.minibatch_std", MinibatchStd, "must be ≥ 0 (0: off)");
    }

    /// <summary>The automatic settings filled in for items of <paramref name="itemShape"/> (the derived record keeps its type).</summary>
    public AdversarialConfig ResolvedFor(long[] itemShape)
    {
        var loss = LossKind;
        bool w = loss == GanLoss.Wasserstein;
        if (itemShape.Length == 1 && MinibatchStd > 0)
            throw new SettingException($"{Prefix}.minibatch_std", MinibatchStd, "applies to image discriminators only (points have no feature maps; leave it 0)");
        return this with
        {
            LatentDim = LatentDim ?? (itemShape.Length == 1 ? 8 : 100),
            GeneratorLearningRate = GeneratorLearningRate ?? (w ? 1e-4 : 2e-4),
            DiscriminatorLearningRate = DiscriminatorLearningRate ?? (w ? 1e-4 : 1e-3),
            Beta1 = Beta1 ?? (w ? 0 : 0.5),
            Beta2 = Beta2 ?? 0.9,
            CriticSteps = CriticSteps ?? (w ? 5 : 1),
            SpectralNorm = SpectralNorm ?? (loss == GanLoss.Hinge),
        };
    }

    /// <summary>The stages: a D-only warm-up when asked, then both networks.</summary>
    public IReadOnlyList<Training.TrainingStage> Stages(string discriminator) => DiscriminatorWarmup > 0
        ? [new Training.TrainingStage("disc-warmup", DiscriminatorWarmup, [discriminator]), new Training.TrainingStage("adversarial")]
        : [];

    /// <summary>The two components' Adam settings: the run's (warm-up, clipping) with this method's learning rates and β's.</summary>
    public virtual (Training.OptimizerSettings Generator, Training.OptimizerSettings Discriminator) Optimizers(Training.TrainConfig config)
    {
        var adam = Training.OptimizerSettings.From(config) with { Beta1 = Beta1!.Value, Beta2 = Beta2!.Value };
        return (adam with { LearningRate = GeneratorLearningRate!.Value }, adam with { LearningRate = DiscriminatorLearningRate!.Value });
    }
}

/// <summary>The options of <see cref="AdversarialConfig"/>, shared by every adversarial method's registration.</summary>
public static class AdversarialOptions
{
    public static IReadOnlyList<MethodOption> For<T>(string method) where T : AdversarialConfig
    {
        MethodOption O(string name, string? value, string help, string field, Func<T, string, T> apply) =>
            MethodOption.For(name, value, help, $"{method}.{field}", apply);
        string s(string field) => $"{method}.{field}";
        return
        [
            O("gan-loss", "ns|hinge|wgan-gp", "the adversarial loss (default ns: non-saturating with lazy R1)", "loss", (c, v) => (T)(c with { Loss = v })),
            O("latent-dim", "K", "dimension of G's latent z (default 8 for points, 100 for images)", "latent_dim", (c, v) => (T)(c with { LatentDim = MethodOption.Integer(v, s("latent_dim")) })),
            O("gen-lr", "X", "G's learning rate (default 2e-4; wgan-gp 1e-4)", "generator_learning_rate", (c, v) => (T)(c with { GeneratorLearningRate = MethodOption.Number(v, s("generator_learning_rate")) })),
            O("disc-lr", "X", "D's learning rate (default 1e-3; wgan-gp 1e-4)", "discriminator_learning_rate", (c, v) => (T)(c with { DiscriminatorLearningRate = MethodOption.Number(v, s("discriminator_learning_rate")) })),
            O("gan-betas", "B1,B2", "Adam's β's of G and D (default 0.5,0.9; wgan-gp 0,0.9)", "betas", (c, v) => Betas(c, v, s("betas"))),
            O("critic-steps", "K", "D updates per G update (default 1; wgan-gp 5)", "critic_steps", (c, v) => (T)(c with { CriticSteps = MethodOption.Integer(v, s("critic_steps")) })),
            O("r1-gamma", "G", "γ of R1, γ/2·E‖∇D(x)‖² on data (0: none — the unregularised GAN)", "r1_gamma", (c, v) => (T)(c with { R1Gamma = MethodOption.Number(v, s("r1_gamma")) })),
            O("r1-every", "K", "lazy R1: every K-th step, weighted by K (default 4)", "r1_every", (c, v) => (T)(c with { R1Every = MethodOption.Integer(v, s("r1_every")) })),
            O("gp-weight", "L", "λ of WGAN-GP's gradient penalty (default 10)", "gradient_penalty", (c, v) => (T)(c with { GradientPenalty = MethodOption.Number(v, s("gradient_penalty")) })),
            O("spectral-norm", null, "spectral normalisation of D (default: on for hinge)", "spectral_norm", (c, v) => (T)(c with { SpectralNorm = MethodOption.Flag(v, s("spectral_norm")) })),
            O("collapse-patience", "N", "stop when D's loss stays below 1e-3 for N steps (default 2000; 0: never)", "collapse_patience", (c, v) => (T)(c with { CollapsePatience = MethodOption.Integer(v, s("collapse_patience")) })),
            O("disc-warmup", "N", "a first stage of N steps in which only D trains (default 0)", "discriminator_warmup", (c, v) => (T)(c with { DiscriminatorWarmup = MethodOption.Integer(v, s("discriminator_warmup")) })),
            O("minibatch-std", "G", "images: a minibatch-std feature map in D over groups of G items, as StyleGAN's (default 0: off)", "minibatch_std", (c, v) => (T)(c with { MinibatchStd = MethodOption.Integer(v, s("minibatch_std")) })),
        ];
    }

    static T Betas<T>(T c, string v, string setting) where T : AdversarialConfig
    {
        var parts = v.Split(',');
        if (parts.Length != 2) throw new SettingException(setting, v, "must be two numbers B1,B2, e.g. 0.5,0.999");
        return (T)(c with { Beta1 = MethodOption.Number(parts[0], setting), Beta2 = MethodOption.Number(parts[1], setting) });
    }
}
