using Langevin.Samplers;

namespace Langevin.Dmcmc;

/// <summary>
/// Denoising MCMC settings (Kim &amp; Ye 2022): the noise-level estimator (a classifier over <see cref="Levels"/> geometric
/// levels from EDM's σ_max down to <see cref="LevelMin"/>; the paper: 1,000 levels down to 0.01) and the defaults of its
/// sampler, denoising Langevin Gibbs (<see cref="DlgSettings"/>). The denoiser is EDM's, set by <see cref="Langevin.Methods.DdpmConfig"/> and
/// trained in the same run, or — with <see cref="Denoiser"/> — borrowed frozen from another run, and only the estimator trains.
/// </summary>
public sealed record DmcmcConfig : Methods.MethodConfig
{
    public int Levels { get; init; } = 100;
    public double LevelMin { get; init; } = 0.01;
    /// <summary>The estimator MLP (point data): width, hidden layers; its Fourier features are the network's.</summary>
    public int EstimatorWidth { get; init; } = 128;
    public int EstimatorDepth { get; init; } = 3;
    /// <summary>The estimator CNN (images): channels of its first convolution (doubling over four; the paper's 32).</summary>
    public int EstimatorChannels { get; init; } = 32;
    /// <summary>A trained denoiser's run (`--denoiser RUN`), pinned at training start to its latest checkpoint's step and digest;
    /// its weights are used frozen. Null: train an EDM denoiser (<see cref="Edm"/>) here.</summary>
    public Methods.ComponentReference? Denoiser { get; init; }
    /// <summary>The EDM denoiser's settings (trained here unless <see cref="Denoiser"/> is given); its σ range is the sampler's either way.</summary>
    public Methods.EdmConfig Edm { get; init; } = new();
    /// <summary>Chains run in parallel by `langevin sample --sampler dlg` (each emits ⌈n / chains⌉ samples).</summary>
    public int Chains { get; init; } = 100;
    public double StepSize { get; init; } = 0.01;
    public int GibbsSteps { get; init; } = 10;
    public int HeunSteps { get; init; } = 6;
    public int BurnIn { get; init; } = 20;

    public override void Validate()
    {
        Edm.Validate();
        double sigmaMin = Edm.SigmaMin, sigmaMax = Edm.SigmaMax;
        if (Levels < 2) throw new SettingException("dmcmc.levels", Levels, "must be ≥ 2");
        if (!(LevelMin > sigmaMin) || !(LevelMin < sigmaMax)) throw new SettingException("dmcmc.level_min", LevelMin, $"(the estimator's lowest level) must lie in (σ_min, σ_max) = ({sigmaMin}, {sigmaMax})");
        if (EstimatorWidth < 1) throw new SettingException("dmcmc.estimator_width", EstimatorWidth, "must be ≥ 1");
        if (EstimatorDepth < 1) throw new SettingException("dmcmc.estimator_depth", EstimatorDepth, "must be ≥ 1");
        if (EstimatorChannels < 1) throw new SettingException("dmcmc.estimator_channels", EstimatorChannels, "must be ≥ 1");
        if (Chains < 1) throw new SettingException("dmcmc.chains", Chains, "must be ≥ 1");
        new DlgSettings(StepSize, GibbsSteps, HeunSteps, BurnIn, SigmaMin: sigmaMin, SigmaMax: sigmaMax).Validate();
    }
}
