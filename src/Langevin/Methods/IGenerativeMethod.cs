using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// A trainable generative method as the trainer and the CLI see it: a network, a loss on a data batch, and a
/// sampler. Every method (NCSN now; DDPM, EBMs, … later) plugs into the one trainer through this.
/// </summary>
public interface IGenerativeMethod : IDisposable
{
    /// <summary>The configuration with every automatic setting resolved (what config.json records).</summary>
    TrainConfig Config { get; }

    /// <summary>Shape of one data item, e.g. [2] or [1, 28, 28].</summary>
    long[] ItemShape { get; }

    nn.Module Network { get; }

    /// <summary>The scalar training loss on a batch of data.</summary>
    Tensor Loss(Tensor batch, Generator gen);

    /// <summary>Network evaluations one sample costs.</summary>
    int FunctionEvaluations { get; }

    /// <summary>Network evaluations one sample costs with these sampler settings (a method whose cost depends on --steps overrides it).</summary>
    int FunctionEvaluationsWith(SamplerSettings? settings) => FunctionEvaluations;

    /// <summary>
    /// Draws samples in data space ([n, ...ItemShape], returned on the CPU). <paramref name="noise"/>, if given, is the unit Gaussian
    /// noise that starts the chain, shape [n, ...ItemShape]; the sampler scales it by its initial σ.
    /// <paramref name="onStep"/> reports (done, total) network evaluations; <paramref name="onFrame"/> receives
    /// intermediate states (in data space) for a trajectory picture.
    /// </summary>
    Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null);

    /// <summary>The samplers <c>langevin sample --sampler NAME</c> accepts for this method; the first is the default.</summary>
    IReadOnlyList<string> SamplerNames { get; }
}

/// <summary>
/// A method whose model is a denoiser D(x, σ) in the σ-frame over a diffusion process (NCSN, DDPM, EDM): every sampler of
/// <see cref="Langevin.Samplers.SamplerCatalog"/> can run on it (<c>langevin sample --run RUN --sampler NAME</c>).
/// </summary>
public interface IDenoisingMethod : IGenerativeMethod
{
    Langevin.Models.IScoreModel Denoiser { get; }
    Langevin.Samplers.SamplingProcess Process { get; }

    /// <summary>Maps a sampler's output to data space (e.g. clamps images to [−1, 1]).</summary>
    Tensor ToData(Tensor x);
}

/// <summary>
/// What <c>langevin sample</c> asks of a method's sampler: a name (null: the method's default), a step count (null: the
/// method's default) and sampler-specific options keyed by their CLI names without dashes (e.g. "eta" → "0.5").
/// A method rejects a name or option it does not know with a <see cref="UsageException"/> naming the option.
/// </summary>
public sealed record SamplerSettings(string? Name = null, int? Steps = null, IReadOnlyDictionary<string, string>? Options = null)
{
    public string? Option(string key) => Options is not null && Options.TryGetValue(key, out var v) ? v : null;

    /// <summary>The option as a positive finite number (null when not given); anything else is a one-line usage error.</summary>
    public double? PositiveOption(string key, string what) => Option(key) is not { } text ? null
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v
        : throw new UsageException($"--{key}: {what} must be a positive number (got '{text}')");
}

/// <summary>A method with numbers worth logging beside the loss (e.g. an EBM's mean energies), written to log.jsonl.</summary>
public interface ITrainingDiagnostics
{
    /// <summary>Name → value after the last <see cref="IGenerativeMethod.Loss"/>, names in snake_case.</summary>
    IReadOnlyDictionary<string, double> LastDiagnostics { get; }
}

/// <summary>A method whose sampler has something to say after a run (e.g. its measured cost), one line for the CLI.</summary>
public interface ISamplingReport
{
    string? LastSampling { get; }
}
