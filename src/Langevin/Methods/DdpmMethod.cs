using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// DDPM (Ho et al. 2020): the discrete VP process with T steps, linear or cosine β's, an ε/x₀/v/score network and L_simple
/// (or improved DDPM's hybrid loss with learned variances, Nichol &amp; Dhariwal 2021); sampled by DDIM (η = 0; Song et al.
/// 2021), i.e. Euler on the probability-flow ODE over the σ's of a leading spacing.
/// </summary>
public sealed class DdpmMethod : DiffusionMethod
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "ddpm",
        Summary = "DDPM / improved DDPM: the discrete VP process, ε/x₀/v/score prediction, L_simple or the hybrid loss; DDIM",
        MethodType = typeof(DdpmMethod),
        ConfigType = typeof(DdpmConfig),
        DefaultConfig = () => new DdpmConfig(),
        Recipe = data => ToyRecipe(new DdpmConfig(), data),
        Options =
        [
            MethodOption.For<DdpmConfig>("timesteps", "T", "diffusion steps (default 1000)", "ddpm.timesteps", (s, v) => s with { Timesteps = MethodOption.Integer(v, "ddpm.timesteps") }),
            MethodOption.For<DdpmConfig>("betas", "linear|cosine", "β schedule (default linear)", "ddpm.betas", (s, v) => s with { Betas = v }),
            MethodOption.For<DdpmConfig>("prediction", "eps|x0|v|score", "network target (default eps)", "ddpm.prediction", (s, v) => s with { Prediction = v }),
            MethodOption.For<DdpmConfig>("loss", "simple|hybrid", "L_simple, or hybrid: + λ L_vlb with learned variances (needs --net adm and eps)", "ddpm.loss", (s, v) => s with { Loss = v }),
            SampleStepsOption<DdpmConfig>("ddpm", "DDIM, default 50", (s, v) => s with { SampleSteps = v }),
        ],
        Create = (c, shape) => new DdpmMethod(c, shape),
        FromLegacy = root => LegacyConfig.Pick(root, "ddpm", "timesteps", "betas", "prediction", "loss", "sample_steps"),
    };

    readonly DdpmConfig _d;

    /// <summary>The discrete VP schedule the model was trained on.</summary>
    public VpDiscreteSchedule Schedule { get; }

    /// <summary>Whether the network also outputs improved DDPM's variance interpolation v (channels C…2C−1).</summary>
    public bool LearnedVariance => _d.Loss == "hybrid";

    public override IReadOnlyList<string> SamplerNames { get; } = ["ddim"];
    public override int DefaultSampleSteps => _d.SampleSteps ?? 50;

    public DdpmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _d = config.SettingsAs<DdpmConfig>();
        _d.Validate();
        bool hybrid = LearnedVariance;
        if (hybrid && (Predictions.Parse(_d.Prediction) != Prediction.Epsilon || Networks.ResolveKind(config.Network, itemShape) != "adm"))
            throw new SettingException("ddpm.loss", "hybrid", "needs the eps prediction and the adm network (whose learned-variance output it trains)");
        var network = Networks.Create(hybrid ? config.Network with { Adm = config.Network.Adm with { LearnSigma = true } } : config.Network, itemShape);
        Schedule = new VpDiscreteSchedule(_d.Timesteps, _d.Betas);
        Denoiser = new PreconditionedDenoiser(network, ScaledFramePreconditioning.VpDiscrete(Schedule, Predictions.Parse(_d.Prediction)));
        Objective = hybrid ? new HybridLoss(Schedule, discretised: Networks.IsImage(itemShape)) : new DdpmSimpleLoss(Schedule);
        (SigmaMin, SigmaMax) = (Schedule.Sigma(0), Schedule.Sigma(Schedule.T - 1));
    }

    public override double[] SigmasFor(int steps) => SamplingSigmas.FromSpacing(Schedule, steps, "leading");

    protected override IScoreModel CatalogDenoiserOf(PreconditionedDenoiser denoiser) => LearnedVariance ? new LearnedVarianceModel(denoiser) : denoiser;

    /// <summary>DDPM's discrete VP table: the catalog's samplers follow diffusers' schedules on it.</summary>
    public override SamplingProcess Process => new(SamplingProcess.Vp, Schedule);
}

/// <summary>DDPM's settings: T, the β schedule, the network's target, the loss, and the own sampler's steps.</summary>
public sealed record DdpmConfig : MethodConfig
{
    public static readonly IReadOnlyList<string> Losses = ["simple", "hybrid"];

    /// <summary>Number of diffusion steps T.</summary>
    public int Timesteps { get; init; } = 1000;
    /// <summary>linear (1e-4 … 0.02) or cosine (Nichol &amp; Dhariwal 2021) β's.</summary>
    public string Betas { get; init; } = VpDiscreteSchedule.Linear;
    /// <summary>What the network predicts: eps, x0, v or score.</summary>
    public string Prediction { get; init; } = "eps";
    /// <summary>simple (L_simple, Ho et al. 2020 Eq. 14) or hybrid (L_simple + λ L_vlb with learned variances, Nichol &amp; Dhariwal 2021).</summary>
    public string Loss { get; init; } = "simple";
    /// <summary>DDIM steps for previews and `langevin sample` without --steps (default 50).</summary>
    public int? SampleSteps { get; init; }

    public override void Validate()
    {
        if (Timesteps is < 2 or > 100_000) throw new SettingException("ddpm.timesteps", Timesteps, "must be in 2..100000");
        if (Betas is not (VpDiscreteSchedule.Linear or VpDiscreteSchedule.Cosine)) throw new SettingException("ddpm.betas", Betas, "must be linear or cosine");
        Predictions.Parse(Prediction);
        if (!Losses.Contains(Loss)) throw new SettingException("ddpm.loss", Loss, $"must be one of: {string.Join(", ", Losses)}");
        if (SampleSteps is < 1) throw new SettingException("ddpm.sample_steps", SampleSteps, "must be ≥ 1");
    }
}
