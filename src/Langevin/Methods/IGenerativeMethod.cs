using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// A trainable generative method as the trainer and the CLI see it: named components (its networks), a training step that
/// drives them through <see cref="ITrainingContext.Optimize"/>, optional stages and method state, and a sampler. A
/// single-network method derives from <see cref="SingleNetworkMethod"/> and gives a loss; a GAN declares "gen" and "disc"
/// and optimises one after the other in its step.
/// </summary>
public interface IGenerativeMethod : IDisposable
{
    /// <summary>The configuration with every automatic setting resolved (what config.json records).</summary>
    TrainConfig Config { get; }

    /// <summary>Shape of one data item, e.g. [2] or [1, 28, 28].</summary>
    long[] ItemShape { get; }

    /// <summary>The networks, by name; the trainer optimises, averages and checkpoints each trainable one separately.</summary>
    IReadOnlyList<Component> Components { get; }

    /// <summary>The phases of training (empty: one stage, every trainable component, all --steps).</summary>
    IReadOnlyList<TrainingStage> Stages { get; }

    /// <summary>What the method carries between steps besides weights (saved in checkpoints; empty for most methods).</summary>
    MethodState State { get; }

    /// <summary>Whether the training batches must carry class labels (a class-conditional model, a classifier).</summary>
    bool NeedsLabels { get; }

    /// <summary>One training step on a batch: compute losses and hand each to <see cref="ITrainingContext.Optimize"/>.
    /// Randomness comes from <see cref="ITrainingContext.Generator"/> (reseeded by the trainer every step).</summary>
    void Step(ITrainingContext context, Batch batch);

    /// <summary>Network evaluations one sample costs.</summary>
    int FunctionEvaluations { get; }

    /// <summary>Network evaluations one sample costs with these sampler settings (a method whose cost depends on --steps overrides it).</summary>
    int FunctionEvaluationsWith(SamplerSettings? settings);

    /// <summary>
    /// Draws samples in data space ([n, ...ItemShape], returned on the CPU). <paramref name="noise"/>, if given, is the unit Gaussian
    /// noise that starts the chain, shape [n, ...ItemShape]; the sampler scales it by its initial σ.
    /// <paramref name="onStep"/> reports (done, total) network evaluations; <paramref name="onFrame"/> receives
    /// intermediate states (in data space) for a trajectory picture.
    /// </summary>
    Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null);

    /// <summary>The samplers <c>langevin sample --sampler NAME</c> accepts for this method; the first is the default.</summary>
    IReadOnlyList<string> SamplerNames { get; }
}

/// <summary>
/// The default adapter of the training core for the methods that train one network by one loss (NCSN, DDPM/EDM/SDE, the
/// EBMs, CLD, walk-jump, denoising MCMC): one component named <see cref="Component.Default"/> and a step that optimises
/// <see cref="Loss"/> — the same numbers as the one-loss trainer this core replaced.
/// </summary>
public abstract class SingleNetworkMethod(TrainConfig config, long[] itemShape) : IGenerativeMethod
{
    IReadOnlyList<Component>? _components;

    public TrainConfig Config { get; } = config;
    public long[] ItemShape { get; } = itemShape;

    /// <summary>The one network the trainer optimises.</summary>
    public abstract nn.Module Network { get; }

    public virtual IReadOnlyList<Component> Components => _components ??= [new Component(Component.Default, Network)];
    public virtual IReadOnlyList<TrainingStage> Stages => [];
    public MethodState State { get; } = new();
    public virtual bool NeedsLabels => false;

    /// <summary>Where the network lives; samples are drawn there (the generator must be on the same device).</summary>
    public Device Device => Network.parameters().First().device;

    /// <summary>The unit Gaussian noise [n, …ItemShape] that starts a sampler on <see cref="Device"/>: the caller's (checked), else drawn.</summary>
    protected Tensor StartNoise(int n, Tensor? noise, Generator gen)
    {
        long[] shape = [n, .. ItemShape];
        if (noise is null) return randn(shape, generator: gen, device: Device);
        if (!noise.shape.SequenceEqual(shape)) throw Samplers.SamplingRefusals.NoiseShape(noise.shape, shape);
        return noise.to(float32).to(Device);
    }

    /// <summary>The scalar training loss on a batch.</summary>
    public abstract Tensor Loss(Batch batch, Generator gen);

    public virtual void Step(ITrainingContext context, Batch batch) => context.Optimize(Component.Default, Loss(batch, context.Generator));

    public abstract int FunctionEvaluations { get; }
    public virtual int FunctionEvaluationsWith(SamplerSettings? settings) => FunctionEvaluations;
    public abstract IReadOnlyList<string> SamplerNames { get; }

    public abstract Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null);

    public virtual void Dispose()
    {
        Network.Dispose();
        State.Dispose();
    }
}

/// <summary>What every caller does to a method's networks: move, switch to eval, find the device.</summary>
public static class MethodExtensions
{
    public static Component Component(this IGenerativeMethod method, string name) =>
        method.Components.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"the {method.Config.Method} method has no component '{name}'");

    /// <summary>Moves every component and the method state to <paramref name="device"/>.</summary>
    public static void To(this IGenerativeMethod method, Device device)
    {
        foreach (var c in method.Components) c.Module.to(device);
        method.State.To(device);
    }

    public static void Eval(this IGenerativeMethod method)
    {
        foreach (var c in method.Components) c.Module.eval();
    }

    public static Device Device(this IGenerativeMethod method) =>
        method.Components.SelectMany(c => c.Module.parameters()).FirstOrDefault()?.device ?? CPU;
}

/// <summary>
/// A method whose model is a denoiser D(x, σ) in the σ-frame over a diffusion process (NCSN, DDPM, EDM): every sampler of
/// <see cref="Langevin.Samplers.SamplerCatalog"/> can run on it (<c>langevin sample --run RUN --sampler NAME</c>).
/// </summary>
public interface IDenoisingMethod : IGenerativeMethod
{
    Langevin.Models.IScoreModel Denoiser { get; }
    Langevin.Samplers.SamplingProcess Process { get; }

    /// <summary>Maps a sampler's output to data space (e.g. clamps images to [−1, 1]).</summary>
    Tensor ToData(Tensor x);
}

/// <summary>
/// A denoising method whose chains start from a learned prior at the top of its (truncated) process instead of unit noise
/// (TDPM, Zheng et al. 2023): a catalog sampler runs on it when its plan starts at the σ where the prior's samples live.
/// </summary>
public interface IPriorStartedMethod : IDenoisingMethod
{
    /// <summary>The shape of one sample's latent z for the prior.</summary>
    long[] LatentShape { get; }

    /// <summary>Refuses, in one line naming the sampler and what to do, a plan that does not start where the prior ends.</summary>
    void CheckPlan(Langevin.Samplers.SamplingPlan plan, string sampler);

    /// <summary>The catalog's starting noise for <paramref name="plan"/>: z' with z' × plan.InitialScale = the prior's samples of
    /// <paramref name="latents"/> in the σ-frame at plan.Sigmas[0] (on the method's device); <paramref name="noise"/> (one unit
    /// Gaussian of the item's shape per sample) is the prior's own noise, such as TDPM's forward diffusion of G(z).</summary>
    Tensor StartNoise(Tensor latents, Tensor noise, Langevin.Samplers.SamplingPlan plan);
}

/// <summary>
/// A method whose training step makes every random draw per item through <see cref="Training.ItemDraws"/> (batch indices,
/// noise levels, noise, label dropout): data-parallel ranks then share one process's per-item randomness, and N ranks of
/// batch B train exactly as one process of batch N·B (to float rounding). Other methods' ranks draw independently.
/// </summary>
public interface IItemSlicedDraws;

/// <summary>
/// A denoising method whose network can be class-conditional (ddpm, edm, sde with <c>network.classes</c> &gt; 0): the denoiser
/// for given labels, which guidance (<see cref="Langevin.Guidance.ClassGuidance"/>) wraps for every catalog sampler.
/// </summary>
public interface IClassConditionalMethod : IDenoisingMethod
{
    /// <summary>K, the classes the network knows (0: this run is unconditional).</summary>
    int Classes { get; }

    /// <summary>The catalog denoiser conditioned on <paramref name="labels"/> ([B] int64 in 0..K; K = "no class").</summary>
    Langevin.Models.IScoreModel DenoiserFor(Tensor labels);
}

/// <summary>
/// What <c>langevin sample</c> asks of a method's sampler: a name (null: the method's default), a step count (null: the
/// method's default) and sampler-specific options keyed by their CLI names without dashes (e.g. "eta" → "0.5").
/// A method rejects a name or option it does not know with a <see cref="UsageException"/> naming the option.
/// </summary>
public sealed record SamplerSettings(string? Name = null, int? Steps = null, IReadOnlyDictionary<string, string>? Options = null)
{
    public string? Option(string key) => Options is not null && Options.TryGetValue(key, out var v) ? v : null;
}

/// <summary>A method with numbers worth logging beside the loss (e.g. an EBM's mean energies), written to log.jsonl.</summary>
public interface ITrainingDiagnostics
{
    /// <summary>Name → value after the last <c>Loss</c>, names in snake_case.</summary>
    IReadOnlyDictionary<string, double> LastDiagnostics { get; }
}

/// <summary>A method whose sampler has something to say after a run (e.g. its measured cost), one line for the CLI.</summary>
public interface ISamplingReport
{
    string? LastSampling { get; }
}
