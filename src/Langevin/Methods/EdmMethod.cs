using Langevin.Models;
using Langevin.Objectives;
using Langevin.Samplers;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// EDM (Karras et al. 2022): the preconditioning and loss of Table 1 (ln σ ~ N(P_mean, P_std²), λ = 1/c_out²), sampled by
/// EDM's deterministic Heun (Alg. 1, S_churn = 0) on Karras σ's. σ_data is the data's standard deviation unless given.
/// </summary>
public sealed class EdmMethod : DiffusionMethod
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "edm",
        Summary = "EDM: Karras et al.'s preconditioning and loss, Heun's sampler on Karras σ's",
        MethodType = typeof(EdmMethod),
        ConfigType = typeof(EdmConfig),
        DefaultConfig = () => new EdmConfig(),
        Recipe = data => ToyRecipe(new EdmConfig(), data),
        Options = Options("edm"),
        Resolve = (c, data, _) => c with { Settings = Resolved(c.SettingsAs<EdmConfig>(), c.Data, data) },
        Create = (c, shape) => new EdmMethod(c, shape),
        FromLegacy = root => Legacy(root),
    };

    /// <summary>The EDM options (also those of a method that trains an EDM denoiser inside, e.g. dmcmc, under its name).</summary>
    public static IReadOnlyList<MethodOption> Options(string method) =>
    [
        MethodOption.For<EdmConfig>("sigma-data", "X", "σ_data (default: the data's standard deviation)", $"{method}.sigma_data", (s, v) => s with { SigmaData = MethodOption.Number(v, $"{method}.sigma_data") }),
        SampleStepsOption<EdmConfig>(method, "Heun, default 18", (s, v) => s with { SampleSteps = v }),
    ];

    /// <summary>The EDM fields of a config of the one-network era (they lived in its "ddpm" section).</summary>
    public static System.Text.Json.Nodes.JsonObject Legacy(System.Text.Json.Nodes.JsonObject root) =>
        LegacyConfig.Pick(root, "ddpm", "sigma_data", "p_mean", "p_std", "sigma_min", "sigma_max", "sample_steps");

    readonly EdmConfig _e;

    public override IReadOnlyList<string> SamplerNames { get; } = ["edm"];
    public override int DefaultSampleSteps => _e.SampleSteps ?? 18;

    public EdmMethod(TrainConfig config, long[] itemShape) : this(config, config.SettingsAs<EdmConfig>(), itemShape) { }

    /// <summary>An EDM denoiser with these settings inside another method's run (dmcmc).</summary>
    public EdmMethod(TrainConfig config, EdmConfig settings, long[] itemShape) : base(config, itemShape)
    {
        _e = settings;
        _e.Validate();
        var network = Networks.Create(config.Network, itemShape);
        double sigmaData = _e.SigmaData ?? throw new InvalidOperationException("EDM's σ_data must be resolved before building the method");
        Denoiser = new PreconditionedDenoiser(network, new EdmPreconditioning(sigmaData));
        Objective = new EdmLoss(sigmaData, _e.PMean, _e.PStd);
        (SigmaMin, SigmaMax) = (_e.SigmaMin, _e.SigmaMax);
    }

    /// <summary>σ_data defaults to the standard deviation of the training data (over all values).</summary>
    public static EdmConfig Resolved(EdmConfig e, string spec, Tensor data)
    {
        e.Validate();
        if (e.SigmaData is not null) return e;
        double sd = data.std().to(float64).item<double>();
        if (!(sd > 0) || !double.IsFinite(sd)) throw new DataException($"{spec}: the data's standard deviation is {sd}; is the dataset constant?");
        return e with { SigmaData = sd };
    }

    public override double[] SigmasFor(int steps) => SamplingSigmas.Karras(steps, SigmaMin, SigmaMax);

    /// <summary>Karras et al. 2022, Alg. 1 (S_churn = 0).</summary>
    protected override Tensor RunSampler(Tensor x, double[] sigmas, Action<int, int>? onStep) => DiffusionSamplers.Heun(Denoiser, x, sigmas, onStep);

    protected override int Evaluations(int steps) => DiffusionSamplers.HeunEvaluations(SigmasFor(steps));
}

/// <summary>EDM's settings (Karras et al. 2022, Table 1); <see cref="SigmaData"/> is filled from the data when training starts.</summary>
public sealed record EdmConfig : MethodConfig
{
    /// <summary>σ_data of the preconditioning and loss weight (default: the data's standard deviation).</summary>
    public double? SigmaData { get; init; }
    /// <summary>Mean and standard deviation of ln σ during training.</summary>
    public double PMean { get; init; } = -1.2;
    public double PStd { get; init; } = 1.2;
    /// <summary>The σ range of sampling (Table 1: 0.002 … 80).</summary>
    public double SigmaMin { get; init; } = 0.002;
    public double SigmaMax { get; init; } = 80;
    /// <summary>Heun steps for previews and `langevin sample` without --steps (default 18).</summary>
    public int? SampleSteps { get; init; }

    public override void Validate()
    {
        if (SigmaData is { } sd && !(sd > 0 && double.IsFinite(sd))) throw new SettingException("edm.sigma_data", sd, "must be > 0");
        if (!(PStd > 0)) throw new SettingException("edm.p_std", PStd, "must be > 0");
        if (!double.IsFinite(PMean)) throw new SettingException("edm.p_mean", PMean, "must be finite");
        if (!(SigmaMin > 0)) throw new SettingException("edm.sigma_min", SigmaMin, "must be > 0");
        if (!(SigmaMax > SigmaMin) || !double.IsFinite(SigmaMax)) throw new SettingException("edm.sigma_max", SigmaMax, $"must be finite and > σ_min ({SigmaMin})");
        if (SampleSteps is < 1) throw new SettingException("edm.sample_steps", SampleSteps, "must be ≥ 1");
    }
}
