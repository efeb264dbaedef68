using Langevin.Data;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>How <see cref="ComposedSampling"/> draws from a product of energy models.</summary>
public enum CompositionSampler
{
    /// <summary>The first model's own sampler (SGLD, PGD) on Σ E_i from its own chain start: cold, so a chain stays in the well it falls into.</summary>
    Own,

    /// <summary>
    /// Annealed importance sampling of exp(−Σ E_i/T_i) (<see cref="AnnealedImportanceSampler"/>) from the first model's box:
    /// hot levels cross between wells and the weights give every well its mass.
    /// </summary>
    Annealed,
}

/// <summary>Settings of <see cref="ComposedSampling.Run"/>; null means the default named.</summary>
/// <param name="Steps">Own: the chain length (default: the first model's <see cref="IEnergyMethod.SampleSteps"/>).</param>
/// <param name="Temperatures">Annealed: T_i, one for every model or one each; a null entry (and a null list) is fitted by
/// <see cref="ComposedSampling.FitTemperatures"/>.</param>
/// <param name="Annealing">Annealed: levels, MALA moves and the rest of the ladder (default <see cref="AnnealingSettings"/>()).</param>
/// <param name="Particles">Annealed: particles annealed, then resampled to the n samples (default n).</param>
/// <param name="Quench">Annealed: afterwards, this many steps of the first model's own sampler on Σ E_i (T = 1), which drop every
/// sample to the bottom of the well the annealing chose.</param>
public sealed record ComposedSamplingSettings(CompositionSampler Sampler = CompositionSampler.Own, int? Steps = null,
    IReadOnlyList<double?>? Temperatures = null, AnnealingSettings? Annealing = null, int? Particles = null, int Quench = 0);

/// <summary>A model's temperature: given (<see cref="FitPoints"/> = 0) or fitted by maximum likelihood on <see cref="FitPoints"/> points of <see cref="FitData"/>.</summary>
public sealed record ModelTemperature(double Value, int FitPoints = 0, string? FitData = null)
{
    public bool Fitted => FitPoints > 0;
}

/// <summary>What an annealed composition did: the temperatures, its ladder and what <see cref="AnnealedImportanceSampler"/> measured.</summary>
public sealed record CompositionAnnealingReport(IReadOnlyList<double> Temperatures, AnnealingSettings Settings, int Particles, int Quench,
    double Ess, int Resamplings, double Acceptance, double LogNormaliser);

/// <summary>Samples of a composition ([n, ...], on the CPU; the caller disposes them), the own chain's length, or the annealing report.</summary>
public sealed record ComposedSamples(Tensor Samples, int? Steps, CompositionAnnealingReport? Annealing) : IDisposable
{
    public void Dispose() => Samples.Dispose();
}

/// <summary>
/// Sampling the product of energy models, p(x) ∝ Π_i exp(−E_i(x)) = exp(−Σ E_i(x)) (Du &amp; Mordatch 2019, §4.3, concept
/// conjunction), by the first model's own sampler or by annealed importance sampling of exp(−Σ E_i/T_i), each T_i given or
/// fitted to its model's training data (<see cref="EnergyTemperature"/>).
/// </summary>
public static class ComposedSampling
{
    /// <summary>Training points a fitted temperature is the maximum-likelihood fit on.</summary>
    public const int FitPoints = 10_000;

    /// <summary>Whether <see cref="FitTemperatures"/> can fit the model's temperature: by quadrature, so for 2-D points only.</summary>
    public static bool CanFitTemperature(IEnergyMethod model) => model.ItemShape is [2];

    /// <summary>
    /// One temperature per model: the given one (<paramref name="given"/> holds one for all models or one each), or, for a
    /// null entry, the maximum-likelihood T of exp(−E/T) on <see cref="FitPoints"/> points of the model's training data over its
    /// start box (<see cref="EnergyTemperature.MaximumLikelihood"/>), the data on <paramref name="device"/>.
    /// </summary>
    public static IReadOnlyList<ModelTemperature> FitTemperatures(IReadOnlyList<IEnergyMethod> models, IReadOnlyList<double?>? given, Device device)
    {
        given ??= [null];
        if (given.Count != 1 && given.Count != models.Count)
            throw new UsageException($"temperatures: give one for all {models.Count} models or one each (got {given.Count})");
        var result = new ModelTemperature[models.Count];
        for (int i = 0; i < models.Count; i++)
        {
            var m = models[i];
            if ((given.Count == 1 ? given[0] : given[i]) is double t)
            {
                if (!(t > 0) || double.IsInfinity(t)) throw new UsageException($"temperature of model {i + 1}: must be a positive number (got {t})");
                result[i] = new ModelTemperature(t);
                continue;
            }
            if (!CanFitTemperature(m))
                throw new UsageException($"a temperature is fitted for 2-D points only; model {i + 1} makes items [{string.Join(", ", m.ItemShape)}]: give its temperature");
            m.Eval();
            using var data = DataSources.Load(m.Config.Data, new DataOptions(Seed: m.Config.Seed, Limit: FitPoints));
            using var x = data.X.to(device);
            var (low, high) = m.StartRange;
            result[i] = new ModelTemperature(EnergyTemperature.MaximumLikelihood(m.Energy, x, low, high), (int)x.shape[0], m.Config.Data);
        }
        return result;
    }

    /// <summary>What <see cref="Run"/> reports progress in: chain steps (own) or annealing levels.</summary>
    public static int ProgressTotal(IEnergyMethod first, ComposedSamplingSettings s) =>
        s.Sampler == CompositionSampler.Own ? s.Steps ?? first.SampleSteps : (s.Annealing ?? new()).Levels;

    /// <summary>
    /// <paramref name="n"/> samples of exp(−Σ E_i) over <paramref name="models"/> (all of one item shape, on
    /// <paramref name="gen"/>'s device), the first model's sampler, start and box serving the composition.
    /// <paramref name="onProgress"/> counts chain steps (own) or levels (annealed).
    /// </summary>
    public static ComposedSamples Run(IReadOnlyList<IEnergyMethod> models, int n, ComposedSamplingSettings s, Generator gen, Action<int>? onProgress = null)
    {
        if (models.Count == 0) throw new ArgumentException("compose at least one energy model", nameof(models));
        if (n < 1) throw new UsageException($"the number of samples must be ≥ 1 (got {n})");
        var first = models[0];
        if (models.FirstOrDefault(m => !m.ItemShape.SequenceEqual(first.ItemShape)) is { } other)
            throw new UsageException($"composition: a {other.Config.Method} model over items [{string.Join(", ", other.ItemShape)}] does not compose with items [{string.Join(", ", first.ItemShape)}]");
        foreach (var m in models) m.Eval();
        var sum = EnergyComposition.Product([.. models.Select(m => (EnergyFunction)m.Energy)]);
        if (s.Sampler == CompositionSampler.Own)
        {
            if (s.Temperatures is not null || s.Annealing is not null || s.Particles is not null || s.Quench != 0)
                throw new UsageException("temperatures, annealing settings, particles and quench apply to the annealed composition sampler only");
            int steps = ProgressTotal(first, s);
            if (steps < 1) throw new UsageException($"the chain length must be ≥ 1 (got {steps})");
            using var start = first.InitialState(n, gen);
            using var x = first.Descend(sum, start, steps, gen, onProgress);
            return new ComposedSamples(x.detach().cpu(), steps, null);
        }
        if (s.Steps is not null) throw new UsageException("a chain length applies to the own composition sampler; the annealed one takes levels and MALA moves");
        var annealing = s.Annealing ?? new AnnealingSettings();
        annealing.Validate();
        int particles = s.Particles ?? n;
        if (particles < 1) throw new UsageException($"particles must be ≥ 1 (got {particles})");
        if (s.Quench < 0) throw new UsageException($"quench steps must be ≥ 0 (got {s.Quench})");
        double[] temperatures = [.. FitTemperatures(models, s.Temperatures, gen.device).Select(t => t.Value)];
        var tempered = EnergyComposition.Product([.. models.Select((m, i) => EnergyComposition.AtTemperature(m.Energy, temperatures[i]))]);
        var (low, high) = first.StartRange;
        using var particlesStart = first.InitialState(particles, gen);
        var r = AnnealedImportanceSampler.Run(tempered, particlesStart, low, high, n, annealing, gen, onProgress);
        Tensor samples;
        using (var annealed = r.Samples)
        {
            if (s.Quench == 0) samples = annealed.detach().cpu();
            else
            {
                using var x = first.Descend(sum, annealed, s.Quench, gen);
                samples = x.detach().cpu();
            }
        }
        return new ComposedSamples(samples, null,
            new CompositionAnnealingReport(temperatures, annealing, particles, s.Quench, r.Ess, r.Resamplings, r.Acceptance, r.LogNormaliser));
    }
}
