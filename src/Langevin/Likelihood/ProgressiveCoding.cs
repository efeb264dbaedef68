using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>A progressive-generation grid: rows = samples, columns = x̂₀ at <see cref="KeptSteps"/> of a <see cref="Steps"/>-step DDPM chain, then the sample (data space, CPU).</summary>
public sealed record ProgressiveGenerationGrid(Tensor Grid, int[] KeptSteps, int Steps) : IDisposable
{
    public void Dispose() => Grid.Dispose();
}

/// <summary>
/// DDPM's progressive coding of a run (Ho et al. 2020, §4.3): the rate–distortion curve along the sender's chain
/// (<see cref="RateDistortion"/>) with x̂₀ at evenly spaced t as a decompression grid (Fig. 7), and progressive generation, x̂₀
/// along a DDPM sampling chain (Fig. 6, <see cref="DiffusionTasks.ProgressiveGeneration"/>), both with the run's reverse
/// variance: as given, else learned for a run that learns it, else fixed-large (β_t).
/// </summary>
public sealed class ProgressiveCoding
{
    readonly double? _mix;

    public IDenoisingMethod Method { get; }
    public VpDiscreteSchedule Schedule { get; }

    /// <summary>fixed-large, fixed-small or learned.</summary>
    public string Variance { get; }

    /// <summary>Evaluate the model at every k-th timestep (and all t &lt; k, and T − 1) instead of all T (see <see cref="RateDistortion.Every"/>).</summary>
    public int Every { get; }

    ProgressiveCoding(IDenoisingMethod method, VpDiscreteSchedule schedule, string variance, double? mix, int every) =>
        (Method, Schedule, Variance, _mix, Every) = (method, schedule, variance, mix, every);

    /// <summary>For a method of the discrete VP process (a ddpm run); <paramref name="variance"/> null picks the run's default.</summary>
    public static ProgressiveCoding For(IGenerativeMethod method, string? variance = null, int every = 1)
    {
        if (method is IPriorStartedMethod || method is not IDenoisingMethod { Process: { Kind: SamplingProcess.Vp, Schedule: { } schedule } } denoising)
            throw new UsageException($"rate-distortion needs a model of the discrete VP process (a ddpm run); this is a {method.Config.Method} run");
        if (every < 1) throw new UsageException($"rate-distortion: evaluate every k-th timestep with k ≥ 1 (got {every})");
        bool learned = denoising.Denoiser is IVarianceModel;
        string v = variance ?? (learned ? "learned" : "fixed-large");
        return new ProgressiveCoding(denoising, schedule, v, VariationalBound.VarianceMixFor(v, learned, "variance"), every);
    }

    /// <summary>The curve's settings for images (the discretised decoder, distortion on [0, 255], x̂₀ clamped) or points.</summary>
    public RateDistortion RateDistortion(bool images) =>
        new(new VariationalBound(Schedule, images, VarianceMix: _mix), images ? 127.5 : 1, ClampDenoised: images, Every);

    /// <summary><paramref name="columns"/> (≥ 2) timesteps evenly spaced from T − 1 down to 0: the decompression grid's columns.</summary>
    public int[] SnapshotTimesteps(int columns) =>
        [.. Enumerable.Range(0, columns).Select(c => (int)Math.Round((Schedule.T - 1) * (1 - c / (double)(columns - 1))))];

    /// <summary>Network evaluations <see cref="Measure"/> spends.</summary>
    public int MeasureEvaluations(bool images, int columns) => RateDistortion(images).EvaluatedTimesteps(images ? SnapshotTimesteps(columns) : null).Length;

    /// <summary>
    /// The curve of <paramref name="x0"/> [N, ...] (data space); for images also x̂₀ of the first <paramref name="rows"/> items at
    /// <see cref="SnapshotTimesteps"/>(<paramref name="columns"/>). <paramref name="onProgress"/> counts network evaluations.
    /// </summary>
    public RateDistortionCurve Measure(Tensor x0, bool images, int rows, int columns, Generator gen, Action<int>? onProgress = null)
    {
        Method.Eval();
        var x = x0.to(float32).to(Method.Device());
        try
        {
            return RateDistortion(images).Measure(Method.Denoiser, x, gen, images ? SnapshotTimesteps(columns) : null, rows, (done, _) => onProgress?.Invoke(done));
        }
        finally
        {
            if (!ReferenceEquals(x, x0)) x.Dispose();
        }
    }

    /// <summary>Rows = the first items: x̂₀ at the curve's snapshot timesteps, then x₀ itself (data space, CPU).</summary>
    public static Tensor DecompressionGrid(RateDistortionCurve curve, Tensor x0)
    {
        using var original = x0.narrow(0, 0, curve.Snapshots[0].shape[0]).cpu();
        return ByRows([.. curve.Snapshots, original]);
    }

    /// <summary>The DDPM chain of progressive generation: <paramref name="steps"/> ancestral steps over linspace timesteps.</summary>
    public SamplingPlan GenerationPlan(int steps) =>
        SamplerCatalog.Plan(new SamplerRequest { Sampler = "ddpm", Steps = steps, Spacing = TimestepSpacing.Linspace }, Method.Process);

    /// <summary><paramref name="columns"/> steps evenly spaced from the first (0) to the last of a <paramref name="steps"/>-step chain.</summary>
    public static int[] KeptSteps(int steps, int columns) =>
        [.. Enumerable.Range(0, columns).Select(c => (int)Math.Round((steps - 1) * c / (double)(columns - 1)))];

    /// <summary>
    /// Progressive generation of <paramref name="rows"/> samples by a <paramref name="steps"/>-step DDPM chain from noise drawn from
    /// <paramref name="gen"/> (on the method's device), x̂₀ kept at <paramref name="columns"/> evenly spaced steps.
    /// </summary>
    public ProgressiveGenerationGrid Generate(int rows, int steps, int columns, Generator gen, Action<int>? onProgress = null)
    {
        if (steps < 1 || steps > Schedule.T) throw new UsageException($"progressive generation: steps must be in 1..T = {Schedule.T} (got {steps})");
        var plan = GenerationPlan(steps);
        int[] keep = KeptSteps(plan.Steps, columns);
        var variance = Variance switch { "learned" => DdpmVariance.Learned, "fixed-small" => DdpmVariance.FixedSmall, _ => DdpmVariance.FixedLarge };
        Method.Eval();
        using var z = randn([rows, .. Method.ItemShape], generator: gen, device: Method.Device());
        var (sample, predictions) = DiffusionTasks.ProgressiveGeneration(Method.Denoiser, z * plan.InitialScale, plan.Sigmas, gen, variance, keep,
            (done, _) => onProgress?.Invoke(done));
        try
        {
            using var scope = NewDisposeScope();
            return new ProgressiveGenerationGrid(ByRows([.. predictions.Select(t => t.clamp(-1, 1).cpu()), Method.ToData(sample).cpu()]).MoveToOuterDisposeScope(),
                keep, plan.Steps);
        }
        finally
        {
            sample.Dispose();
            foreach (var t in predictions) t.Dispose();
        }
    }

    /// <summary>Columns [R, ...] each → one batch [R·C, ...] in row-major order (row r holds item r of every column).</summary>
    static Tensor ByRows(Tensor[] columns)
    {
        using var scope = NewDisposeScope();
        var stacked = stack(columns, 1);                                                             // [R, C, ...]
        return stacked.reshape([-1, .. stacked.shape.Skip(2)]).MoveToOuterDisposeScope();
    }
}
