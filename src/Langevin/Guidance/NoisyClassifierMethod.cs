using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Guidance;

/// <summary>
/// The settings of a noisy classifier: the diffusion run whose σ's and frame it learns (<see cref="Denoiser"/>, pinned at
/// training start) and its network — the U-Net's downsampling trunk with an attention pool for images, an MLP for points.
/// The class count is <c>network.classes</c> (given, or the borrowed run's).
/// </summary>
public sealed record NoisyClassifierConfig : MethodConfig
{
    public ComponentReference? Denoiser { get; init; }
    public int Channels { get; init; } = 32;
    public int[] Mults { get; init; } = [1, 2, 2];
    public int ResBlocks { get; init; } = 2;
    public int[] Attention { get; init; } = [7];
    public int Width { get; init; } = 128;
    public int Depth { get; init; } = 3;

    public override void Validate()
    {
        if (Denoiser is null) throw SettingException.About("classifier.denoiser", "", "a noisy classifier is trained beside a diffusion run: name a ddpm, edm or sde run on the same data");
        if (Channels < 8 || Channels % 8 != 0) throw new SettingException("classifier.channels", Channels, "must be a positive multiple of 8");
        if (Mults.Length == 0 || Mults.Any(m => m < 1)) throw new SettingException("classifier.mults", string.Join(",", Mults), "must be positive integers, e.g. 1,2,2");
        if (ResBlocks < 1) throw new SettingException("classifier.res_blocks", ResBlocks, "must be ≥ 1");
        if (Width < 1) throw new SettingException("classifier.width", Width, "must be ≥ 1");
        if (Depth < 1) throw new SettingException("classifier.depth", Depth, "must be ≥ 1");
    }
}

/// <summary>A method whose network is a classifier (it samples nothing; the trainer draws no previews for it).</summary>
public interface IClassifierMethod : IGenerativeMethod
{
    INoisyClassifier Classifier { get; }
}

/// <summary>
/// Trains a classifier of noisy data for classifier guidance (Dhariwal &amp; Nichol 2021, §4): x_σ = x₀ + σ ε at the borrowed
/// diffusion run's own noise levels (a DDPM run: a uniform timestep of its table, labelled by that integer step as its
/// denoiser was; an EDM or SDE run: σ log-uniform over its range), fed in the denoiser's frame (c_in(σ) x, c_noise(σ)),
/// cross-entropy on the batch's labels. Accuracy overall and per quartile of log σ (q1: least noise) goes to log.jsonl.
/// </summary>
public sealed class NoisyClassifierMethod : SingleNetworkMethod, IClassifierMethod, ITrainingDiagnostics
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "noisy-classifier",
        Summary = "a classifier of noised data at a diffusion run's σ's, for classifier guidance (Dhariwal & Nichol 2021); --denoiser RUN",
        MethodType = typeof(NoisyClassifierMethod),
        ConfigType = typeof(NoisyClassifierConfig),
        DefaultConfig = () => new NoisyClassifierConfig(),
        Options =
        [
            MethodOption.For<NoisyClassifierConfig>("denoiser", "RUN", "the diffusion run (ddpm, edm, sde) whose noise levels and frame the classifier learns",
                "classifier.denoiser", (s, v) => s with { Denoiser = new ComponentReference(v) }),
            MethodOption.For<NoisyClassifierConfig>("classifier-channels", "N", "images: channels of the U-Net trunk (default 32)", "classifier.channels",
                (s, v) => s with { Channels = MethodOption.Integer(v, "classifier.channels") }),
        ],
        Resolve = (c, data, _) => Resolve(c, data),
        Create = (c, shape) => new NoisyClassifierMethod(c, shape),
    };

    static string? NotADiffusionRun(Checkpoint ckpt) =>
        ckpt.Config.Method is "ddpm" or "edm" or "sde" ? null : $"a {ckpt.Config.Method} run; a noisy classifier learns the noise levels of a ddpm, edm or sde run";

    readonly NoisyClassifierConfig _c;
    readonly DiffusionMethod _process;
    readonly Dictionary<string, double> _diagnostics = [];

    public override nn.Module Network { get; }
    public INoisyClassifier Classifier { get; }
    public override bool NeedsLabels => true;
    public override IReadOnlyList<string> SamplerNames { get; } = ["none"];
    public override int FunctionEvaluations => 0;
    public IReadOnlyDictionary<string, double> LastDiagnostics => _diagnostics;

    public NoisyClassifierMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _c = config.SettingsAs<NoisyClassifierConfig>();
        _c.Validate();
        if (!_c.Denoiser!.IsResolved)
            throw new SettingException("classifier.denoiser", _c.Denoiser.Run, "is not resolved (its checkpoint step and digest are set when training starts)");
        int classes = config.Network.Classes;
        if (classes < 2) throw SettingException.About("network.classes", classes, "a classifier needs ≥ 2 classes: set them, or borrow a class-conditional diffusion run");
        _process = (DiffusionMethod)BorrowedRun.Open(_c.Denoiser, itemShape, "noisy-classifier", NotADiffusionRun);
        nn.Module<Tensor, Tensor, Tensor> network = Methods.Networks.IsImage(itemShape)
            ? new NoisyClassifierUNet(itemShape, classes, _c.Channels, _c.Mults, _c.ResBlocks, _c.Attention)
            : new NoisyClassifierMlp((int)itemShape[0], classes, _c.Width, _c.Depth, config.Network.FourierFeatures);
        Network = network;
        Classifier = new NetworkClassifier(network, _process.Denoiser.Preconditioning, classes);
    }

    /// <summary>Before training: the diffusion run is pinned, and the class count defaults to that run's.</summary>
    static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        var c = config.SettingsAs<NoisyClassifierConfig>();
        c.Validate();
        var reference = BorrowedRun.Resolve("classifier.denoiser", c.Denoiser!.Run, data.shape[1..], NotADiffusionRun);
        config = config with { Settings = c with { Denoiser = reference } };
        if (config.Network.Classes > 0) return config;
        using var ckpt = Checkpoint.Load(new RunFolder(reference.Run).CheckpointPath(reference.Step));
        return config with { Network = config.Network with { Classes = ckpt.Config.Network.Classes } };
    }

    /// <summary>The noise levels of a batch and the labels the network sees: the borrowed run's distribution.</summary>
    (Tensor Sigma, Tensor Label, Tensor Rank) DrawNoise(long n, Generator gen, Device device)
    {
        if (_process is DdpmMethod ddpm)
        {
            var t = randint(0, ddpm.Schedule.T, [n], generator: gen, device: device);
            var sigma = tensor(ddpm.Schedule.Sigmas(), float32, device).index_select(0, t);
            return (sigma, t.to(float32), t.to(float32) / (ddpm.Schedule.T - 1));
        }
        double lo = Math.Log(_process.SigmaMin), hi = Math.Log(_process.SigmaMax);
        var u = rand([n], generator: gen, device: device);
        var s = (lo + (hi - lo) * u).exp();
        return (s, _process.Denoiser.Preconditioning.NoiseLabel(s), u);
    }

    public override Tensor Loss(Batch batch, Generator gen)
    {
        using var scope = NewDisposeScope();
        var x0 = batch.X;
        var (sigma, label, rank) = DrawNoise(x0.shape[0], gen, x0.device);
        var x = x0 + sigma.Broadcast(x0) * randn(x0.shape, generator: gen, device: x0.device);
        var logits = ((NetworkClassifier)Classifier).Logits(x, sigma, label);
        var labels = batch.Labels!;
        var loss = nn.functional.cross_entropy(logits, labels);
        Diagnose(logits.detach(), labels, rank);
        return loss.MoveToOuterDisposeScope();
    }

    void Diagnose(Tensor logits, Tensor labels, Tensor rank)
    {
        var correct = logits.argmax(1).eq(labels).to(float32);
        _diagnostics["acc"] = correct.mean().item<float>();
        var quartile = (rank * 4).floor().clamp(0, 3).to(int64);
        for (int q = 0; q < 4; q++)
        {
            var inQ = quartile.eq(q);
            long count = inQ.sum().item<long>();
            if (count > 0) _diagnostics[$"acc_q{q + 1}"] = correct.masked_select(inQ).mean().item<float>();
            else _diagnostics.Remove($"acc_q{q + 1}");
        }
    }

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null) =>
        throw SettingException.About("run", Config.Method, "a noisy-classifier run samples nothing: guide a diffusion run with it (langevin sample --run RUN --class K --classifier THIS_RUN --guidance S)");

    public override void Dispose()
    {
        base.Dispose();
        _process.Dispose();
    }
}
