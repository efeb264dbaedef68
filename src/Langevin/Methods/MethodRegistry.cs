using System.Globalization;
using System.Text.Json.Serialization.Metadata;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Cld;
using Langevin.Energy;
using Langevin.WalkJump;
using Langevin.Dmcmc;

namespace Langevin.Methods;

/// <summary>
/// The settings of one method: a record of its own (NCSN's σ's, an EBM's SGLD, …) that config.json holds under
/// <c>"settings"</c> with the method's name as its type discriminator (<c>{"method": "ncsn", …}</c>).
/// </summary>
public abstract record MethodConfig
{
    /// <summary>Checks every value; a bad one is a <see cref="SettingException"/> naming the setting.</summary>
    public virtual void Validate() { }
}

/// <summary>
/// An option a method (or the trainer) takes: its name as front ends spell it (<c>sgld-step</c>; the CLI adds the dashes),
/// the value it takes (null for a flag, which gets "true" or "false"), its help, the setting it sets
/// (<c>ebm.sgld_step_size</c>, the name errors use) and how it sets it from text.
/// </summary>
public sealed record MethodOption(string Name, string? Value, string Help, string Setting, Func<TrainConfig, string, TrainConfig> Apply)
{
    public static double Number(string text, string setting) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new SettingException(setting, text, "must be a number");

    public static int Integer(string text, string setting) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new SettingException(setting, text, "must be an integer");

    /// <summary>An option that sets a field of method config <typeparamref name="T"/> from its text.</summary>
    public static MethodOption For<T>(string name, string? value, string help, string setting, Func<T, string, T> apply) where T : MethodConfig =>
        new(name, value, help, setting, (c, text) => c with { Settings = apply(c.SettingsAs<T>(), text) });

    public static bool Flag(string text, string setting) => text switch
    {
        "true" => true,
        "false" => false,
        _ => throw new SettingException(setting, text, "must be true or false"),
    };
}

/// <summary>
/// What the library knows of a method: its name and summary, its config record (default, and the defaults per kind of
/// data: its recipes), its options, how its automatic settings are resolved from the data, how it is built, and — from
/// the interfaces its type implements — its capabilities. <c>langevin train --method NAME</c> asks
/// <see cref="MethodRegistry"/>; nothing outside a method's own files switches on its name.
/// </summary>
public sealed record MethodRegistration
{
    public required string Name { get; init; }
    public required string Summary { get; init; }
    /// <summary>The type the method is built as (its capabilities are the interfaces it implements).</summary>
    public required Type MethodType { get; init; }
    public required Type ConfigType { get; init; }
    /// <summary>The method's config record with its defaults.</summary>
    public required Func<MethodConfig> DefaultConfig { get; init; }
    /// <summary>The starting config of a new run on a data spec (the method's recipe for that kind of data).</summary>
    public Func<string, TrainConfig>? Recipe { get; init; }
    public IReadOnlyList<MethodOption> Options { get; init; } = [];
    /// <summary>Fills the automatic settings from the training data (before training; the result goes into config.json).</summary>
    public Func<TrainConfig, Tensor, Generator, TrainConfig> Resolve { get; init; } = (c, _, _) => c;
    public required Func<TrainConfig, long[], IGenerativeMethod> Create { get; init; }
    /// <summary>Why --bf16 cannot train this method (null: it can).</summary>
    public string? Bf16Refusal { get; init; }
    /// <summary>Its settings from a config of the one-network era (a top-level "method" and a section per method; see <see cref="LegacyConfig"/>).</summary>
    public Func<System.Text.Json.Nodes.JsonObject, System.Text.Json.Nodes.JsonObject>? FromLegacy { get; init; }

    /// <summary>A new run's config: the recipe for the data, or the general defaults with this method's default settings.</summary>
    public TrainConfig StartingConfig(string data) => (Recipe?.Invoke(data) ?? new TrainConfig { Settings = DefaultConfig() }) with { Data = data };

    public bool Has<TCapability>() => typeof(TCapability).IsAssignableFrom(MethodType);

    /// <summary>The capabilities a user can rely on, in words (for --help): what else than training and sampling works on such a run.</summary>
    public IEnumerable<string> Capabilities()
    {
        if (Has<IPriorStartedMethod>()) yield return "a denoiser on a truncated chain started by a learned prior: the catalog samplers whose plan starts at the truncation σ, interpolate";
        else if (Has<IDenoisingMethod>()) yield return "a denoiser: every catalog sampler (--sampler ddim, heun, dpmpp-2m, …), inpaint, interpolate, likelihood, compare";
        if (Has<IEnergyMethod>()) yield return "an energy: --compose, ood, inpaint by energy descent";
        if (Has<ILikelihoodBoundMethod>()) yield return "a likelihood bound (likelihood)";
        if (Has<IInpaintingMethod>()) yield return "its own inpainting sampler (inpaint)";
    }
}

/// <summary>A method with its own inpainting sampler (NCSN: annealed Langevin with the known pixels noised to each level).</summary>
public interface IInpaintingMethod : IGenerativeMethod
{
    /// <summary>Fills the pixels where <paramref name="mask"/> is 0 given the rest of <paramref name="observed"/>.</summary>
    Tensor Inpaint(Tensor observed, Tensor mask, Generator gen, Action<int, int>? onStep = null);
}

/// <summary>
/// A method whose model gives a bound on log p(x) of its own rather than a σ-frame denoiser's probability flow (CLD: the joint
/// (x, v) flow with the velocity's entropy, Dockhorn et al. 2022, §3.3); <c>langevin likelihood</c> scores such runs with it.
/// </summary>
public interface ILikelihoodBoundMethod : IGenerativeMethod
{
    /// <summary>The smallest time of the flow when none is given (the run's training t_min).</summary>
    double DefaultMinTime { get; }

    /// <summary>The bound for each item of <paramref name="x"/>, by an ODE from <paramref name="minTime"/> with the given divergence estimator and tolerances.</summary>
    Cld.CldProbabilityFlowLikelihood.Bound LogDensityBound(Tensor x, double minTime, Likelihood.TraceEstimator estimator, int probes,
        double rtol, double atol, Generator gen, Action<int>? onEvaluation);

    /// <summary>The entropy term of the bound for items of <paramref name="dims"/> dimensions (nats).</summary>
    double BoundEntropy(long dims);
}

/// <summary>Every method <c>langevin train --method NAME</c> knows; a new method adds its registration here, once.</summary>
public static class MethodRegistry
{
    public static readonly IReadOnlyList<MethodRegistration> All =
    [
        NcsnMethod.Registration, DdpmMethod.Registration, EdmMethod.Registration, SdeMethod.Registration, EbmMethod.Registration,
        CldMethod.Registration, WalkJumpMethod.Registration, AdversarialEbmMethod.Registration, DmcmcMethod.Registration,
        Adversarial.GanMethod.Registration, Adversarial.DdganMethod.Registration, Adversarial.TdpmMethod.Registration, Guidance.NoisyClassifierMethod.Registration,
    ];

    public static IEnumerable<string> Names => All.Select(r => r.Name);

    public static MethodRegistration? Find(string name) => All.FirstOrDefault(r => r.Name == name);

    public static MethodRegistration Get(string name) => Find(name)
        ?? throw new SettingException("method", name, $"is not a known method; known: {string.Join(", ", Names)}");

    public static MethodRegistration Of(MethodConfig settings) => All.FirstOrDefault(r => r.ConfigType == settings.GetType())
        ?? throw new ArgumentException($"no method is registered for settings of type {settings.GetType().Name}");

    /// <summary>Resolves automatic settings from the data (before training) and returns the final config.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen) => Get(config.Method).Resolve(config, data, gen);

    /// <summary>Builds a method from a resolved config (training start, resume, or a checkpoint).</summary>
    public static IGenerativeMethod Create(TrainConfig config, long[] itemShape) => Get(config.Method).Create(config, itemShape);

    /// <summary>The JSON contract of <see cref="MethodConfig"/>: each registered config type under its method's name.</summary>
    internal static void AddConfigTypes(JsonTypeInfo info)
    {
        if (info.Type != typeof(MethodConfig)) return;
        info.PolymorphismOptions = new JsonPolymorphismOptions
        {
            TypeDiscriminatorPropertyName = "method",
            UnknownDerivedTypeHandling = System.Text.Json.Serialization.JsonUnknownDerivedTypeHandling.FailSerialization,
        };
        foreach (var r in All) info.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(r.ConfigType, r.Name));
    }
}
