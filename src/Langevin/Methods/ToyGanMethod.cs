using Langevin.Energy;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// The training core's two-component worked example (docs/architecture.md): a GAN on low-dimensional points
/// (Goodfellow et al. 2014) with the non-saturating generator loss and the lazy R1 penalty of StyleGAN2 (Mescheder et al.
/// 2018; Karras et al. 2020, §3.1: γ/2 E‖∇ₓD(x)‖² on data, applied every k-th step with weight k). Generator and
/// discriminator are separate components with their own Adam settings; the EMA is kept for G only; the discriminator
/// takes <see cref="ToyGanConfig.CriticSteps"/> updates (each on a fresh batch) per generator update, and an optional
/// first stage trains it alone. Not a tuned GAN — the GAN family (DCGAN, hinge + spectral norm, WGAN-GP) has its own issue.
/// </summary>
public sealed class ToyGanMethod : IGenerativeMethod, ITrainingDiagnostics
{
    public const string Generator = "gen", Discriminator = "disc";

    public static readonly MethodRegistration Registration = new()
    {
        Name = "toy-gan",
        Summary = "the training core's worked example: a small GAN on points (two components, own Adam, EMA on G, lazy R1, critic steps, a D-only stage)",
        MethodType = typeof(ToyGanMethod),
        ConfigType = typeof(ToyGanConfig),
        DefaultConfig = () => new ToyGanConfig(),
        Options =
        [
            Option("latent-dim", "K", "dimension of the generator's latent z (default 2)", "latent_dim", (s, v) => s with { LatentDim = MethodOption.Integer(v, "toy_gan.latent_dim") }),
            Option("gen-lr", "X", "generator learning rate (default 2e-4)", "generator_learning_rate", (s, v) => s with { GeneratorLearningRate = MethodOption.Number(v, "toy_gan.generator_learning_rate") }),
            Option("disc-lr", "X", "discriminator learning rate (default 2e-4)", "discriminator_learning_rate", (s, v) => s with { DiscriminatorLearningRate = MethodOption.Number(v, "toy_gan.discriminator_learning_rate") }),
            Option("critic-steps", "K", "discriminator updates per generator update (default 1)", "critic_steps", (s, v) => s with { CriticSteps = MethodOption.Integer(v, "toy_gan.critic_steps") }),
            Option("r1-gamma", "G", "γ of the R1 penalty γ/2 E‖∇D(x)‖² on data (default 0.1; 0: off)", "r1_gamma", (s, v) => s with { R1Gamma = MethodOption.Number(v, "toy_gan.r1_gamma") }),
            Option("r1-every", "K", "lazy R1: every K-th step, weighted by K (default 4)", "r1_every", (s, v) => s with { R1Every = MethodOption.Integer(v, "toy_gan.r1_every") }),
            Option("disc-warmup", "N", "a first stage of N steps in which only the discriminator trains (default 0)", "discriminator_warmup", (s, v) => s with { DiscriminatorWarmup = MethodOption.Integer(v, "toy_gan.discriminator_warmup") }),
        ],
        Create = (c, shape) => new ToyGanMethod(c, shape),
    };

    static MethodOption Option(string name, string? value, string help, string field, Func<ToyGanConfig, string, ToyGanConfig> apply) =>
        MethodOption.For(name, value, help, "toy_gan." + field, apply);

    readonly ToyGanConfig _g;
    readonly nn.Module<Tensor, Tensor> _gen;
    readonly EnergyMlp _disc;           // D(x) = the logit of "real" (an MLP with a scalar output, no spectral norm)

    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public IReadOnlyList<Component> Components { get; }
    public IReadOnlyList<TrainingStage> Stages { get; }
    public MethodState State { get; } = new();
    public bool NeedsLabels => false;
    public int FunctionEvaluations => 1;
    public int FunctionEvaluationsWith(SamplerSettings? settings) => 1;
    public IReadOnlyList<string> SamplerNames { get; } = ["generator"];

    /// <summary>After the last step: the discriminator's and generator's losses and the R1 penalty (0 on steps without it).</summary>
    public IReadOnlyDictionary<string, double> LastDiagnostics => new Dictionary<string, double> { ["r1"] = _lastR1, ["d_real"] = _lastRealLogit };
    double _lastR1, _lastRealLogit;

    public ToyGanMethod(TrainConfig config, long[] itemShape)
    {
        _g = config.SettingsAs<ToyGanConfig>();
        _g.Validate();
        if (itemShape.Length != 1) throw new UsageException($"method toy-gan models points [N, D]; this data has items of shape [{string.Join(", ", itemShape)}]");
        Config = config;
        ItemShape = itemShape;
        int dim = (int)itemShape[0], width = config.Network.Width, depth = config.Network.Depth;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0, inF = _g.LatentDim; i < depth; i++, inF = width) { layers.Add(nn.Linear(inF, width)); layers.Add(nn.SiLU()); }
        layers.Add(nn.Linear(depth == 0 ? _g.LatentDim : width, dim));
        _gen = nn.Sequential(layers);
        _disc = new EnergyMlp(dim, width, depth, spectralNorm: false);
        var adam = OptimizerSettings.From(config) with { Beta1 = _g.Beta1, Beta2 = _g.Beta2 };
        Components =
        [
            new Component(Generator, _gen) { Optimizer = adam with { LearningRate = _g.GeneratorLearningRate } },
            new Component(Discriminator, _disc) { Optimizer = adam with { LearningRate = _g.DiscriminatorLearningRate }, Ema = false },
        ];
        Stages = _g.DiscriminatorWarmup > 0
            ? [new TrainingStage("disc-warmup", _g.DiscriminatorWarmup, [Discriminator]), new TrainingStage("adversarial")]
            : [];
    }

    public void Step(ITrainingContext context, Batch batch)
    {
        var gen = context.Generator;
        for (int k = 0; k < _g.CriticSteps; k++)
        {
            var real = (k == 0 ? batch : context.NextBatch()).X;
            using var fake = _gen.call(Latents(real.shape[0], gen)).detach();
            bool r1 = _g.R1Gamma > 0 && context.Step % _g.R1Every == 0 && k == 0;
            if (r1) real = real.detach().requires_grad_(true);
            var logitReal = _disc.call(real);
            // −log σ(D(x)) − log(1 − σ(D(G(z)))) = softplus(−D(x)) + softplus(D(G(z)))
            var lossD = nn.functional.softplus(-logitReal).mean() + nn.functional.softplus(_disc.call(fake)).mean();
            _lastR1 = 0;
            if (r1)
            {
                var g = autograd.grad([logitReal.sum()], [real], retain_graph: true, create_graph: true)[0];   // the loss backpropagates through it too
                var penalty = g.square().sum(1).mean();
                _lastR1 = penalty.item<float>();
                lossD = lossD + _g.R1Gamma / 2 * _g.R1Every * penalty;     // lazy: every k-th step, weighted by k
            }
            _lastRealLogit = logitReal.mean().item<float>();
            context.Optimize(Discriminator, lossD);
        }
        if (!context.Stage.TrainsComponent(Generator)) return;
        // the non-saturating generator loss: −log σ(D(G(z)))
        var lossG = nn.functional.softplus(-_disc.call(_gen.call(Latents(batch.Count, gen)))).mean();
        context.Optimize(Generator, lossG);
    }

    Tensor Latents(long n, TorchSharp.torch.Generator gen) => randn([n, _g.LatentDim], generator: gen, device: this.Device());

    /// <summary>One generator call per sample; <paramref name="noise"/>, if given, is the latent z [n, latent_dim].</summary>
    public Tensor Sample(int n, TorchSharp.torch.Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "generator") throw Samplers.SamplingRefusals.Sampler("a toy-gan model", "generator", name);
        if (sampler?.Steps is not null || sampler?.Options?.Count > 0) throw new UsageException("sample: a GAN's generator takes no steps or sampler options");
        if (noise is not null && !noise.shape.SequenceEqual([n, _g.LatentDim]))
            throw SettingException.About("noise", null, $"a toy-gan generator takes latents [N, {_g.LatentDim}] (got [{string.Join(", ", noise.shape)}])");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        this.Eval();
        var z = noise?.to(float32).to(this.Device()) ?? Latents(n, gen);
        var x = _gen.call(z);
        onStep?.Invoke(1, 1);
        return x.cpu().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _gen.Dispose();
        _disc.Dispose();
        State.Dispose();
    }
}

/// <summary>Settings of <see cref="ToyGanMethod"/>: latent size, the two Adam learning rates and β's, critic steps, lazy R1, the discriminator-only first stage.</summary>
public sealed record ToyGanConfig : MethodConfig
{
    public int LatentDim { get; init; } = 2;
    public double GeneratorLearningRate { get; init; } = 2e-4;
    public double DiscriminatorLearningRate { get; init; } = 2e-4;
    /// <summary>Adam's β's of both networks (DCGAN's (0.5, 0.999)).</summary>
    public double Beta1 { get; init; } = 0.5;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Discriminator updates per generator update.</summary>
    public int CriticSteps { get; init; } = 1;
    /// <summary>γ of R1 (0: off) and k of its lazy schedule (every k-th step, weight k).</summary>
    public double R1Gamma { get; init; } = 0.1;
    public int R1Every { get; init; } = 4;
    /// <summary>Steps of a first stage in which only the discriminator trains (0: none).</summary>
    public long DiscriminatorWarmup { get; init; }

    public override void Validate()
    {
        if (LatentDim < 1) throw new SettingException("toy_gan.latent_dim", LatentDim, "must be ≥ 1");
        if (CriticSteps < 1) throw new SettingException("toy_gan.critic_steps", CriticSteps, "must be ≥ 1");
        if (!(R1Gamma >= 0)) throw new SettingException("toy_gan.r1_gamma", R1Gamma, "must be ≥ 0");
        if (R1Every < 1) throw new SettingException("toy_gan.r1_every", R1Every, "must be ≥ 1");
        if (DiscriminatorWarmup < 0) throw new SettingException("toy_gan.discriminator_warmup", DiscriminatorWarmup, "must be ≥ 0");
    }
}
