using System.Collections.Immutable;

namespace Langevin.Samplers;

/// <summary>
/// What <c>langevin sample --sampler NAME</c> asks for: a sampler, a step count (null: the sampler's default) and the options
/// given, by name. An option not given takes the sampler's default; giving one the sampler does not take is an error
/// (<see cref="SamplerCatalog.Check"/>). Set options typed, <c>SamplerRequest.For("ddim").With(SamplerOptions.DdimEta, 0.5)</c>,
/// or through the shorthands of the catalog's options, <c>new SamplerRequest { Sampler = "ddim", Eta = 0.5 }</c>.
/// </summary>
public sealed record SamplerRequest
{
    ImmutableDictionary<string, object> _given = ImmutableDictionary.Create<string, object>(StringComparer.Ordinal);

    public string Sampler { get; init; } = "ddim";
    public int? Steps { get; init; }

    /// <summary>The options given, by name (their values typed as the option declares).</summary>
    public IReadOnlyDictionary<string, object> Given => _given;

    public static SamplerRequest For(string sampler, int? steps = null) => new() { Sampler = sampler, Steps = steps };

    public SamplerRequest With<T>(SamplerOption<T> option, T value) where T : notnull => With(option.Name, value);

    /// <summary>Sets an option by name with a value of its declared type (as <see cref="SamplerOption.Parse"/> returns it).</summary>
    public SamplerRequest With(string name, object value) => this with { _given = _given.SetItem(name, value) };

    public SamplerRequest Without(string name) => this with { _given = _given.Remove(name) };

    public bool Has(SamplerOption option) => _given.ContainsKey(option.Name);

    /// <summary>The option's value, or the default the option declares.</summary>
    public T Get<T>(SamplerOption<T> option) where T : notnull => _given.TryGetValue(option.Name, out var v) ? (T)v : option.Default;

    /// <summary>The option's value, or <paramref name="fallback"/> (for defaults that depend on the run, e.g. a process's σ range).</summary>
    public T GetOr<T>(SamplerOption<T> option, T fallback) where T : notnull => _given.TryGetValue(option.Name, out var v) ? (T)v : fallback;

    public bool Equals(SamplerRequest? other) => other is not null && Sampler == other.Sampler && Steps == other.Steps
        && _given.Count == other._given.Count && _given.All(kv => other._given.TryGetValue(kv.Key, out var v) && Equals(kv.Value, v));

    public override int GetHashCode() => HashCode.Combine(Sampler, Steps, _given.Count);

    // Typed shorthands for the catalog's options, null when not given.
    /// <summary>vp (diffusers' discrete VP table), edm (Karras σ's) or ve (NCSN's geometric σ's).</summary>
    public string? Process { get => Text(SamplerOptions.Process); init => Put(SamplerOptions.Process, value); }
    public string? Betas { get => Text(SamplerOptions.Betas); init => Put(SamplerOptions.Betas, value); }
    public string? Spacing { get => Text(SamplerOptions.Spacing); init => Put(SamplerOptions.Spacing, value); }
    public int? StepsOffset { get => Value(SamplerOptions.StepsOffset); init => Put(SamplerOptions.StepsOffset, value); }
    public bool? SetAlphaToOne { get => Value(SamplerOptions.SetAlphaToOne); init => Put(SamplerOptions.SetAlphaToOne, value); }
    public bool? Karras { get => Value(SamplerOptions.Karras); init => Put(SamplerOptions.Karras, value); }
    public bool? ClipSample { get => Value(SamplerOptions.ClipSample); init => Put(SamplerOptions.ClipSample, value); }
    public double? Eta { get => Value(SamplerOptions.DdimEta); init => Put(SamplerOptions.DdimEta, value); }
    public double? Churn { get => Value(SamplerOptions.Churn); init => Put(SamplerOptions.Churn, value); }
    public double? SNoise { get => Value(SamplerOptions.SNoise); init => Put(SamplerOptions.SNoise, value); }
    public double? Snr { get => Value(SamplerOptions.Snr); init => Put(SamplerOptions.Snr, value); }
    public int? CorrectorSteps { get => Value(SamplerOptions.CorrectorSteps); init => Put(SamplerOptions.CorrectorSteps, value); }
    public bool? RoundTimesteps { get => Value(SamplerOptions.RoundTimesteps); init => Put(SamplerOptions.RoundTimesteps, value); }
    public double? Rtol { get => Value(SamplerOptions.Rtol); init => Put(SamplerOptions.Rtol, value); }
    public double? Atol { get => Value(SamplerOptions.Atol); init => Put(SamplerOptions.Atol, value); }
    /// <summary>DDPM's variance: fixed-small (β̃_t), fixed-large (β_t) or learned (improved DDPM, a model trained with the hybrid loss).</summary>
    public string? Variance { get => Text(SamplerOptions.Variance); init => Put(SamplerOptions.Variance, value); }
    public int? Order { get => Value(SamplerOptions.LmsOrder); init => Put(SamplerOptions.LmsOrder, value); }
    public double? SigmaMin { get => Value(SamplerOptions.SigmaMin); init => Put(SamplerOptions.SigmaMin, value); }
    public double? SigmaMax { get => Value(SamplerOptions.SigmaMax); init => Put(SamplerOptions.SigmaMax, value); }
    public double? Rho { get => Value(SamplerOptions.Rho); init => Put(SamplerOptions.Rho, value); }
    public int? StepsPerLevel { get => Value(SamplerOptions.StepsPerLevel); init => Put(SamplerOptions.StepsPerLevel, value); }
    public double? StepSize { get => Value(SamplerOptions.AldStepSize); init => Put(SamplerOptions.AldStepSize, value); }

    T? Value<T>(SamplerOption<T> option) where T : struct => _given.TryGetValue(option.Name, out var v) ? (T)v : null;
    string? Text(SamplerOption<string> option) => _given.TryGetValue(option.Name, out var v) ? (string)v : null;
    void Put(SamplerOption option, object? value) => _given = value is null ? _given.Remove(option.Name) : _given.SetItem(option.Name, value);
}
