using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// NCSN (Song &amp; Ermon 2019) with NCSNv2's techniques (Song &amp; Ermon 2020): a noise-conditional score network
/// trained by denoising score matching over geometric σ's, sampled by annealed Langevin dynamics.
/// </summary>
public sealed class NcsnMethod : SingleNetworkMethod, IDenoisingMethod, IInpaintingMethod, IItemSlicedDraws
{
    readonly DenoisingScoreMatching _objective;

    public override nn.Module Network => ScoreModel.Network;
    public NoiseConditionalScoreModel ScoreModel { get; }
    public GeometricSigmas Sigmas { get; }
    public AnnealedLangevinSampler Sampler { get; }
    public override int FunctionEvaluations => Sampler.FunctionEvaluations;

    /// <summary>Builds from a config whose NCSN settings are all resolved (see <see cref="Resolve"/>).</summary>
    public static readonly MethodRegistration Registration = new()
    {
        Name = "ncsn",
        Summary = "NCSN / NCSNv2: a noise-conditional score network over geometric σ's, annealed Langevin dynamics",
        MethodType = typeof(NcsnMethod),
        ConfigType = typeof(NcsnConfig),
        DefaultConfig = () => new NcsnConfig(),
        Options =
        [
            MethodOption.For<NcsnConfig>("sigma-max", "X", "largest noise level (default: NCSNv2 Technique 1)", "ncsn.sigma_max", (s, v) => s with { SigmaMax = MethodOption.Number(v, "ncsn.sigma_max") }),
            MethodOption.For<NcsnConfig>("sigma-min", "X", "smallest noise level (default 0.01)", "ncsn.sigma_min", (s, v) => s with { SigmaMin = MethodOption.Number(v, "ncsn.sigma_min") }),
            MethodOption.For<NcsnConfig>("levels", "N", "number of noise levels (default: NCSNv2 Technique 2)", "ncsn.levels", (s, v) => s with { Levels = MethodOption.Integer(v, "ncsn.levels") }),
            MethodOption.For<NcsnConfig>("steps-per-level", "T", "annealed Langevin steps per level (default 5)", "ncsn.steps_per_level", (s, v) => s with { StepsPerLevel = MethodOption.Integer(v, "ncsn.steps_per_level") }),
            MethodOption.For<NcsnConfig>("step-size", "EPS", "annealed Langevin ε (default: NCSNv2 Technique 4)", "ncsn.step_size", (s, v) => s with { StepSize = MethodOption.Number(v, "ncsn.step_size") }),
            MethodOption.For<NcsnConfig>("no-final-denoise", null, "skip NCSNv2's final denoising step", "ncsn.final_denoise", (s, v) => s with { FinalDenoise = !MethodOption.Flag(v, "ncsn.final_denoise") }),
        ],
        Resolve = Resolve,
        Create = (c, shape) => new NcsnMethod(c, shape),
        FromLegacy = root => LegacyConfig.Section(root, "ncsn"),
    };

    /// <summary>
    /// The demo's recipe (<c>langevin demo</c>): NCSN on the checkerboard, 8,000 steps of batch 512, Adam 2e-3 with 100 warm-up
    /// steps, EMA 0.995 — 99.2% of samples on the squares.
    /// </summary>
    public static TrainConfig CheckerboardDemo => new()
    {
        Data = "checkerboard",
        Steps = 8000,
        BatchSize = 512,
        LearningRate = 2e-3,
        WarmupSteps = 100,
        EmaDecay = 0.995,
        CheckpointEvery = 1000,
        SampleEvery = 0,
        // Fourier features let the small MLP draw the squares' sharp edges (on-support 91% → 99% at equal cost);
        // σ_min = 0.1 with the final denoising step puts the samples on the squares (the exact score reaches 100%
        // there), and 20 levels × 50 steps replace Technique 2's 9 levels, a rule made for high dimension.
        Network = new NetworkConfig { Kind = "mlp", Width = 256, Depth = 3, FourierFeatures = 6 },
        Settings = new NcsnConfig { SigmaMin = 0.1, Levels = 20, StepsPerLevel = 50 },
    };

    public NcsnMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var n = config.SettingsAs<NcsnConfig>();
        if (n.SigmaMax is null || n.Levels is null || n.StepSize is null)
            throw new InvalidOperationException("NCSN settings must be resolved before building the method");
        Sigmas = new GeometricSigmas(n.SigmaMax.Value, n.SigmaMin, n.Levels.Value);
        Sigmas.Validate();
        Sampler = new AnnealedLangevinSampler(Sigmas, n.StepsPerLevel, n.StepSize.Value, n.FinalDenoise);
        ScoreModel = new NoiseConditionalScoreModel(Networks.Create(config.Network, itemShape));
        _objective = new DenoisingScoreMatching(Sigmas);
    }

    /// <summary>
    /// Fills unset NCSN settings with NCSNv2's techniques: σ_max from the largest pairwise distance (Technique 1),
    /// the number of levels from the dimension (Technique 2), and ε from T (Technique 4).
    /// </summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen)
    {
        var n = config.SettingsAs<NcsnConfig>();
        long dim = data[0].numel();
        double sigmaMax = n.SigmaMax ?? NcsnV2Techniques.SigmaMax(data, gen);
        if (!(sigmaMax > n.SigmaMin)) throw new DataException($"{config.Data}: the data's largest pairwise distance ({sigmaMax:G4}) is not above the smallest noise level σ_min = {n.SigmaMin}; is the dataset constant?");
        int levels = n.Levels ?? NcsnV2Techniques.Levels(sigmaMax, n.SigmaMin, dim);
        var sigmas = new GeometricSigmas(sigmaMax, n.SigmaMin, levels);
        double eps = n.StepSize ?? NcsnV2Techniques.StepSize(sigmas, n.StepsPerLevel);
        return config with { Settings = n with { SigmaMax = sigmaMax, Levels = levels, StepSize = eps } };
    }

    public override Tensor Loss(Batch batch, Generator gen) => _objective.Loss(ScoreModel, batch.X, gen);

    public override IReadOnlyList<string> SamplerNames { get; } = ["ald"];

    public IScoreModel Denoiser => ScoreModel;

    /// <summary>The VE process over the trained σ range, so the diffusion samplers can run on an NCSN too.</summary>
    public SamplingProcess Process => new(SamplingProcess.Ve, SigmaMin: Sigmas.SigmaMin, SigmaMax: Sigmas.SigmaMax);

    public Tensor ToData(Tensor x) => x.alias();

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "ald")
            throw SamplingRefusals.Sampler("an NCSN model", "ald", name);
        if (sampler?.Steps is not null || sampler?.Options?.Count > 0)     // kept by hand: it says what to do instead
            throw new UsageException("sample: NCSN's own ald sampler uses the trained σ's, T and ε and takes no steps or options; to change them sample with another sampler, e.g. heun with 50 steps");
        MethodSamplers.Ald.Read(null, null);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var init = StartNoise(n, noise, gen) * Sigmas.SigmaMax;   // x ~ N(0, σ₁² I): the prior of the widest level
        onFrame?.Invoke(init);
        return Sampler.Sample(ScoreModel, init, gen, onStep: onStep, onLevel: onFrame).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Fills the pixels where <paramref name="mask"/> is 0 given the rest of <paramref name="observed"/>.</summary>
    public Tensor Inpaint(Tensor observed, Tensor mask, Generator gen, Action<int, int>? onStep = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var device = Device;
        var init = randn(observed.shape, generator: gen, device: device) * Sigmas.SigmaMax;
        return Sampler.Inpaint(ScoreModel, observed.to(device), mask.to(device), init, gen, onStep).cpu().MoveToOuterDisposeScope();
    }

}

/// <summary>
/// NCSN / NCSNv2 settings. Null values are filled by NCSNv2's techniques when training starts and the resolved
/// values are written back into config.json, so sampling uses exactly what training used.
/// </summary>
public sealed record NcsnConfig : MethodConfig
{
    public double? SigmaMax { get; init; }
    public double SigmaMin { get; init; } = 0.01;
    public int? Levels { get; init; }
    public int StepsPerLevel { get; init; } = 5;
    public double? StepSize { get; init; }
    public bool FinalDenoise { get; init; } = true;

    public override void Validate()
    {
        if (!(SigmaMin > 0)) throw new SettingException("ncsn.sigma_min", SigmaMin, "must be > 0");
        if (SigmaMax is { } max && !(max > SigmaMin)) throw new SettingException("ncsn.sigma_max", max, $"must be > the smallest noise level ({SigmaMin})");
        if (Levels is < 2 or > 100_000) throw new SettingException("ncsn.levels", Levels, "must be in 2..100000");
        if (StepsPerLevel < 1) throw new SettingException("ncsn.steps_per_level", StepsPerLevel, "must be ≥ 1");
        if (StepSize is { } eps && !(eps > 0)) throw new SettingException("ncsn.step_size", eps, "must be > 0");
    }
}
