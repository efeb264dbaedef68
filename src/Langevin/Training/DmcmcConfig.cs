using Langevin.Samplers;

namespace Langevin.Training;

/// <summary>
/// Denoising MCMC settings (Kim &amp; Ye 2022): the noise-level estimator (a classifier over <see cref="Levels"/> geometric
/// levels from EDM's σ_max down to <see cref="LevelMin"/>; the paper: 1,000 levels down to 0.01) and the defaults of its
/// sampler, denoising Langevin Gibbs (<see cref="DlgSettings"/>). The denoiser is EDM's, set by <see cref="DdpmConfig"/> and
/// trained in the same run, or — with <see cref="Denoiser"/> — borrowed frozen from another run, and only the estimator trains.
/// </summary>
public sealed record DmcmcConfig
{
    public int Levels { get; init; } = 100;
    public double LevelMin { get; init; } = 0.01;
    /// <summary>The estimator MLP (point data): width, hidden layers; its Fourier features are the network's.</summary>
    public int EstimatorWidth { get; init; } = 128;
    public int EstimatorDepth { get; init; } = 3;
    /// <summary>The estimator CNN (images): channels of its first convolution (doubling over four; the paper's 32).</summary>
    public int EstimatorChannels { get; init; } = 32;
    /// <summary>A trained denoiser's run folder (`--denoiser RUN`): its weights are used frozen. Null: train an EDM denoiser here.</summary>
    public string? Denoiser { get; init; }
    /// <summary>Resolved at training start: the step of <see cref="Denoiser"/>'s checkpoint used, and its parameter digest.</summary>
    public long? DenoiserStep { get; init; }
    public string? DenoiserDigest { get; init; }
    /// <summary>Chains run in parallel by `langevin sample --sampler dlg` (each emits ⌈n / chains⌉ samples).</summary>
    public int Chains { get; init; } = 100;
    public double StepSize { get; init; } = 0.01;
    public int GibbsSteps { get; init; } = 10;
    public int HeunSteps { get; init; } = 6;
    public int BurnIn { get; init; } = 20;

    public void Validate(double sigmaMin, double sigmaMax)
    {
        if (Levels < 2) throw new UsageException($"--levels must be ≥ 2 (got {Levels})");
        if (!(LevelMin > sigmaMin) || !(LevelMin < sigmaMax)) throw new UsageException($"the estimator's lowest level must lie in (σ_min, σ_max) = ({sigmaMin}, {sigmaMax}) (got {LevelMin})");
        if (EstimatorWidth < 1 || EstimatorDepth < 1 || EstimatorChannels < 1) throw new UsageException("the estimator's width, depth and channels must be ≥ 1");
        if (Chains < 1) throw new UsageException($"--chains must be ≥ 1 (got {Chains})");
        new DlgSettings(StepSize, GibbsSteps, HeunSteps, BurnIn, SigmaMin: sigmaMin, SigmaMax: sigmaMax).Validate();
    }
}
