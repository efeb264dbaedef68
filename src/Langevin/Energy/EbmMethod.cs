using Langevin.Energy;
using Langevin.Mcmc;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.Energy;

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

    public static readonly MethodRegistration Registration = new()
    {
        Name = "ebm",
        Summary = "IGEBM: an energy trained by contrastive divergence with SGLD (or ESH) negatives from a replay buffer",
        MethodType = typeof(EbmMethod),
        ConfigType = typeof(EbmConfig),
        DefaultConfig = () => new EbmConfig(),
        Recipe = Recipe,
        Options =
        [
            Option("ebm-sampler", "sgld|esh", "negative sampler during training", "sampler", (s, v) => s with { Sampler = v }),
            Option("sgld-steps", "K", "sampler steps per training step (SGLD steps or ESH leapfrog steps)", "sgld_steps", (s, v) => s with { SgldSteps = MethodOption.Integer(v, "ebm.sgld_steps") }),
            Option("sgld-step", "A", "SGLD step α on −∇E", "sgld_step_size", (s, v) => s with { SgldStepSize = MethodOption.Number(v, "ebm.sgld_step_size") }),
            Option("sgld-noise", "S", "SGLD noise standard deviation σ per step (default 0.005; 25gaussians: 0.001)", "sgld_noise", (s, v) => s with { SgldNoise = MethodOption.Number(v, "ebm.sgld_noise") }),
            Option("sgld-clip", "C", "clip ∇E elementwise to ±C in SGLD steps (0: off; default 0.1; 25gaussians: 0.01)", "sgld_grad_clip", (s, v) => s with { SgldGradClip = MethodOption.Number(v, "ebm.sgld_grad_clip") }),
            Option("sgld-clamp", null, "clamp SGLD states to the noise range ([−1, 1] for images) after every step (on by default for fashion-mnist; --sgld-clamp false: off)", "sgld_clamp", (s, v) => s with { SgldClamp = MethodOption.Flag(v, "ebm.sgld_clamp") }),
            Option("data-noise", "S", "add N(0, S²) noise to the training data before the loss (0: off)", "data_noise", (s, v) => s with { DataNoise = MethodOption.Number(v, "ebm.data_noise") }),
            Option("energy-net", "cnn|strided", "image network: cnn (IGEBM-style, full-resolution first layers, sum pooling) or strided (4 stride-2 convs + 2 linear layers, Lippe's tutorial 8; --channels sets its width, 32)", "energy_net", (s, v) => s with { EnergyNet = v }),
            Option("esh-step", "E", "ESH leapfrog step size", "esh_step_size", (s, v) => s with { EshStepSize = MethodOption.Number(v, "ebm.esh_step_size") }),
            Option("buffer-size", "N", "replay buffer size", "buffer_size", (s, v) => s with { BufferSize = MethodOption.Integer(v, "ebm.buffer_size") }),
            Option("reinit", "P", "probability of re-initialising a buffer chain from noise", "reinit_probability", (s, v) => s with { ReinitProbability = MethodOption.Number(v, "ebm.reinit_probability") }),
            Option("energy-reg", "X", "L2 energy-magnitude regulariser coefficient", "energy_regularizer", (s, v) => s with { EnergyRegularizer = MethodOption.Number(v, "ebm.energy_regularizer") }),
            Option("energy-limit", "X", "stop when |E| exceeds X", "energy_limit", (s, v) => s with { EnergyLimit = MethodOption.Number(v, "ebm.energy_limit") }),
            Option("spectral-norm", null, "spectral normalisation (default: on for images, off for points)", "spectral_norm", (s, v) => s with { SpectralNorm = MethodOption.Flag(v, "ebm.spectral_norm") ? true : s.SpectralNorm }),
            Option("no-spectral-norm", null, "no spectral normalisation", "spectral_norm", (s, v) => s with { SpectralNorm = MethodOption.Flag(v, "ebm.spectral_norm") ? false : s.SpectralNorm }),
            Option("buffer-file", "B.npy", "fill the replay buffer from this .npy", "buffer_file", (s, v) => s with { BufferFile = v }),
            Option("sample-steps", "N", "SGLD steps of 'sample' from noise (default 100 for images, 1000 for points)", "sample_steps", (s, v) => s with { SampleSteps = MethodOption.Integer(v, "ebm.sample_steps") }),
        ],
        Resolve = (c, data, _) => Resolve(c, data),
        Create = (c, shape) => new EbmMethod(c, shape),
        Bf16Refusal = "its sampler differentiates the energy through the network",
        FromLegacy = root => LegacyConfig.Section(root, "ebm"),
    };

    static MethodOption Option(string name, string? value, string help, string field, Func<EbmConfig, string, EbmConfig> apply) =>
        MethodOption.For(name, value, help, "ebm." + field, apply);

    /// <summary>
    /// The toy 2-D sets: the runs measured in docs/methods/ebm.md (1500 steps, batch 128, width 128). Fashion-MNIST: the MNIST
    /// recipe of Lippe's UvA tutorial 8 — the strided CNN without spectral norm, SGLD 60 steps of α = 10 on ∇E clipped to
    /// ±0.03 with σ = 0.005 and states clamped to [−1, 1], a replay buffer of 8192 with 5% re-initialisation, α_reg = 0.1, data
    /// noise 0.005, Adam 1e-4 with β = (0, 0.999), gradient norm clipped to 0.1, batch 128, no EMA (samples come from the
    /// trained weights); sampling runs 256 SGLD steps from noise.
    /// </summary>
    static TrainConfig Recipe(string data)
    {
        var c = new TrainConfig { Settings = new EbmConfig() };
        if (Data.Toy2D.Names.Contains(data)) return c with { Steps = 1500, BatchSize = 128, Network = c.Network with { Width = 128 } };
        if (!data.StartsWith("fashion-mnist", StringComparison.Ordinal)) return c;
        return c with
        {
            Steps = 1000, BatchSize = 128, LearningRate = 1e-4, AdamBeta1 = 0, AdamBeta2 = 0.999, GradClip = 0.1, EmaDecay = 0,
            CheckpointEvery = 100, SampleEvery = 100,
            Settings = new EbmConfig
            {
                EnergyNet = "strided", SpectralNorm = false, SgldSteps = 60, SgldStepSize = 10, SgldGradClip = 0.03, SgldNoise = 0.005,
                SgldClamp = true, BufferSize = 8192, EnergyRegularizer = 0.1, DataNoise = 0.005, SampleSteps = 256,
            },
        };
    }

    public EbmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _e = config.SettingsAs<EbmConfig>();
        if (_e.InitLow is null || _e.InitHigh is null || _e.SpectralNorm is null || _e.SampleSteps is null) throw new InvalidOperationException("EBM settings must be resolved before building the method");
        var net = EnergyNetworks.Build(itemShape, config.Network, _e.EnergyNet, _e.SpectralNorm.Value, "ebm");
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
        var e = config.SettingsAs<EbmConfig>();
        e.Validate();
        var (lo, hi) = EnergyStart.BoxOf(data);
        bool image = data.dim() == 4;
        return config with { Settings = e with { InitLow = e.InitLow ?? lo, InitHigh = e.InitHigh ?? hi,
            SpectralNorm = e.SpectralNorm ?? image, SampleSteps = e.SampleSteps ?? (image ? 100 : 1000) } };
    }

    Tensor Uniform(long[] shape, Generator gen, Device device) => EnergyStart.Uniform(shape, _e.InitLow!.Value, _e.InitHigh!.Value, gen, device);


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
            throw new TrainingDivergedException($"training stopped: the energy magnitude reached {maxAbs:G3} (the energy limit is {_e.EnergyLimit:G3}); raise the energy regularisation or lower the learning rate");
        LastEnergies = (ePos.mean().item<float>(), eNeg.mean().item<float>());
        // L = E(x⁺) − E(x⁻) + α_reg (E(x⁺)² + E(x⁻)²)  (Du & Mordatch 2019, Eq. 2 + §3.3)
        return ePos.mean() - eNeg.mean() + _e.EnergyRegularizer * (ePos.square().mean() + eNeg.square().mean());
    }

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        string name = sampler?.Name ?? "sgld";
        if (!SamplerNames.Contains(name)) throw SamplingRefusals.Sampler("an EBM", string.Join(", ", SamplerNames), name);
        int steps = sampler?.Steps ?? _e.SampleSteps!.Value;
        if (steps < 1) throw new SettingException("steps", steps, "must be ≥ 1");
        var r = (name == "esh" ? MethodSamplers.Esh : MethodSamplers.Sgld).Read(sampler?.Steps, sampler?.Options);
        string start = r.Get(MethodSamplers.Start);
        var sgld = SgldSettings with
        {
            StepSize = r.GetOr(MethodSamplers.SgldStepSize, _e.SgldStepSize),
            FinalStepSize = r.Has(MethodSamplers.SgldFinalStepSize) ? r.Get(MethodSamplers.SgldFinalStepSize) : null,
        };
        using var scope = NewDisposeScope();
        Model.eval();
        var device = Device;
        long[] shape = [n, .. ItemShape];
        Tensor x;
        if (start == "buffer")
        {
            // n distinct persistent chains of the replay buffer (IGEBM §3.1), continued by the sampler
            var buffer = Replay;
            if (noise is not null) throw SettingException.Sentence("noise", null, "does not apply when the chains start at the replay buffer (they start at its rows)");
            if (n > buffer.shape[0]) throw SettingException.Sentence(MethodSamplers.Start.Setting, start, $"{start}: the run's replay buffer holds {buffer.shape[0]} chains; ask for at most {buffer.shape[0]} samples");
            using (no_grad()) x = buffer.index_select(0, randperm(buffer.shape[0], generator: gen, device: buffer.device)[..n]).to(device);
        }
        else x = EnergyStart.ForSampling(shape, noise, _e.InitLow!.Value, _e.InitHigh!.Value, gen, device);
        onFrame?.Invoke(x);
        x = name == "esh" ? Esh(x, steps, gen) : EnergySamplers.Sgld(Model.forward, x, steps, sgld, gen, k => onStep?.Invoke(k, steps));
        using (no_grad()) return x.detach().cpu().MoveToOuterDisposeScope();
    }

}
