using Langevin.Energy;
using Langevin.Metrics;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

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

    public AdversarialEbmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _a = config.AdversarialEbm;
        if (_a.InitLow is null || _a.InitHigh is null || _a.PgdStepSize is null) throw new InvalidOperationException("adv-ebm settings must be resolved before building the method");
        bool spectralNorm = config.Ebm.SpectralNorm ?? false;
        var net = EnergyNetworks.Build(itemShape, config, spectralNorm);
        Model = new EnergyModel(net);
        State.Add(PgdStepsState, _a.PgdStartSteps);
        State.Add(AucWindowState, []);
    }

    /// <summary>Fills the noise box (the data's bounding box widened by 10%; images [−1, 1]) and η (1% of the box's width for points, 0.5 for images).</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        var a = config.AdversarialEbm;
        a.Validate();
        bool image = data.dim() == 4;
        double lo = -1, hi = 1;
        if (!image)
        {
            lo = data.min().item<float>(); hi = data.max().item<float>();
            double pad = 0.1 * (hi - lo);
            (lo, hi) = (lo - pad, hi + pad);
        }
        lo = a.InitLow ?? lo; hi = a.InitHigh ?? hi;
        return config with { AdversarialEbm = a with { InitLow = lo, InitHigh = hi, PgdStepSize = a.PgdStepSize ?? (image ? 0.5 : 0.01 * (hi - lo)) } };
    }

    double Low => _a.InitLow!.Value;
    double High => _a.InitHigh!.Value;

    public Tensor Energy(Tensor x) => Model.forward(x);

    public Tensor InitialState(long n, Generator gen) => rand([n, .. ItemShape], generator: gen, device: Device) * (High - Low) + Low;

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
        if (name != "pgd") throw new UsageException($"--sampler: an adversarial EBM samples with pgd (got '{name}')");
        int steps = sampler?.Steps ?? SampleSteps;
        if (steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {steps})");
        if (sampler?.Options?.Keys.FirstOrDefault() is { } bad) throw new UsageException($"--{bad} does not apply to an adversarial EBM's PGD sampler (it takes --steps)");
        using var scope = NewDisposeScope();
        Model.eval();
        long[] shape = [n, .. ItemShape];
        Tensor x;
        if (noise is not null)
        {
            if (!noise.shape.SequenceEqual(shape)) throw new UsageException($"--noise: shape [{string.Join(", ", noise.shape)}] does not match the model's samples [{string.Join(", ", shape)}]");
            // unit Gaussian noise → uniform on [low, high] through Φ
            using (no_grad()) x = special.ndtr(noise.to(float32).to(Device)) * (High - Low) + Low;
        }
        else x = InitialState(n, gen);
        onFrame?.Invoke(x);
        x = Descend(Model.forward, x, steps, gen, k => onStep?.Invoke(k, steps));
        using (no_grad()) return x.detach().cpu().MoveToOuterDisposeScope();
    }

}
