using Langevin.Energy;
using Langevin.Mcmc;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>An energy network E(x) → [B] (its weights keyed <c>energy.*</c>, as checkpoints have always named them).</summary>
public sealed class EnergyModel : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> energy;

    public EnergyModel(nn.Module<Tensor, Tensor> energyNet) : base(nameof(EnergyModel))
    {
        energy = energyNet;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => energy.forward(x);
}

/// <summary>
/// IGEBM (Du &amp; Mordatch 2019): an energy E(x) trained by contrastive divergence, loss E(x⁺) − E(x⁻) + α_reg (E(x⁺)² + E(x⁻)²)
/// (Eq. 2 with §3.3's regulariser), with negatives x⁻ from short-run SGLD (Eq. 4, gradients clipped) or ESH dynamics
/// (Versteeg 2021) started from a replay buffer re-initialised from uniform noise with probability 5% (§3.1). The replay
/// buffer is method state (<see cref="ReplayState"/>): every checkpoint carries it, so resume is exact.
/// </summary>
public sealed class EbmMethod : SingleNetworkMethod, IEnergyMethod, ITrainingDiagnostics
{
    /// <summary>The method state that holds the replay buffer (the persistent chains).</summary>
    public const string ReplayState = "replay";

    readonly EbmConfig _e;

    public EnergyModel Model { get; }
    public override nn.Module Network => Model;
    public override int FunctionEvaluations => _e.SampleSteps ?? 1000;
    public override int FunctionEvaluationsWith(SamplerSettings? settings) => settings?.Steps ?? FunctionEvaluations;
    public override IReadOnlyList<string> SamplerNames { get; } = ["sgld", "esh"];

    /// <summary>The replay buffer: [buffer size, ...ItemShape] persistent SGLD chains.</summary>
    public Tensor Replay => State[ReplayState];

    /// <summary>Mean energies of the last training batch: (positives, negatives).</summary>
    public (double Positive, double Negative) LastEnergies { get; private set; }

    /// <summary>e_pos, e_neg: the mean energies of the last batch (the log shows whether |E| stays bounded).</summary>
    public IReadOnlyDictionary<string, double> LastDiagnostics => new Dictionary<string, double>
    {
        ["e_pos"] = LastEnergies.Positive,
        ["e_neg"] = LastEnergies.Negative,
    };

    public EbmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _e = config.Ebm;
        if (_e.InitLow is null || _e.InitHigh is null || _e.SpectralNorm is null || _e.SampleSteps is null) throw new InvalidOperationException("EBM settings must be resolved before building the method");
        var net = EnergyNetworks.Build(itemShape, config, _e.SpectralNorm.Value);
        Tensor buffer;
        if (_e.BufferFile is { } file)
        {
            buffer = ReplayBuffer.Load(file, itemShape);
        }
        else
        {
            using var g = new Generator((ulong)config.Seed + 104729UL);
            buffer = Uniform([_e.BufferSize, .. itemShape], g, CPU);
        }
        Model = new EnergyModel(net);
        State.Add(ReplayState, buffer);
    }

    /// <summary>Fills the noise range from the data (its bounding box widened by 10%; images: [−1, 1]), spectral norm and the sampling length.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        var e = config.Ebm;
        e.Validate();
        double lo, hi;
        if (data.dim() == 4) (lo, hi) = (-1, 1);
        else
        {
            lo = data.min().item<float>(); hi = data.max().item<float>();
            double pad = 0.1 * (hi - lo);
            (lo, hi) = (lo - pad, hi + pad);
        }
        bool image = data.dim() == 4;
        return config with { Ebm = e with { InitLow = e.InitLow ?? lo, InitHigh = e.InitHigh ?? hi,
            SpectralNorm = e.SpectralNorm ?? image, SampleSteps = e.SampleSteps ?? (image ? 100 : 1000) } };
    }

    Tensor Uniform(long[] shape, Generator gen, Device device) =>
        rand(shape, generator: gen, device: device) * (_e.InitHigh!.Value - _e.InitLow!.Value) + _e.InitLow!.Value;


    /// <summary>∇ₓE(x) by autograd (the weights' gradients are untouched).</summary>
    public Tensor EnergyGradient(Tensor x) => EnergySamplers.Gradient(Model.forward, x);

    public Tensor Energy(Tensor x) => Model.forward(x);

    public int SampleSteps => _e.SampleSteps!.Value;

    public Tensor InitialState(long n, Generator gen) => Uniform([n, .. ItemShape], gen, Device);

    public (double Low, double High) StartRange => (_e.InitLow!.Value, _e.InitHigh!.Value);

    /// <summary>The SGLD settings of the config: α, σ, clip, and the noise range as the box when --sgld-clamp is set.</summary>
    public SgldSettings SgldSettings => new(_e.SgldStepSize, _e.SgldNoise, _e.SgldGradClip,
        _e.SgldClamp ? (_e.InitLow!.Value, _e.InitHigh!.Value) : ((double, double)?)null);

    /// <summary>K steps of SGLD: x ← x − α clip(∇E(x), c) + σ z (Du &amp; Mordatch 2019, Eq. 4 and §3.3).</summary>
    public Tensor Sgld(Tensor x, int steps, Generator gen, Action<int>? onStep = null) =>
        EnergySamplers.Sgld(Model.forward, x, steps, SgldSettings, gen, onStep);

    public Tensor Descend(EnergyFunction energy, Tensor x, int steps, Generator gen, Action<int>? onStep = null, Func<Tensor, Tensor>? project = null) =>
        EnergySamplers.Sgld(energy, x, steps, SgldSettings, gen, onStep, project);

    /// <summary>One ESH trajectory of K leapfrog steps over −∇E (end point, as Versteeg 2021 uses for EBM training).</summary>
    public Tensor Esh(Tensor x, int steps, Generator gen) =>
        EshDynamics.Trajectory(x, z => -EnergyGradient(z), _e.EshStepSize, steps, reservoir: false, gen);

    /// <summary>x⁺ + σ_data z, kept in the box when SGLD is (Lippe's tutorial 8 adds σ = 0.005 to every training image).</summary>
    Tensor WithDataNoise(Tensor batch, Generator gen)
    {
        var noisy = batch + _e.DataNoise * randn(batch.shape, generator: gen, device: batch.device, dtype: batch.dtype);
        return _e.SgldClamp ? noisy.clamp(_e.InitLow!.Value, _e.InitHigh!.Value) : noisy;
    }

    public override Tensor Loss(Batch data, Generator gen)
    {
        var batch = data.X;
        var device = batch.device;
        int b = (int)batch.shape[0];
        var buffer = Replay;
        var (start, idx) = ReplayBuffer.Draw(buffer, b, _e.ReinitProbability, n => Uniform([n, .. ItemShape], gen, device), gen);
        Model.eval();                                   // no power-iteration updates inside the sampler
        var neg = _e.Sampler == "esh" ? Esh(start, _e.SgldSteps, gen) : Sgld(start, _e.SgldSteps, gen);
        Model.train();
        ReplayBuffer.Update(buffer, idx, neg);
        if (_e.DataNoise > 0) batch = WithDataNoise(batch, gen);
        var ePos = Model.forward(batch);
        var eNeg = Model.forward(neg.detach());
        double maxAbs = Math.Max(ePos.abs().max().item<float>(), eNeg.abs().max().item<float>());
        if (!(maxAbs <= _e.EnergyLimit))
            throw new TrainingDivergedException($"training stopped: the energy magnitude reached {maxAbs:G3} (limit {_e.EnergyLimit:G3}, --energy-limit); raise --energy-reg or lower --lr");
        LastEnergies = (ePos.mean().item<float>(), eNeg.mean().item<float>());
        // L = E(x⁺) − E(x⁻) + α_reg (E(x⁺)² + E(x⁻)²)  (Du & Mordatch 2019, Eq. 2 + §3.3)
        return ePos.mean() - eNeg.mean() + _e.EnergyRegularizer * (ePos.square().mean() + eNeg.square().mean());
    }

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        string name = sampler?.Name ?? "sgld";
        if (!SamplerNames.Contains(name)) throw new UsageException($"--sampler: an EBM samples with: {string.Join(", ", SamplerNames)} (got '{name}')");
        int steps = sampler?.Steps ?? _e.SampleSteps!.Value;
        if (steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {steps})");
        if (sampler?.Options?.Keys.FirstOrDefault(k => k is not ("step-size" or "final-step-size" or "start")) is { } bad)
            throw new UsageException($"--{bad} does not apply to an EBM's sampler (it takes --steps, --step-size, --final-step-size, --start)");
        string start = sampler?.Option("start") ?? "noise";
        if (start is not ("noise" or "buffer")) throw new UsageException($"--start must be noise or buffer (got '{start}')");
        var sgld = SgldSettings with
        {
            StepSize = sampler?.PositiveOption("step-size", "the SGLD step α") ?? _e.SgldStepSize,
            FinalStepSize = sampler?.PositiveOption("final-step-size", "the last SGLD step α")
        };
        if (name == "esh" && (sgld.FinalStepSize is not null || sampler?.Option("step-size") is not null))
            throw new UsageException("--step-size and --final-step-size set SGLD's α; the esh sampler takes neither");
        using var scope = NewDisposeScope();
        Model.eval();
        var device = Device;
        long[] shape = [n, .. ItemShape];
        Tensor x;
        if (start == "buffer")
        {
            // n distinct persistent chains of the replay buffer (IGEBM §3.1), continued by the sampler
            var buffer = Replay;
            if (noise is not null) throw new UsageException("--noise does not apply with --start buffer (the chains start at the replay buffer's rows)");
            if (n > buffer.shape[0]) throw new UsageException($"--start buffer: the run's replay buffer holds {buffer.shape[0]} chains; ask for --n ≤ {buffer.shape[0]}");
            using (no_grad()) x = buffer.index_select(0, randperm(buffer.shape[0], generator: gen, device: buffer.device)[..n]).to(device);
        }
        else if (noise is not null)
        {
            if (!noise.shape.SequenceEqual(shape)) throw new UsageException($"--noise: shape [{string.Join(", ", noise.shape)}] does not match the model's samples [{string.Join(", ", shape)}]");
            // unit Gaussian noise → uniform on [low, high] through Φ
            using (no_grad()) x = special.ndtr(noise.to(float32).to(device)) * (_e.InitHigh!.Value - _e.InitLow!.Value) + _e.InitLow!.Value;
        }
        else x = Uniform(shape, gen, device);
        onFrame?.Invoke(x);
        x = name == "esh" ? Esh(x, steps, gen) : EnergySamplers.Sgld(Model.forward, x, steps, sgld, gen, k => onStep?.Invoke(k, steps));
        using (no_grad()) return x.detach().cpu().MoveToOuterDisposeScope();
    }

}
