using Langevin.Models;
using Langevin.Objectives;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// What the diffusion methods share (<see cref="DdpmMethod"/>, <see cref="EdmMethod"/>, <see cref="SdeMethod"/>): one
/// network behind a preconditioning, i.e. a denoiser D(x, σ) in the σ-frame (Karras et al. 2022), trained by the method's
/// objective and sampled by its own default sampler over its σ's — or by any catalog sampler, as an <see cref="IDenoisingMethod"/>.
/// </summary>
public abstract class DiffusionMethod(TrainConfig config, long[] itemShape) : SingleNetworkMethod(config, itemShape), IClassConditionalMethod, IItemSlicedDraws
{
    public override nn.Module Network => Denoiser.Network;

    /// <summary>The trained model as a denoiser D(x, σ) / score in the unscaled σ-frame.</summary>
    public PreconditionedDenoiser Denoiser { get; protected init; } = null!;

    protected IDenoiserObjective Objective { get; init; } = null!;

    /// <summary>The σ range the model was trained for (DDPM: σ_0 … σ_{T−1}; EDM: the sampling range; SDE: σ(10⁻³) … σ(1)).</summary>
    public double SigmaMin { get; protected init; }
    public double SigmaMax { get; protected init; }

    /// <summary>Steps of the method's own sampler when none are given (config's sample_steps, else the method's default).</summary>
    public abstract int DefaultSampleSteps { get; }

    /// <summary>The σ's the method's own sampler visits with <paramref name="steps"/> steps, ending in 0.</summary>
    public abstract double[] SigmasFor(int steps);

    /// <summary>The method's own sampler over σ's (Euler on the probability-flow ODE unless a method says otherwise).</summary>
    protected virtual Tensor RunSampler(Tensor x, double[] sigmas, Action<int, int>? onStep) => DiffusionSamplers.Euler(Denoiser, x, sigmas, onStep);

    protected virtual int Evaluations(int steps) => DiffusionSamplers.FirstOrderEvaluations(SigmasFor(steps));

    public override int FunctionEvaluations => Evaluations(DefaultSampleSteps);

    public int Classes => Config.Network.Classes;
    public override bool NeedsLabels => Classes > 0;

    /// <summary>The objective on D(x, σ, y) with each label dropped to "no class" with p_uncond (Ho &amp; Salimans 2021, Alg. 1);
    /// an unconditional run trains D(x, σ) as before (same random numbers).</summary>
    public override Tensor Loss(Batch batch, Generator gen)
    {
        if (Classes == 0) return Objective.Loss(Denoiser, batch.X, gen);
        using var labels = ClassConditioning.DropLabels(batch.Labels!, Classes, Config.Network.LabelDropout, gen);
        return Objective.Loss(Denoiser.WithClasses(labels), batch.X, gen);
    }

    public IScoreModel DenoiserFor(Tensor labels) => Classes > 0
        ? CatalogDenoiserOf(Denoiser.WithClasses(labels))
        : throw SettingException.About("class", "", $"this {Config.Method} run is unconditional (network.classes is 0): it cannot sample a class");

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && !SamplerNames.Contains(name))
            throw SamplingRefusals.Sampler($"this {Config.Method} model", string.Join(", ", SamplerNames), name);
        if (sampler?.Options is { Count: > 0 } options)
            throw SettingException.About(SamplerOption.SettingOf(options.First().Key), options.First().Value, $"the {SamplerNames[0]} sampler of this model takes no such option");
        int steps = sampler?.Steps ?? DefaultSampleSteps;
        if (steps < 1) throw new SettingException("steps", steps, "must be ≥ 1");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var sigmas = SigmasFor(steps);
        // x_T ~ N(0, I) in the scaled frame is x = √(1 + σ₀²)·z in the σ-frame (diffusers' init_noise_sigma).
        var x = StartNoise(n, noise, gen) * Math.Sqrt(1 + sigmas[0] * sigmas[0]);
        onFrame?.Invoke(x);
        var result = RunSampler(x, sigmas, onStep);
        if (Networks.IsImage(ItemShape)) result = result.clamp(-1, 1); // images live in [−1, 1]
        return result.cpu().MoveToOuterDisposeScope();
    }

    /// <summary>The denoiser the catalog's samplers see (with a learned variance, also its Σ).</summary>
    protected IScoreModel CatalogDenoiser => CatalogDenoiserOf(Denoiser);
    IScoreModel IDenoisingMethod.Denoiser => CatalogDenoiser;

    /// <summary>What the catalog's samplers see of a denoiser (with a learned variance, also its Σ).</summary>
    protected virtual IScoreModel CatalogDenoiserOf(PreconditionedDenoiser denoiser) => denoiser;

    /// <summary>The process the catalog's samplers follow: by default the σ range on Karras σ's (DDPM: its discrete VP table).</summary>
    public virtual SamplingProcess Process => new(SamplingProcess.Edm, SigmaMin: SigmaMin, SigmaMax: SigmaMax);

    public Tensor ToData(Tensor x) => Networks.IsImage(ItemShape) ? x.clamp(-1, 1) : x.alias();

    /// <summary>The recipe the diffusion methods share on the toy 2-D sets: what trained the checkerboard well here
    /// (docs/methods/ddpm.md, cld.md): batch 512, Adam 2e-3 with 100 warm-up steps, EMA 0.995, 6 Fourier features, 8,000 steps.</summary>
    public static TrainConfig ToyRecipe(MethodConfig settings, string data, long steps = 8_000)
    {
        var c = new TrainConfig { Settings = settings };
        return Data.Toy2D.Names.Contains(data)
            ? c with { Steps = steps, BatchSize = 512, LearningRate = 2e-3, WarmupSteps = 100, EmaDecay = 0.995, Network = c.Network with { FourierFeatures = 6 } }
            : c;
    }

    /// <summary>The option of every diffusion method: the own sampler's steps.</summary>
    public static MethodOption SampleStepsOption<T>(string method, string sampler, Func<T, int, T> set) where T : MethodConfig =>
        MethodOption.For<T>("sample-steps", "N", $"steps of the method's own sampler ({sampler}) for previews and 'sample' without --steps", $"{method}.sample_steps",
            (s, v) => set(s, MethodOption.Integer(v, $"{method}.sample_steps")));
}
