using System.Globalization;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.Dmcmc;

/// <summary>
/// Denoising MCMC (Kim &amp; Ye 2022): a denoiser and a noise-level estimator, sampled by denoising Langevin Gibbs with the
/// hand-off to EDM's Heun (<see cref="DenoisingLangevinGibbs"/>). The denoiser is either an EDM denoiser (Karras et al.
/// 2022; the <c>edm</c> method, unchanged) trained in the same run (loss = EDM loss + the estimator's cross-entropy; their
/// parameters are disjoint), or borrowed frozen from another run (<c>--denoiser RUN</c>, any <see cref="IDenoisingMethod"/>:
/// DDPM ε on its VP table, EDM, …; <see cref="BorrowedRun"/>), in which case only the estimator trains. The estimator is
/// <see cref="NoiseLevelCnn"/> for images, <see cref="NoiseLevelMlp"/> for points.
/// As an <see cref="IDenoisingMethod"/> its denoiser also runs every catalog sampler (<c>--sampler edm</c>, …).
/// </summary>
public sealed class DmcmcMethod : SingleNetworkMethod, IDenoisingMethod, ISamplingReport
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "dmcmc",
        Summary = "denoising MCMC (Kim & Ye 2022): an EDM denoiser (trained here or borrowed) + a noise-level estimator, denoising Langevin Gibbs",
        MethodType = typeof(DmcmcMethod),
        ConfigType = typeof(DmcmcConfig),
        DefaultConfig = () => new DmcmcConfig(),
        Recipe = data => DiffusionMethod.ToyRecipe(new DmcmcConfig(), data),
        Options =
        [
            MethodOption.For<DmcmcConfig>("denoiser", "RUN", "borrow RUN's trained denoiser (ddpm, edm, sde, ncsn; its latest checkpoint, EMA weights), frozen, and train only the noise-level estimator",
                "dmcmc.denoiser", (s, v) => s with { Denoiser = new ComponentReference(v) }),
            MethodOption.For<DmcmcConfig>("sigma-data", "X", "the EDM denoiser's σ_data (default: the data's standard deviation)", "edm.sigma_data",
                (s, v) => s with { Edm = s.Edm with { SigmaData = MethodOption.Number(v, "edm.sigma_data") } }),
        ],
        Resolve = (c, data, _) => Resolve(c, data),
        Create = (c, shape) => new DmcmcMethod(c, shape),
        FromLegacy = root =>
        {
            var settings = LegacyConfig.Section(root, "dmcmc");
            if (settings["denoiser"]?.GetValue<string>() is { } run)
                settings["denoiser"] = new System.Text.Json.Nodes.JsonObject { ["run"] = run, ["step"] = settings["denoiser_step"]?.DeepClone(), ["digest"] = settings["denoiser_digest"]?.DeepClone() };
            settings.Remove("denoiser_step");
            settings.Remove("denoiser_digest");
            settings["edm"] = EdmMethod.Legacy(root);
            return settings;
        },
    };

    /// <summary>What a borrowed denoiser must be: a denoiser, and not itself a dmcmc run.</summary>
    public static string? NotADenoiser(Checkpoint ckpt) =>
        ckpt.Config.Method == "dmcmc" ? "a dmcmc run; give the run its denoiser was trained in"
        : !MethodRegistry.Get(ckpt.Config.Method).Has<IDenoisingMethod>() ? $"a {ckpt.Config.Method} run, not a denoiser (ddpm, edm, sde or ncsn)"
        : MethodRegistry.Get(ckpt.Config.Method).Has<IPriorStartedMethod>() ? $"a {ckpt.Config.Method} run, whose denoiser knows only its truncated chain (ddpm, edm, sde or ncsn)"
        : null;

    readonly DmcmcConfig _d;
    readonly EdmMethod? _edm;                  // the EDM denoiser trained in this run
    readonly IDenoisingMethod? _borrowed;      // or a frozen one from --denoiser RUN

    public NoiseLevelClassifier Estimator { get; }
    /// <summary>What the trainer optimises and checkpoints: denoiser.* and estimator.*, or estimator.* alone with a borrowed denoiser.</summary>
    public override nn.Module Network { get; }
    public IScoreModel Denoiser { get; }
    public bool BorrowsDenoiser => _borrowed is not null;
    public override IReadOnlyList<string> SamplerNames { get; } = ["dlg", "edm"];
    public override int FunctionEvaluations => 2 * _d.GibbsSteps + 2 * _d.HeunSteps - 1;

    /// <summary>The trained network, and a borrowed denoiser's components (frozen: not trained, not checkpointed) as <c>denoiser</c>.</summary>
    public override IReadOnlyList<Component> Components => _components ??= _borrowed is null
        ? base.Components
        : [.. base.Components, .. _borrowed.Components.Select(c => c with { Name = _borrowed.Components.Count == 1 ? "denoiser" : "denoiser." + c.Name, Trainable = false })];
    IReadOnlyList<Component>? _components;

    /// <summary>What the last DLG run cost (null before one, or after an <c>edm</c> run).</summary>
    public DlgCost? LastCost { get; private set; }

    public string? LastSampling => LastCost is { } c
        ? string.Create(CultureInfo.InvariantCulture,
            $"dlg: {c.Chains} chains × {c.SamplesPerChain} samples; NFE per sample {c.TotalPerSample:F2} = denoiser {c.DenoiserPerSample:F2} + estimator {c.EstimatorPerSample:F2}; mean hand-off σ {c.MeanStartSigma:G3}")
        : null;

    public DmcmcMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var d = _d = config.SettingsAs<DmcmcConfig>();
        d.Validate();
        var levels = new GeometricSigmas(d.Edm.SigmaMax, d.LevelMin, d.Levels);
        levels.Validate();
        nn.Module<Tensor, Tensor> estimator = Networks.IsImage(itemShape)
            ? new NoiseLevelCnn(itemShape, d.Levels, d.EstimatorChannels, d.EstimatorWidth)
            : new NoiseLevelMlp((int)itemShape[0], d.Levels, d.EstimatorWidth, d.EstimatorDepth, config.Network.FourierFeatures);
        Estimator = new NoiseLevelClassifier(estimator, levels);
        if (d.Denoiser is { } reference)
        {
            if (!reference.IsResolved)
                throw new SettingException("dmcmc.denoiser", reference.Run, "is not resolved (its checkpoint step and digest are set when training starts)");
            var borrowed = BorrowedRun.Open(reference, itemShape, "dmcmc", NotADenoiser);
            _borrowed = borrowed as IDenoisingMethod ?? throw new DataException($"{reference.Run}: not a denoiser");
            Denoiser = _borrowed.Denoiser;
            Network = new EstimatorNetwork(estimator);
        }
        else
        {
            _edm = new EdmMethod(config, d.Edm, itemShape);
            Denoiser = _edm.Denoiser;
            Network = new DmcmcNetworks(_edm.Network, estimator);
        }
    }

    /// <summary>
    /// Before training: the estimator's settings are checked; a borrowed denoiser's run is pinned to its latest checkpoint
    /// (step and digest recorded), else EDM's σ_data comes from the data.
    /// </summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        var d = config.SettingsAs<DmcmcConfig>();
        d.Validate();
        if (d.Denoiser is { } given)
            return config with { Settings = d with { Denoiser = BorrowedRun.Resolve("dmcmc.denoiser", given.Run, data.shape[1..], NotADenoiser) } };
        return config with { Settings = d with { Edm = EdmMethod.Resolved(d.Edm, config.Data, data) } };
    }

    /// <summary>The estimator's cross-entropy, plus EDM's loss when the denoiser trains here.</summary>
    public override Tensor Loss(Batch batch, Generator gen) => _edm is null
        ? NoiseLevelClassification.Loss(Estimator, batch.X, gen)
        : _edm.Loss(batch, gen) + NoiseLevelClassification.Loss(Estimator, batch.X, gen);

    /// <summary>DLG's settings: the run's, with the sampler's options (<see cref="MethodSamplers.Dlg"/>) over them.</summary>
    public DlgSettings DlgSettingsFor(SamplerSettings? sampler) => DlgSettingsFor(MethodSamplers.Dlg.Read(sampler?.Steps, sampler?.Options));

    DlgSettings DlgSettingsFor(SamplerRequest r) => new(r.GetOr(MethodSamplers.DlgStepSize, _d.StepSize), r.GetOr(MethodSamplers.GibbsSteps, _d.GibbsSteps),
        r.Steps ?? _d.HeunSteps, r.GetOr(MethodSamplers.BurnIn, _d.BurnIn), r.Get(MethodSamplers.InitSteps), r.Get(MethodSamplers.InitNoise),
        SigmaMin: _d.Edm.SigmaMin, SigmaMax: _d.Edm.SigmaMax,
        SampleSigma: r.Get(MethodSamplers.SigmaUpdate) == "draw", HandOffLowest: r.Get(MethodSamplers.HandOff) == "lowest");

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        LastCost = null;
        string name = sampler?.Name ?? SamplerNames[0];
        if (!SamplerNames.Contains(name))
            throw SamplingRefusals.Sampler("this dmcmc model", $"{string.Join(", ", SamplerNames)} or any catalog sampler", name);
        if (name == "edm") return SampleEdm(n, gen, noise, onStep, onFrame, sampler);
        var r = MethodSamplers.Dlg.Read(sampler?.Steps, sampler?.Options);
        if (noise is not null) throw SettingException.Sentence("noise", null, "does not apply to the dlg sampler: its chains start themselves (from σ_max, then MCMC)");
        var settings = DlgSettingsFor(r);
        int chains = Math.Min(r.GetOr(MethodSamplers.Chains, _d.Chains), n);
        int perChain = (n + chains - 1) / chains;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        this.Eval();
        var dlg = new DenoisingLangevinGibbs(Denoiser, Estimator, settings);
        // progress on the scale of FunctionEvaluations (one sample's steady-state cost), as the CLI's display expects
        var (samples, cost) = dlg.Sample(chains, perChain, ItemShape, gen, float32, Device,
            onStep is null ? null : (done, total) => onStep((int)((long)done * FunctionEvaluations / Math.Max(1, total)), FunctionEvaluations));
        LastCost = cost;
        onFrame?.Invoke(samples);
        return ToData(samples[..n]).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>EDM's Heun from σ_max on the denoiser (Karras et al. 2022, Alg. 1): the baseline DLG is measured against.</summary>
    Tensor SampleEdm(int n, Generator gen, Tensor? noise, Action<int, int>? onStep, Action<Tensor>? onFrame, SamplerSettings? sampler)
    {
        if (_edm is not null) return _edm.Sample(n, gen, noise, onStep, onFrame, (sampler ?? new SamplerSettings()) with { Name = "edm" });
        if (sampler?.Options is { Count: > 0 } options)
            throw SettingException.About(SamplerOption.SettingOf(options.First().Key), options.First().Value, "the edm sampler of a dmcmc run takes no such option here (langevin sample passes catalog options itself)");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var z = noise?.to(float32).to(Device) ?? randn([n, .. ItemShape], generator: gen, device: Device);
        var result = SamplerCatalog.Run(Denoiser, z, new SamplerRequest { Sampler = "edm", Steps = sampler?.Steps }, Process, gen, onStep);
        return ToData(result.Output).cpu().MoveToOuterDisposeScope();
    }

    public SamplingProcess Process => _borrowed?.Process ?? _edm!.Process;
    public Tensor ToData(Tensor x) => _borrowed?.ToData(x) ?? _edm!.ToData(x);

    public override void Dispose()
    {
        base.Dispose();
        _borrowed?.Dispose();
    }

    /// <summary>The estimator alone under one module (keys estimator.*): what trains when the denoiser is borrowed.</summary>
    sealed class EstimatorNetwork : nn.Module
    {
#pragma warning disable IDE0052 // registered by RegisterComponents
        readonly nn.Module estimator;
#pragma warning restore IDE0052
        public EstimatorNetwork(nn.Module estimator) : base(nameof(EstimatorNetwork))
        {
            this.estimator = estimator;
            RegisterComponents();
        }
    }

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
