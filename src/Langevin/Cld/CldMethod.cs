using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.Cld;

/// <summary>
/// CLD-SGM (Dockhorn, Vahdat &amp; Kreis 2022): critically-damped Langevin diffusion on (x, v), a velocity-score network
/// trained by hybrid score matching, sampled by SSCS, Euler–Maruyama or the probability-flow ODE (fixed-step RK4 or adaptive RK45).
/// The network sees [x, v] (twice the data's channels) and the time.
/// </summary>
public sealed class CldMethod : SingleNetworkMethod, ISamplingReport, ILikelihoodBoundMethod
{
    readonly HybridScoreMatching _objective;

    public CriticallyDampedLangevin Process { get; }
    public CldScoreModel ScoreModel { get; }
    public override nn.Module Network => ScoreModel.Network;
    public override IReadOnlyList<string> SamplerNames => CldSamplers.Names;
    public override int FunctionEvaluations => CldSamplers.FunctionEvaluations(Settings.Sampler, Settings.SamplerSteps);

    /// <summary>For ode-rk45 (adaptive) this is 0 before a run and the last run's NFE after it.</summary>
    public override int FunctionEvaluationsWith(SamplerSettings? settings) => (settings?.Name ?? Settings.Sampler) == "ode-rk45"
        ? _lastRk45Evaluations
        : CldSamplers.FunctionEvaluations(settings?.Name ?? Settings.Sampler, settings?.Steps ?? Settings.SamplerSteps);

    int _lastRk45Evaluations;

    public static readonly MethodRegistration Registration = new()
    {
        Name = "cld",
        Summary = "critically-damped Langevin diffusion (CLD-SGM): hybrid score matching on (x, v), SSCS / EM / probability-flow ODE",
        MethodType = typeof(CldMethod),
        ConfigType = typeof(CldConfig),
        DefaultConfig = () => new CldConfig(),
        Recipe = data => DiffusionMethod.ToyRecipe(new CldConfig(), data, steps: 20_000),
        Options =
        [
            MethodOption.For<CldConfig>("mass", "M", "velocity mass M > 0 (Γ = 2√M; default 0.25)", "cld.mass", (s, v) => s with { Mass = MethodOption.Number(v, "cld.mass") }),
            MethodOption.For<CldConfig>("beta", "X", "time scaling β > 0 (default 4)", "cld.beta", (s, v) => s with { Beta = MethodOption.Number(v, "cld.beta") }),
            MethodOption.For<CldConfig>("velocity-var", "G", "initial velocity variance as a fraction γ of M (default 0.04)", "cld.velocity_variance", (s, v) => s with { VelocityVariance = MethodOption.Number(v, "cld.velocity_variance") }),
            MethodOption.For<CldConfig>("hsm-weighting", "eps|likelihood", "hybrid score matching weighting (default eps)", "cld.weighting", (s, v) => s with { Weighting = v }),
            MethodOption.For<CldConfig>("sample-steps", "N", "steps of the own sampler (SSCS, default 100) for previews and 'sample' without --steps", "cld.sampler_steps", (s, v) => s with { SamplerSteps = MethodOption.Integer(v, "cld.sampler_steps") }),
        ],
        Resolve = (c, data, gen) => Resolve(c, data, gen),
        Create = (c, shape) => new CldMethod(c, shape),
        FromLegacy = root => LegacyConfig.Section(root, "cld"),
    };

    public CldConfig Settings { get; }

    public CldMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var c = Settings = config.SettingsAs<CldConfig>();
        c.Validate();
        Process = new CriticallyDampedLangevin(c.Mass, c.Beta, c.VelocityVariance, c.NumericalEps);
        _objective = new HybridScoreMatching(c.Weighting, c.TrainMinTime);
        long[] stateShape = [2 * itemShape[0], .. itemShape[1..]];              // u = [x, v] along the first axis
        ScoreModel = new CldScoreModel(Networks.Create(config.Network, stateShape), Process, c.MixedScore);
    }

    /// <summary>Nothing is resolved from the data; the settings are checked before training starts.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen)
    {
        var c = config.SettingsAs<CldConfig>();
        c.Validate();
        _ = new CriticallyDampedLangevin(c.Mass, c.Beta, c.VelocityVariance, c.NumericalEps);
        _ = new HybridScoreMatching(c.Weighting, c.TrainMinTime);
        return config;
    }

    public override Tensor Loss(Batch batch, Generator gen) => _objective.Loss(ScoreModel, batch.X, gen);

    /// <summary>
    /// Samples with <paramref name="sampler"/>'s name and steps (defaults: the config's). <paramref name="noise"/>, if
    /// given, is the prior's x ~ N(0, I) of shape [n, …ItemShape]; the velocity is drawn from N(0, M I).
    /// </summary>
    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        string name = sampler?.Name ?? Settings.Sampler;
        if (!CldSamplers.Names.Contains(name))
            throw SamplingRefusals.Sampler("a CLD model", string.Join(", ", CldSamplers.Names), name);
        MethodSamplers.Of("cld").First(s => s.Name == name).Read(sampler?.Steps, sampler?.Options);
        int steps = sampler?.Steps ?? Settings.SamplerSteps;
        var times = CldSamplers.Times(steps, Settings.SampleMinTime);
        LastSampling = null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var device = Device;
        long[] shape = [n, .. ItemShape];
        var u = Process.SamplePrior(n, ItemShape, gen, device);
        if (noise is not null)
        {
            if (!noise.shape.SequenceEqual(shape))
                throw SamplingRefusals.NoiseShape(noise.shape, shape);
            u = cat([noise.to(float32).to(device), CriticallyDampedLangevin.Split(u).V], 1);
        }
        onFrame?.Invoke(CriticallyDampedLangevin.Split(u).X);
        var result = name switch
        {
            "sscs" => CldSamplers.Sscs(ScoreModel, u, times, gen, onStep, onFrame),
            "em" => CldSamplers.EulerMaruyama(ScoreModel, u, times, gen, onStep, onFrame),
            "ode" => CldSamplers.ProbabilityFlow(ScoreModel, u, times, onStep, onFrame),
            _ => Rk45(u, onStep),
        };
        return CriticallyDampedLangevin.Split(result).X.cpu().MoveToOuterDisposeScope();
    }

    public double DefaultMinTime => Settings.TrainMinTime;

    public CldProbabilityFlowLikelihood.Bound LogDensityBound(Tensor x, double minTime, Likelihood.TraceEstimator estimator, int probes,
        double rtol, double atol, Generator gen, Action<int>? onEvaluation) =>
        new CldProbabilityFlowLikelihood(minTime, estimator, probes, rtol, atol).LogDensityBound(ScoreModel, x, gen, onEvaluation);

    public double BoundEntropy(long dims) => CldProbabilityFlowLikelihood.VelocityEntropy(Process, dims);

    /// <summary>After an ode-rk45 run: its NFE (adaptive); null after the fixed-step samplers, whose NFE is their step count.</summary>
    public string? LastSampling { get; private set; }

    Tensor Rk45(Tensor u, Action<int, int>? onStep)
    {
        var (result, evaluations) = CldSamplers.ProbabilityFlowRk45(ScoreModel, u, Settings.SampleMinTime, onStep: onStep);
        _lastRk45Evaluations = evaluations;
        LastSampling = $"ode-rk45: adaptive (rtol 1e-05, atol 1e-05), NFE {evaluations}";
        return result;
    }

}
