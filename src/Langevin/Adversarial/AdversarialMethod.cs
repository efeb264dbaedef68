using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// What the adversarial methods share as <see cref="IGenerativeMethod"/>s: a generator "gen" with an EMA (sampling uses
/// it) and a discriminator "disc" without, each with its own Adam settings; the optional D-only first stage; the step,
/// which is <see cref="AdversarialGame.Step"/> over the method's <see cref="IAdversarialSides"/>; and sampling with
/// the generator alone by default (no catalog sampler, no sampler options). A method supplies its networks, its sides and
/// its sampler (<see cref="Generate"/>, and <see cref="CheckSampler"/> when it takes settings).
/// </summary>
public abstract class AdversarialMethod<TConfig> : IGenerativeMethod, ITrainingDiagnostics, IAdversarialSides where TConfig : AdversarialConfig
{
    public const string Generator = "gen", Discriminator = "disc";

    readonly AdversarialGame _game;
    readonly bool _generatorShared;

    /// <param name="more">A further component trained beside the two (TDPM's denoiser), first in <see cref="Components"/>.</param>
    /// <param name="generatorSharesWeights">The generator is <paramref name="more"/>'s network, trained by its own Adam without
    /// an EMA of its own (<see cref="Component.SharesWeightsOf"/>; TDPM's denoiser prior).</param>
    protected AdversarialMethod(TrainConfig config, long[] itemShape, Func<TConfig, (nn.Module Generator, nn.Module Discriminator)> networks,
        Component? more = null, bool generatorSharesWeights = false)
    {
        Settings = config.SettingsAs<TConfig>();
        Settings.Validate();
        if (Settings.LatentDim is null || Settings.SpectralNorm is null || Settings.CriticSteps is null)
            throw new InvalidOperationException($"{config.Method} settings must be resolved before building the method");
        Config = config;
        ItemShape = itemShape;
        (GeneratorNetwork, DiscriminatorNetwork) = networks(Settings);
        var (genAdam, discAdam) = Settings.Optimizers(config);
        Component[] game =
        [
            generatorSharesWeights
                ? new Component(Generator, GeneratorNetwork) { Optimizer = genAdam, Ema = false, SharesWeightsOf = more!.Name }
                : new Component(Generator, GeneratorNetwork) { Optimizer = genAdam },
            new Component(Discriminator, DiscriminatorNetwork) { Optimizer = discAdam, Ema = false },
        ];
        Components = more is null ? game : [more, .. game];
        _generatorShared = generatorSharesWeights;
        Stages = Settings.Stages(Discriminator);
        _game = new AdversarialGame(Settings.Rules, Generator, Discriminator, State);
    }

    protected TConfig Settings { get; }
    protected nn.Module GeneratorNetwork { get; }
    protected nn.Module DiscriminatorNetwork { get; }

    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public IReadOnlyList<Component> Components { get; }
    public IReadOnlyList<TrainingStage> Stages { get; }
    public MethodState State { get; } = new();
    public bool NeedsLabels => false;
    public abstract int FunctionEvaluations { get; }
    public virtual int FunctionEvaluationsWith(SamplerSettings? settings) => FunctionEvaluations;
    public virtual IReadOnlyList<string> SamplerNames { get; } = ["generator"];
    public IReadOnlyDictionary<string, double> LastDiagnostics => _game.Diagnostics;

    public virtual void Step(ITrainingContext context, Batch batch) => _game.Step(context, batch, this);

    public abstract DiscriminatorInput Real(Batch batch, TorchSharp.torch.Generator gen);
    public abstract Tensor Fake(DiscriminatorInput real, TorchSharp.torch.Generator gen);
    public abstract Tensor Discriminate(DiscriminatorInput input);

    /// <summary>The shape of the noise <see cref="Sample"/> accepts per sample (a GAN: z; DD-GAN: x_T).</summary>
    protected abstract long[] NoiseShape { get; }

    /// <summary>n samples from <paramref name="noise"/> (on the method's device), under no_grad and in eval mode, with the
    /// sampler settings <see cref="CheckSampler"/> accepted.</summary>
    protected abstract Tensor Generate(Tensor noise, TorchSharp.torch.Generator gen, Action<int, int>? onStep, SamplerSettings? sampler);

    /// <summary>Refuses, in one line, sampler settings the method cannot honour; the generator's methods take none.</summary>
    protected virtual void CheckSampler(SamplerSettings? sampler, string who)
    {
        if (sampler?.Name is { } name && name != "generator") throw Samplers.SamplingRefusals.Sampler(who, "generator", name);
        if (sampler?.Steps is not null || sampler?.Options?.Count > 0)
            throw new UsageException($"sample: {who} samples with its generator ({FunctionEvaluations} call{(FunctionEvaluations == 1 ? "" : "s")}), which takes no step count or sampler options");
    }

    protected Tensor Latents(long n, TorchSharp.torch.Generator gen) => randn([n, Settings.LatentDim!.Value], generator: gen, device: this.Device());

    public virtual Tensor Sample(int n, TorchSharp.torch.Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        string who = $"a {Config.Method} model";
        CheckSampler(sampler, who);
        long[] shape = [n, .. NoiseShape];
        if (noise is not null && !noise.shape.SequenceEqual(shape))
            throw SettingException.About("noise", null, $"{who}'s generator starts from [{string.Join(", ", shape)}] (got [{string.Join(", ", noise.shape)}])");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        this.Eval();
        var start = noise?.to(float32).to(this.Device()) ?? randn(shape, generator: gen, device: this.Device());
        var x = Generate(start, gen, onStep, sampler);
        if (ItemShape.Length == 3) x = x.clamp(-1, 1);
        return x.cpu().MoveToOuterDisposeScope();
    }

    public virtual void Dispose()
    {
        if (!_generatorShared) GeneratorNetwork.Dispose();   // a shared one is disposed with its owner
        DiscriminatorNetwork.Dispose();
        State.Dispose();
    }
}
