using System.Globalization;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Denoising MCMC (Kim &amp; Ye 2022): an EDM denoiser (Karras et al. 2022; the <c>edm</c> method, unchanged) and a
/// noise-level estimator trained in one run (loss = EDM loss + the estimator's cross-entropy; their parameters are
/// disjoint), sampled by denoising Langevin Gibbs with the hand-off to EDM's Heun (<see cref="DenoisingLangevinGibbs"/>).
/// As an <see cref="IDenoisingMethod"/> its denoiser also runs every catalog sampler (<c>--sampler edm</c>, …).
/// </summary>
public sealed class DmcmcMethod : IDenoisingMethod, ISamplingReport
{
    readonly DdpmMethod _edm;

    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public NoiseLevelClassifier Estimator { get; }
    public nn.Module Network { get; }
    public PreconditionedDenoiser Denoiser => _edm.Denoiser;
    public IReadOnlyList<string> SamplerNames { get; } = ["dlg", "edm"];
    public int FunctionEvaluations => 2 * Config.Dmcmc.GibbsSteps + 2 * Config.Dmcmc.HeunSteps - 1;
    public Device Device => Network.parameters().First().device;

    /// <summary>What the last DLG run cost (null before one, or after an <c>edm</c> run).</summary>
    public DlgCost? LastCost { get; private set; }

    public string? LastSampling => LastCost is { } c
        ? string.Create(CultureInfo.InvariantCulture,
            $"dlg: {c.Chains} chains × {c.SamplesPerChain} samples; NFE per sample {c.TotalPerSample:F2} = denoiser {c.DenoiserPerSample:F2} + estimator {c.EstimatorPerSample:F2}; mean hand-off σ {c.MeanStartSigma:G3}")
        : null;

    public DmcmcMethod(TrainConfig config, long[] itemShape)
    {
        Config = config;
        ItemShape = itemShape;
        _edm = new DdpmMethod(config with { Method = "edm" }, itemShape);
        var d = config.Dmcmc;
        d.Validate(config.Ddpm.SigmaMin, config.Ddpm.SigmaMax);
        if (Networks.IsImage(itemShape)) throw new UsageException("--method dmcmc: the noise-level estimator is an MLP for point data; images need a small CNN in its place (not built yet)");
        var levels = new GeometricSigmas(config.Ddpm.SigmaMax, d.LevelMin, d.Levels);
        levels.Validate();
        Estimator = new NoiseLevelClassifier(
            new NoiseLevelMlp((int)itemShape[0], d.Levels, d.EstimatorWidth, d.EstimatorDepth, config.Network.FourierFeatures), levels);
        Network = new DmcmcNetworks(_edm.Network, Estimator.Network);
    }

    /// <summary>EDM's σ_data from the data; the estimator's settings are checked before training starts.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        config.Dmcmc.Validate(config.Ddpm.SigmaMin, config.Ddpm.SigmaMax);
        return DdpmMethod.Resolve(config with { Method = "edm" }, data) with { Method = config.Method };
    }

    public Tensor Loss(Tensor batch, Generator gen) =>
        _edm.Loss(batch, gen) + NoiseLevelClassification.Loss(Estimator, batch, gen);

    public DlgSettings DlgSettingsFor(SamplerSettings? sampler)
    {
        var d = Config.Dmcmc;
        double Number(string key, double fallback) => sampler?.Option(key) is { } v
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{key}: not a number: '{v}'")
            : fallback;
        int Integer(string key, int fallback) => sampler?.Option(key) is { } v
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new UsageException($"--{key}: not an integer: '{v}'")
            : fallback;
        string update = sampler?.Option("sigma-update") ?? "mode", handOff = sampler?.Option("hand-off") ?? "lowest";
        if (update is not ("mode" or "draw")) throw new UsageException($"--sigma-update must be mode or draw (got '{update}')");
        if (handOff is not ("lowest" or "last")) throw new UsageException($"--hand-off must be lowest or last (got '{handOff}')");
        return new DlgSettings(Number("step-size", d.StepSize), Integer("gibbs-steps", d.GibbsSteps), sampler?.Steps ?? d.HeunSteps,
            Integer("burn-in", d.BurnIn), SigmaMin: Config.Ddpm.SigmaMin, SigmaMax: Config.Ddpm.SigmaMax,
            SampleSigma: update == "draw", HandOffLowest: handOff == "lowest");
    }

    static readonly string[] DlgOptions = ["step-size", "gibbs-steps", "burn-in", "chains", "sigma-update", "hand-off"];

    public Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        LastCost = null;
        string name = sampler?.Name ?? SamplerNames[0];
        if (!SamplerNames.Contains(name))
            throw new UsageException($"--sampler: this dmcmc model samples with: {string.Join(", ", SamplerNames)} or any catalog sampler (got '{name}')");
        if (name == "edm") return _edm.Sample(n, gen, noise, onStep, onFrame, (sampler ?? new SamplerSettings()) with { Name = "edm" });
        if (sampler?.Options?.Keys.FirstOrDefault(k => !DlgOptions.Contains(k)) is { } bad)
            throw new UsageException($"--{bad} does not apply to the dlg sampler (it takes: --steps, {string.Join(", ", DlgOptions.Select(o => "--" + o))})");
        if (noise is not null) throw new UsageException("--noise does not apply to the dlg sampler: its chains start themselves (from σ_max, then MCMC)");
        var settings = DlgSettingsFor(sampler);
        int chains = sampler?.Option("chains") is { } c
            ? int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? k : throw new UsageException($"--chains: not an integer: '{c}'")
            : Config.Dmcmc.Chains;
        if (chains < 1) throw new UsageException($"--chains must be ≥ 1 (got {chains})");
        chains = Math.Min(chains, n);
        int perChain = (n + chains - 1) / chains;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var dlg = new DenoisingLangevinGibbs(Denoiser, Estimator, settings);
        // progress on the scale of FunctionEvaluations (one sample's steady-state cost), as the CLI's display expects
        var (samples, cost) = dlg.Sample(chains, perChain, ItemShape, gen, float32, Device,
            onStep is null ? null : (done, total) => onStep((int)((long)done * FunctionEvaluations / Math.Max(1, total)), FunctionEvaluations));
        LastCost = cost;
        onFrame?.Invoke(samples);
        return samples[..n].cpu().MoveToOuterDisposeScope();
    }

    IScoreModel IDenoisingMethod.Denoiser => Denoiser;
    public SamplingProcess Process => _edm.Process;
    public Tensor ToData(Tensor x) => _edm.ToData(x);

    public void Dispose() => Network.Dispose();

    /// <summary>The two networks under one module, so the trainer, EMA and checkpoints see both (keys denoiser.*, estimator.*).</summary>
    sealed class DmcmcNetworks : nn.Module
    {
#pragma warning disable IDE0052 // registered by RegisterComponents
        readonly nn.Module denoiser, estimator;
#pragma warning restore IDE0052
        public DmcmcNetworks(nn.Module denoiser, nn.Module estimator) : base(nameof(DmcmcNetworks))
        {
            this.denoiser = denoiser;
            this.estimator = estimator;
            RegisterComponents();
        }
    }
}
