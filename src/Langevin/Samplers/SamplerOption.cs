using System.Globalization;

namespace Langevin.Samplers;

/// <summary>Which process an option is about: any, the discrete VP table only, or the σ range of the edm and ve processes.</summary>
public enum OptionProcess { Any, Vp, SigmaRange }

/// <summary>
/// One option a sampler takes, as <c>langevin sample</c> spells it (<c>--name value</c>): the value it takes (null for a
/// flag), its help, and how its text is read and checked. The catalog's samplers (<see cref="SamplerCatalog"/>) and the
/// methods' own samplers (<see cref="MethodSamplers"/>) declare their options with it; a request holds the values by
/// <see cref="Name"/>. Errors are one line naming the option as a setting (<see cref="Setting"/>) and the value
/// (<see cref="SettingException"/>).
/// </summary>
public abstract record SamplerOption(string Name, string? Value, string Help)
{
    /// <summary>The option as errors name it, a setting: <c>step-size</c> → <c>step_size</c>.</summary>
    public string Setting => SettingOf(Name);

    /// <summary>The setting an option name stands for in errors (<c>round-timesteps</c> → <c>round_timesteps</c>).</summary>
    public static string SettingOf(string name) => name.Replace('-', '_');

    /// <summary>
    /// Who the help line names: null names the samplers that take the option (with their defaults); a scope such as
    /// "vp process" stands instead when the option belongs to a process rather than to a few samplers.
    /// </summary>
    public string? Scope { get; init; }

    /// <summary>The process the option is about (a vp option on an edm run is refused, and the other way round).</summary>
    public OptionProcess Process { get; init; }

    public bool IsFlag => Value is null;

    /// <summary>The C# type of the value (int, double, bool or string).</summary>
    public abstract Type ValueType { get; }

    /// <summary>The default as the help shows it, or null when there is none to show.</summary>
    public abstract string? DefaultText { get; }

    /// <summary>
    /// The value of <c>--name TEXT</c> (a flag's text is "true" or "false"); a text it cannot read is a one-line error.
    /// A choice is checked here; a range is checked by <see cref="CheckValue"/>, once the sampler has accepted the option.
    /// </summary>
    public abstract object Parse(string text);

    /// <summary>Refuses a value outside the option's range with a one-line error.</summary>
    public abstract void CheckValue(object value);

    /// <summary>"setting must be … (got value)", the one shape of every option error.</summary>
    public SettingException Error(string mustBe, object value) => new(Setting, value, mustBe);

    public static SamplerOption<double> Number(string name, string value, string help) => new(name, value, help, OptionRules.Number);
    public static SamplerOption<int> Integer(string name, string value, string help) => new(name, value, help, OptionRules.Integer);

    /// <summary>A flag: <c>--name</c> alone is true; <c>--name false</c> sets it false. Default false.</summary>
    public static SamplerOption<bool> Flag(string name, string help) => new(name, null, help, OptionRules.Boolean) { Default = false };

    /// <summary>A boolean that takes its value (<c>--name true|false</c>).</summary>
    public static SamplerOption<bool> Boolean(string name, string help) => new(name, "true|false", help, OptionRules.Boolean);

    /// <summary>One of a few words, refused at reading and at checking ("betas must be one of: linear, cosine (got 'foo')").</summary>
    public static SamplerOption<string> Choice(string name, IReadOnlyList<string> allowed, string help) =>
        new(name, string.Join('|', allowed), help, OptionRules.OneOf(allowed))
        {
            Rule = new(allowed.Contains, OptionRules.OneOf(allowed).MustBe),
        };

    /// <summary>Free text, checked only by its rule (so that a wrong value is reported after the sampler accepted the option).</summary>
    public static SamplerOption<string> Text(string name, string value, string help) => new(name, value, help, OptionRules.Text);

    internal static string Format(object value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>
/// A typed <see cref="SamplerOption"/>. <see cref="Default"/> is what a sampler uses when the option is not given (a
/// sampler may bind its own, as <see cref="SamplerOptions.AncestralEta"/> does); <see cref="Rule"/> is its range.
/// Build one with <see cref="SamplerOption.Number"/>, <see cref="SamplerOption.Integer"/>, <see cref="SamplerOption.Flag"/>,
/// <see cref="SamplerOption.Boolean"/>, <see cref="SamplerOption.Choice"/> or <see cref="SamplerOption.Text"/>.
/// </summary>
public sealed record SamplerOption<T>(string Name, string? Value, string Help, OptionReader<T> Reader) : SamplerOption(Name, Value, Help)
    where T : notnull
{
    readonly T _default = default!;

    /// <summary>Whether the option has a constant default (an option without one is defaulted by the sampler from the run, e.g. ald's ε).</summary>
    public bool HasDefault { get; private init; }

    public T Default
    {
        get => HasDefault ? _default : throw new InvalidOperationException($"{Name} has no default; read it with GetOr");
        init { _default = value; HasDefault = true; }
    }

    /// <summary>The default in words, when it is not a constant ("NCSNv2 Technique 4"); shown instead of <see cref="Default"/>.</summary>
    public string? DefaultDescription { get; init; }

    public OptionRule<T>? Rule { get; init; }

    public override Type ValueType => typeof(T);

    public override string? DefaultText => DefaultDescription
        ?? (HasDefault && !(IsFlag && _default is false) ? Format(_default) : null);

    public override object Parse(string text) => Reader.TryRead(text, out var value) ? value : throw Error(Reader.MustBe, text);

    public override void CheckValue(object value)
    {
        if (value is not T typed) throw new ArgumentException($"{Name} takes a {typeof(T).Name}, not a {value.GetType().Name}", nameof(value));
        Check(typed);
    }

    /// <summary>Refuses a value outside <see cref="Rule"/> ("eta must be ≥ 0 (got -1)").</summary>
    public void Check(T value)
    {
        if (Rule is { } rule && !rule.Holds(value)) throw Error(rule.MustBe, value);
    }
}

/// <summary>How an option's text becomes a value, and what the text must be when it cannot ("must be a number").</summary>
public sealed record OptionReader<T>(OptionReader<T>.Reading TryRead, string MustBe)
{
    public delegate bool Reading(string text, out T value);
}

/// <summary>An option's range: the test, and what the value must be when it fails ("must be ≥ 0").</summary>
public sealed record OptionRule<T>(Func<T, bool> Holds, string MustBe);

/// <summary>The readers and rules options are built from.</summary>
public static class OptionRules
{
    public static readonly OptionReader<double> Number = new((string s, out double v) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v), "must be a number");

    public static readonly OptionReader<int> Integer = new((string s, out int v) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v), "must be an integer");

    public static readonly OptionReader<bool> Boolean = new((string s, out bool v) =>
    {
        v = s == "true";
        return s is "true" or "false";
    }, "must be true or false");

    public static readonly OptionReader<string> Text = new((string s, out string v) => { v = s; return true; }, "");

    public static OptionReader<string> OneOf(IReadOnlyList<string> allowed) =>
        new((string s, out string v) => { v = s; return allowed.Contains(s); }, $"must be one of: {string.Join(", ", allowed)}");

    public static OptionRule<double> AtLeast(double bound) => new(v => v >= bound && double.IsFinite(v), $"must be ≥ {SamplerOption.Format(bound)}");
    public static OptionRule<double> Above(double bound) => new(v => v > bound && double.IsFinite(v), $"must be > {SamplerOption.Format(bound)}");
    public static OptionRule<int> AtLeast(int bound) => new(v => v >= bound, $"must be ≥ {bound}");
}
