using Langevin.Energy;
using Langevin.Metrics;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.Energy;

/// <summary>
/// The adversarially trained EBM of Yin, Li &amp; Rohde (ECCV 2022, "Learning energy-based models with adversarial
/// training"): a binary classifier with logit f(x) = −E(x) is trained by binary cross-entropy to tell data (label 1) from
/// negatives (label 0) made by K steps of L2 PGD on f started from uniform noise; K starts small and grows by one whenever
/// the classifier wins (the rolling AUROC of data vs negatives over the last batches exceeds a threshold), as their
/// training script does. Samples are PGD from noise, x ← clamp(x + η ∇f/‖∇f‖). Shares the energy networks with IGEBM.
/// The curriculum (the current K and the window of recent AUROCs) is method state, so resume is exact.
/// </summary>
public sealed class AdversarialEbmMethod : SingleNetworkMethod, IEnergyMethod, ITrainingDiagnostics
{
    /// <summary>Method state: the PGD steps of the current phase, and the AUROCs of the batches since the last raise.</summary>
    public const string PgdStepsState = "pgd_steps", AucWindowState = "auc_window";

    readonly AdversarialEbmConfig _a;

    public EnergyModel Model { get; }
    public override nn.Module Network => Model;
    public override IReadOnlyList<string> SamplerNames { get; } = ["pgd"];
    public override int FunctionEvaluations => SampleSteps;
    public override int FunctionEvaluationsWith(SamplerSettings? settings) => settings?.Steps ?? SampleSteps;
    public int SampleSteps => _a.SampleSteps ?? PgdSteps;

    /// <summary>PGD steps the negatives of the current training phase take.</summary>
    public int PgdSteps
    {
        get => (int)State.Scalar(PgdStepsState);
        private set => State.SetScalar(PgdStepsState, value);
    }

    /// <summary>AUROC of data vs PGD negatives on the last training batch (by the logit).</summary>
    public double LastAuroc { get; private set; }

    /// <summary>auroc (data vs negatives, last batch) and pgd_steps (the curriculum's current attack length).</summary>
    public IReadOnlyDictionary<string, double> LastDiagnostics => new Dictionary<string, double>
    {
        ["auroc"] = LastAuroc,
        ["pgd_steps"] = PgdSteps,
    };

    public static readonly MethodRegistration Registration = new()
    {
        Name = "adv-ebm",
        Summary = "the adversarially trained EBM (Yin et al. 2022): a classifier against PGD negatives with a growing attack",
        MethodType = typeof(AdversarialEbmMethod),
        ConfigType = typeof(AdversarialEbmConfig),
        DefaultConfig = () => new AdversarialEbmConfig(),
        // the toy 2-D sets: the runs in docs/methods/adv-ebm.md; 6 Fourier features (without them the classifier never separated 25gaussians)
        Recipe = data => new TrainConfig { Settings = new AdversarialEbmConfig() } is var c && Data.Toy2D.Names.Contains(data)
            ? c with { Steps = 1500, BatchSize = 128, Network = c.Network with { Width = 128, FourierFeatures = 6 } } : c,
        Options =
        [
            Option("pgd-step", "η", "length of one normalised-gradient PGD step (default: 1% of the data's range; images 0.5)", "pgd_step_size", (s, v) => s with { PgdStepSize = MethodOption.Number(v, "adv_ebm.pgd_step_size") }),
            Option("pgd-steps", "K", "the most PGD steps the curriculum reaches (default 50)", "pgd_max_steps", (s, v) => s with { PgdMaxSteps = MethodOption.Integer(v, "adv_ebm.pgd_max_steps") }),
            Option("pgd-start-steps", "K", "PGD steps of the first phase (default 1)", "pgd_start_steps", (s, v) => s with { PgdStartSteps = MethodOption.Integer(v, "adv_ebm.pgd_start_steps") }),
            Option("auc-threshold", "A", "add a PGD step when the rolling AUROC of data vs negatives exceeds A (default 0.8)", "auc_threshold", (s, v) => s with { AucThreshold = MethodOption.Number(v, "adv_ebm.auc_threshold") }),
            Option("auc-window", "N", "batches in that rolling AUROC (default 50)", "auc_window", (s, v) => s with { AucWindow = MethodOption.Integer(v, "adv_ebm.auc_window") }),
            Option("pgd-data-steps", "K", "PGD steps that push each data batch up the energy before the loss (Yin et al.'s in-distribution attack; default 0)", "pgd_data_steps", (s, v) => s with { PgdDataSteps = MethodOption.Integer(v, "adv_ebm.pgd_data_steps") }),
            Option("r1-reg", "G", "R1 penalty G·E‖∇ₓlogit(x⁺)‖² on the data (default 0)", "r1_regularizer", (s, v) => s with { R1Regularizer = MethodOption.Number(v, "adv_ebm.r1_regularizer") }),
            Option("energy-net", "cnn|strided", "image network: cnn (IGEBM-style) or strided (Lippe's tutorial 8)", "energy_net", (s, v) => s with { EnergyNet = v }),
            Option("spectral-norm", null, "spectral normalisation (default off)", "spectral_norm", (s, v) => s with { SpectralNorm = MethodOption.Flag(v, "adv_ebm.spectral_norm") || s.SpectralNorm }),
            Option("no-spectral-norm", null, "no spectral normalisation", "spectral_norm", (s, v) => s with { SpectralNorm = !MethodOption.Flag(v, "adv_ebm.spectral_norm") && s.SpectralNorm }),
            Option("sample-steps", "N", "PGD steps of 'sample' (default: the curriculum's last)", "sample_steps", (s, v) => s with { SampleSteps = MethodOption.Integer(v, "adv_ebm.sample_steps") }),
        ],
        Resolve = (c, data, _) => Resolve(c, data),
        Create = (c, shape) => new AdversarialEbmMethod(c, shape),
        Bf16Refusal = "its sampler differentiates the energy through the network",
        FromLegacy = root =>
        {
            var settings = LegacyConfig.Section(root, "adversarial_ebm");
            var ebm = LegacyConfig.Pick(root, "ebm", "energy_net", "spectral_norm");
            foreach (var (k, v) in ebm) if (v is not null) settings[k] = v.DeepClone();
            return settings;
        },
    };

    static MethodOption Option(string name, string? value, string help, string field, Func<AdversarialEbmConfig, string, AdversarialEbmConfig> apply) =>
        MethodOption.For(name, value, help, "adv_ebm." + field, apply);

    public AdversarialEbmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _a = config.SettingsAs<AdversarialEbmConfig>();
        if (_a.InitLow is null || _a.InitHigh is null || _a.PgdStepSize is null) throw new InvalidOperationException("adv-ebm settings must be resolved before building the method");
        var net = EnergyNetworks.Build(itemShape, config.Network, _a.EnergyNet, _a.SpectralNorm, "adv-ebm");
        Model = new EnergyModel(net);
        State.Add(PgdStepsState, _a.PgdStartSteps);
        State.Add(AucWindowState, []);
    }

    /// <summary>Fills the noise box (the data's bounding box widened by 10%; images [−1, 1]) and η (1% of the box's width for points, 0.5 for images).</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        var a = config.SettingsAs<AdversarialEbmConfig>();
        a.Validate();
        bool image = data.dim() == 4;
        var (lo, hi) = EnergyStart.BoxOf(data);
        lo = a.InitLow ?? lo; hi = a.InitHigh ?? hi;
        return config with { Settings = a with { InitLow = lo, InitHigh = hi, PgdStepSize = a.PgdStepSize ?? (image ? 0.5 : 0.01 * (hi - lo)) } };
    }

    double Low => _a.InitLow!.Value;
    double High => _a.InitHigh!.Value;

    public Tensor Energy(Tensor x) => Model.forward(x);

    public Tensor InitialState(long n, Generator gen) => EnergyStart.Uniform([n, .. ItemShape], Low, High, gen, Device);

    public (double Low, double High) StartRange => (Low, High);

    /// <summary>L2 PGD on the energy within the noise box (Yin et al. 2022; the step of Madry et al. 2018's L2 attack).</summary>
    public Tensor Descend(EnergyFunction energy, Tensor x, int steps, Generator gen, Action<int>? onStep = null, Func<Tensor, Tensor>? project = null) =>
        EnergySamplers.Pgd(energy, x, steps, _a.PgdStepSize!.Value, Low, High, onStep, project);

    /// <summary>
    /// L = BCE(f(x⁺), 1) + BCE(f(x⁻), 0) averaged over the 2B logits, f = −E, x⁻ = PGD_K(uniform noise)
    /// (+ γ E‖∇ₓ f(x⁺)‖² when --r1-reg is set; x⁺ first climbs E by --pgd-data-steps PGD steps when set); then the curriculum raises K when the rolling AUROC exceeds the threshold.
    /// </summary>
    public override Tensor Loss(Batch data, Generator gen)
    {
        var batch = data.X;
        int b = (int)batch.shape[0];
        Model.eval();
        Tensor neg;
        using (var start = InitialState(b, gen).to(batch.device)) neg = Descend(Model.forward, start, PgdSteps, gen);
        // Yin et al.'s in-distribution attack: the data climb the energy (descend the logit) before they are classified
        if (_a.PgdDataSteps > 0) batch = Descend(x => -Model.forward(x), batch, _a.PgdDataSteps, gen).detach();
        Model.train();
        var pos = _a.R1Regularizer > 0 ? batch.detach().requires_grad_(true) : batch;
        var logitPos = -Model.forward(pos);
        var logitNeg = -Model.forward(neg.detach());
        // binary cross-entropy with logits: −log σ(f(x⁺)) = softplus(−f(x⁺)), −log(1 − σ(f(x⁻))) = softplus(f(x⁻))
        var loss = (nn.functional.softplus(-logitPos).sum() + nn.functional.softplus(logitNeg).sum()) / (2.0 * b);
        if (_a.R1Regularizer > 0)
        {
            var g = autograd.grad([logitPos.sum()], [pos], retain_graph: true, create_graph: true)[0];   // keep the graph: the BCE term backpropagates through it too
            loss = loss + _a.R1Regularizer * g.flatten(1).square().sum([1]).mean();
        }
        using (no_grad())
        {
            LastAuroc = Auroc.Compute(Scores(logitPos), Scores(logitNeg));
        }
        AdvanceCurriculum(LastAuroc);
        return loss;
    }

    static double[] Scores(Tensor t) => t.detach().cpu().to(float64).data<double>().ToArray();

    /// <summary>Raises K by one when the mean AUROC over the last window of batches exceeds the threshold (the paper's "step interrupted").</summary>
    void AdvanceCurriculum(double auc)
    {
        double[] recent = [.. State.GetNumbers(AucWindowState).TakeLast(_a.AucWindow - 1), auc];
        if (recent.Length == _a.AucWindow && recent.Average() > _a.AucThreshold && PgdSteps < _a.PgdMaxSteps)
        {
            PgdSteps += 1;
            recent = [];
        }
        State.SetNumbers(AucWindowState, recent);
    }

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        string name = sampler?.Name ?? "pgd";
        if (name != "pgd") throw SamplingRefusals.Sampler("an adversarial EBM", "pgd", name);
        int steps = sampler?.Steps ?? SampleSteps;
        if (steps < 1) throw new SettingException("steps", steps, "must be ≥ 1");
        MethodSamplers.Pgd.Read(sampler?.Steps, sampler?.Options);
        using var scope = NewDisposeScope();
        Model.eval();
        long[] shape = [n, .. ItemShape];
        var x = EnergyStart.ForSampling(shape, noise, Low, High, gen, Device);
        onFrame?.Invoke(x);
        x = Descend(Model.forward, x, steps, gen, k => onStep?.Invoke(k, steps));
        using (no_grad()) return x.detach().cpu().MoveToOuterDisposeScope();
    }

}
