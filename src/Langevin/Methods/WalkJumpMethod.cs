using Langevin.Mcmc;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Multimeasurement generative model with walk-jump sampling (Saremi &amp; Hyvärinen 2021, "Multimeasurement generative
/// models"): learn x̂(y) = E[x | y] for M noisy copies y_m = x + σ ε_m by least squares; walk by underdamped Langevin
/// (BAOAB) on the smoother M-density p(y) with the score (x̂(y) − y_m)/σ²; jump to x̂(y). One chain emits one sample per jump.
/// </summary>
public sealed class WalkJumpMethod : IGenerativeMethod
{
    public TrainConfig Config { get; }
    public long[] ItemShape { get; }
    public MultimeasurementDenoiser Denoiser { get; }
    public nn.Module Network => Denoiser.Network;
    public IReadOnlyList<string> SamplerNames { get; } = ["walk-jump"];
    public Device Device => Network.parameters().First().device;

    /// <summary>NFE of one jump: the walk steps between jumps plus the jump itself.</summary>
    public int FunctionEvaluations => Config.WalkJump.WalkSteps + 1;

    public double StepSize => Config.WalkJump.StepSize ?? 0.5 * Config.WalkJump.Sigma;
    public double Friction => Config.WalkJump.Friction ?? 1 / Config.WalkJump.Sigma;

    public WalkJumpMethod(TrainConfig config, long[] itemShape)
    {
        config.WalkJump.Validate();
        Config = config;
        ItemShape = itemShape;
        Denoiser = new MultimeasurementDenoiser(Networks.Create(config.Network, itemShape), config.WalkJump.Measurements, config.WalkJump.Sigma);
    }

    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen)
    {
        config.WalkJump.Validate();
        return config;
    }

    public Tensor Loss(Tensor batch, Generator gen) => MultimeasurementLeastSquares.Loss(Denoiser, batch, gen);

    /// <summary>
    /// n consecutive jumps of ONE chain ([n, …ItemShape]). Steps (if given) sets the walk steps between jumps.
    /// <paramref name="noise"/>, if given, is [n, …ItemShape]; its first item starts the chain at y_m = σ·noise for all m.
    /// </summary>
    public Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "walk-jump")
            throw new UsageException($"--sampler: a walk-jump model samples with: walk-jump (got '{name}')");
        if (sampler?.Options is { Count: > 0 } options)
            throw new UsageException($"--{options.Keys.First()}: the walk-jump sampler takes no such option");
        int walk = sampler?.Steps ?? Config.WalkJump.WalkSteps;
        if (walk < 1) throw new UsageException($"--steps: walk-jump needs ≥ 1 walk step per jump (got {walk})");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var device = Device;
        int m = Denoiser.Measurements;
        double sigma = Denoiser.Sigma;
        long[] yShape = [1, m, .. ItemShape];
        var start = noise is null ? zeros([1, 1, .. ItemShape], device: device) : sigma * noise[0].to(float32).to(device).unsqueeze(0).unsqueeze(0);
        var q = start + sigma * randn(yShape, generator: gen, device: device);   // y_m = x₀ + σ ε_m
        var p = randn(yShape, generator: gen, device: device);
        var score = Denoiser.Score(q);
        var kernel = new BaoabIntegrator(Denoiser.Score, StepSize, Friction);
        var jumps = new List<Tensor>(n);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < walk; k++) kernel.Step(ref q, ref p, ref score, gen);
            var x = Denoiser.Estimate(q);                                        // jump: x̂(y)
            // progress on the scale of one sample's cost (walk + 1 NFE), which the chain spends n times in sequence
            onStep?.Invoke((int)((long)(i + 1) * (walk + 1) / n), walk + 1);
            onFrame?.Invoke(x);
            jumps.Add(x);
        }
        return cat(jumps, 0).cpu().MoveToOuterDisposeScope();
    }

    public void Dispose() => Network.Dispose();
}
