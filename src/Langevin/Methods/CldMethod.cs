using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// CLD-SGM (Dockhorn, Vahdat &amp; Kreis 2022): critically-damped Langevin diffusion on (x, v), a velocity-score network
/// trained by hybrid score matching, sampled by SSCS, Euler–Maruyama or the probability-flow ODE (fixed-step RK4 or adaptive RK45).
/// The network sees [x, v] (twice the data's channels) and the time.
/// </summary>
public sealed class CldMethod : SingleNetworkMethod, ISamplingReport
{
    readonly HybridScoreMatching _objective;

    public CriticallyDampedLangevin Process { get; }
    public CldScoreModel ScoreModel { get; }
    public override nn.Module Network => ScoreModel.Network;
    public override IReadOnlyList<string> SamplerNames => CldSamplers.Names;
    public override int FunctionEvaluations => CldSamplers.FunctionEvaluations(Config.Cld.Sampler, Config.Cld.SamplerSteps);

    /// <summary>For ode-rk45 (adaptive) this is 0 before a run and the last run's NFE after it.</summary>
    public override int FunctionEvaluationsWith(SamplerSettings? settings) => (settings?.Name ?? Config.Cld.Sampler) == "ode-rk45"
        ? _lastRk45Evaluations
        : CldSamplers.FunctionEvaluations(settings?.Name ?? Config.Cld.Sampler, settings?.Steps ?? Config.Cld.SamplerSteps);

    int _lastRk45Evaluations;

    public CldMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var c = config.Cld;
        c.Validate();
        Process = new CriticallyDampedLangevin(c.Mass, c.Beta, c.VelocityVariance, c.NumericalEps);
        _objective = new HybridScoreMatching(c.Weighting, c.TrainMinTime);
        long[] stateShape = [2 * itemShape[0], .. itemShape[1..]];              // u = [x, v] along the first axis
        ScoreModel = new CldScoreModel(Networks.Create(config.Network, stateShape), Process, c.MixedScore);
    }

    /// <summary>Nothing is resolved from the data; the settings are checked before training starts.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen)
    {
        config.Cld.Validate();
        _ = new CriticallyDampedLangevin(config.Cld.Mass, config.Cld.Beta, config.Cld.VelocityVariance, config.Cld.NumericalEps);
        _ = new HybridScoreMatching(config.Cld.Weighting, config.Cld.TrainMinTime);
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
        string name = sampler?.Name ?? Config.Cld.Sampler;
        if (!CldSamplers.Names.Contains(name))
            throw new UsageException($"--sampler: a CLD model samples with: {string.Join(", ", CldSamplers.Names)} (got '{name}')");
        if (sampler?.Options is { Count: > 0 } options)
            throw new UsageException($"--{options.Keys.First()}: CLD samplers take no such option");
        if (name == "ode-rk45" && sampler?.Steps is not null)
            throw new UsageException("--steps does not apply to ode-rk45: its step count is adaptive (tolerances 1e-5)");
        int steps = sampler?.Steps ?? Config.Cld.SamplerSteps;
        var times = CldSamplers.Times(steps, Config.Cld.SampleMinTime);
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
                throw new UsageException($"--noise: shape [{string.Join(", ", noise.shape)}] does not match the model's samples [{string.Join(", ", shape)}]");
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

    /// <summary>After an ode-rk45 run: its NFE (adaptive); null after the fixed-step samplers, whose NFE is their step count.</summary>
    public string? LastSampling { get; private set; }

    Tensor Rk45(Tensor u, Action<int, int>? onStep)
    {
        var (result, evaluations) = CldSamplers.ProbabilityFlowRk45(ScoreModel, u, Config.Cld.SampleMinTime, onStep: onStep);
        _lastRk45Evaluations = evaluations;
        LastSampling = $"ode-rk45: adaptive (rtol 1e-05, atol 1e-05), NFE {evaluations}";
        return result;
    }

}
