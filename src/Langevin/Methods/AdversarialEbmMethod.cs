using Langevin.Energy;
using Langevin.Metrics;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>The classifier's network E(x) = −logit(x) with the PGD curriculum's current step count as a module buffer (checkpointed).</summary>
public sealed class AdversarialEnergyModel : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> energy;
    readonly Tensor pgd_steps;

    public AdversarialEnergyModel(nn.Module<Tensor, Tensor> energyNet, int startSteps) : base(nameof(AdversarialEnergyModel))
    {
        energy = energyNet;
        pgd_steps = tensor(new long[] { startSteps });
        RegisterComponents();
    }

    /// <summary>PGD steps the negatives of the current training phase take.</summary>
    public int PgdSteps
    {
        get => (int)pgd_steps.item<long>();
        set { using var _ = no_grad(); pgd_steps.fill_(value); }
    }

    public override Tensor forward(Tensor x) => energy.forward(x);
}

/// <summary>
/// The adversarially trained EBM of Yin, Li &amp; Rohde (ECCV 2022, "Learning energy-based models with adversarial
/// training"): a binary classifier with logit f(x) = −E(x) is trained by binary cross-entropy to tell data (label 1) from
/// negatives (label 0) made by K steps of L2 PGD on f started from uniform noise; K starts small and grows by one whenever
/// the classifier wins (the rolling AUROC of data vs negatives over the last batches exceeds a threshold), as their
/// training script does. Samples are PGD from noise, x ← clamp(x + η ∇f/‖∇f‖). Shares the energy networks with IGEBM.
/// </summary>
public sealed class AdversarialEbmMethod : IEnergyMethod, ITrainingDiagnostics
{
    readonly AdversarialEbmConfig _a;
    readonly Queue<double> _recentAuc = new();

    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public AdversarialEnergyModel Model { get; }
    public nn.Module Network => Model;
    public IReadOnlyList<string> SamplerNames { get; } = ["pgd"];
    public int FunctionEvaluations => SampleSteps;
    public int FunctionEvaluationsWith(SamplerSettings? settings) => settings?.Steps ?? SampleSteps;
    public int SampleSteps => _a.SampleSteps ?? Model.PgdSteps;

    /// <summary>AUROC of data vs PGD negatives on the last training batch (by the logit).</summary>
    public double LastAuroc { get; private set; }

    /// <summary>auroc (data vs negatives, last batch) and pgd_steps (the curriculum's current attack length).</summary>
    public IReadOnlyDictionary<string, double> LastDiagnostics => new Dictionary<string, double>
    {
        ["auroc"] = LastAuroc,
        ["pgd_steps"] = Model.PgdSteps,
    };

    public AdversarialEbmMethod(TrainConfig config, long[] itemShape)
    {
        _a = config.AdversarialEbm;
        if (_a.InitLow is null || _a.InitHigh is null || _a.PgdStepSize is null) throw new InvalidOperationException("adv-ebm settings must be resolved before building the method");
        Config = config;
        ItemShape = itemShape;
        bool spectralNorm = config.Ebm.SpectralNorm ?? false;
        var net = EnergyNetworks.Build(itemShape, config, spectralNorm);
        Model = new AdversarialEnergyModel(net, _a.PgdStartSteps);
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

    Device Device => Model.parameters().First().device;
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
    public Tensor Loss(Tensor batch, Generator gen)
    {
        int b = (int)batch.shape[0];
        Model.eval();
        Tensor neg;
        using (var start = InitialState(b, gen).to(batch.device)) neg = Descend(Model.forward, start, Model.PgdSteps, gen);
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
        _recentAuc.Enqueue(auc);
        if (_recentAuc.Count > _a.AucWindow) _recentAuc.Dequeue();
        if (_recentAuc.Count == _a.AucWindow && _recentAuc.Average() > _a.AucThreshold && Model.PgdSteps < _a.PgdMaxSteps)
        {
            Model.PgdSteps += 1;
            _recentAuc.Clear();
        }
    }

    public Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
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

    public void Dispose() => Model.Dispose();
}
