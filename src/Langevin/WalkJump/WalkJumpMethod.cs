using Langevin.Energy;
using Langevin.Mcmc;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.WalkJump;

/// <summary>
/// Multimeasurement generative model with walk-jump sampling (Saremi &amp; Srivastava 2022, "Multimeasurement generative
/// models"; walk-jump: Saremi &amp; Hyvärinen 2019): learn x̂(y) = E[x | y] for M noisy copies y_m = x + σ ε_m by least
/// squares, as a denoiser or as the gradient of an energy; walk by underdamped Langevin (BAOAB) on the smoother M-density
/// p(y) with the score (x̂(y) − y_m)/σ²; jump to x̂(y). One chain emits one sample per jump.
/// </summary>
public sealed class WalkJumpMethod : SingleNetworkMethod
{
    public MultimeasurementEstimator Estimator { get; }
    public override nn.Module Network => Estimator.Network;
    public override IReadOnlyList<string> SamplerNames { get; } = ["walk-jump"];

    /// <summary>NFE of one jump: the walk steps between jumps plus the jump itself (as last sampled, else the run's).
    /// With the energy parameterisation each evaluation is a forward and a backward pass.</summary>
    public override int FunctionEvaluations => Settings.WalkSteps + 1;

    public override int FunctionEvaluationsWith(SamplerSettings? settings) => (settings?.Steps ?? Settings.WalkSteps) + 1;

    public double StepSize => Settings.StepSize ?? 0.5 * Settings.Sigma;
    public double Friction => Settings.Friction ?? 1 / Settings.Sigma;

    public static readonly MethodRegistration Registration = new()
    {
        Name = "walkjump",
        Summary = "multimeasurement models with walk-jump sampling: x̂(y) from M noisy copies, a BAOAB walk, jumps to x̂",
        MethodType = typeof(WalkJumpMethod),
        ConfigType = typeof(WalkJumpConfig),
        DefaultConfig = () => new WalkJumpConfig(),
        Options =
        [
            MethodOption.For<WalkJumpConfig>("m", "M", "number of noisy measurements M ≥ 1 (default 4)", "walkjump.measurements", (s, v) => s with { Measurements = MethodOption.Integer(v, "walkjump.measurements") }),
            MethodOption.For<WalkJumpConfig>("sigma", "X", "measurement noise σ > 0 (default 1)", "walkjump.sigma", (s, v) => s with { Sigma = MethodOption.Number(v, "walkjump.sigma") }),
            MethodOption.For<WalkJumpConfig>("walkjump-param", "denoiser|energy", "x̂ = ȳ + (σ/√M)F(ȳ) from a denoiser network (default), or x̂ = ȳ − (σ²/M)∇f(ȳ) from a scalar energy (EBM network, autograd)", "walkjump.parameterisation", (s, v) => s with { Parameterisation = v }),
        ],
        Create = (c, shape) => new WalkJumpMethod(c, shape),
        FromLegacy = root => LegacyConfig.Section(root, "walk_jump"),
    };

    public WalkJumpConfig Settings { get; }

    public WalkJumpMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        Settings = config.SettingsAs<WalkJumpConfig>();
        Settings.Validate();
        var wj = Settings;
        Estimator = wj.Parameterisation == "energy"
            ? new MultimeasurementEnergy(CreateEnergy(config.Network, itemShape), wj.Measurements, wj.Sigma)
            : new MultimeasurementDenoiser(Networks.Create(config.Network, itemShape), wj.Measurements, wj.Sigma);
    }

    /// <summary>A scalar energy of ȳ with no noise input (one σ): the EBMs' networks without spectral normalisation.</summary>
    static nn.Module<Tensor, Tensor> CreateEnergy(NetworkConfig net, long[] itemShape) => Networks.IsImage(itemShape)
        ? new EnergyCnn((int)itemShape[0], net.BaseChannels, spectralNorm: false)
        : itemShape.Length == 1 ? new EnergyMlp((int)itemShape[0], net.Width, net.Depth, spectralNorm: false, net.FourierFeatures)
        : throw SettingException.Sentence("walkjump.parameterisation", "energy", $"energy needs points [N, D] or images [N, C, H, W] (got items of shape [{string.Join(", ", itemShape)}])");


    public override Tensor Loss(Batch batch, Generator gen) => MultimeasurementLeastSquares.Loss(Estimator, batch.X, gen);

    /// <summary>
    /// n consecutive jumps of ONE chain ([n, …ItemShape]). Steps (if given) sets the walk steps between jumps; the options
    /// step-size (BAOAB δ) and friction (γ) override the run's.
    /// <paramref name="noise"/>, if given, is [n, …ItemShape]; its first item starts the chain at y_m = σ·noise for all m.
    /// </summary>
    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "walk-jump")
            throw SamplingRefusals.Sampler("a walk-jump model", "walk-jump", name);
        var r = MethodSamplers.WalkJump.Read(sampler?.Steps, sampler?.Options);
        int walk = sampler?.Steps ?? Settings.WalkSteps;
        if (walk < 1) throw SettingException.About("steps", walk, $"walk-jump needs ≥ 1 walk step per jump (got {walk})");
        double stepSize = r.GetOr(MethodSamplers.WalkStepSize, StepSize), friction = r.GetOr(MethodSamplers.Friction, Friction);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var device = Device;
        int m = Estimator.Measurements;
        double sigma = Estimator.Sigma;
        long[] yShape = [1, m, .. ItemShape];
        var start = noise is null ? zeros([1, 1, .. ItemShape], device: device) : sigma * noise[0].to(float32).to(device).unsqueeze(0).unsqueeze(0);
        var q = start + sigma * randn(yShape, generator: gen, device: device);   // y_m = x₀ + σ ε_m
        var p = randn(yShape, generator: gen, device: device);
        var score = Estimator.Score(q);
        var kernel = new BaoabIntegrator(Estimator.Score, stepSize, friction);
        var jumps = new List<Tensor>(n);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < walk; k++) kernel.Step(ref q, ref p, ref score, gen);
            var x = Estimator.Estimate(q);                                       // jump: x̂(y)
            // progress on the scale of one sample's cost (walk + 1 NFE), which the chain spends n times in sequence
            onStep?.Invoke((int)((long)(i + 1) * (walk + 1) / n), walk + 1);
            onFrame?.Invoke(x);
            jumps.Add(x);
        }
        return cat(jumps, 0).cpu().MoveToOuterDisposeScope();
    }

}
