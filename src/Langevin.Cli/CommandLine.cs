using System.Globalization;
using System.Text.Json.Nodes;

namespace Langevin.Cli;

/// <summary>An option a command accepts: its name (without --), the value it takes (null for a flag), its help.</summary>
public sealed record OptionSpec(string Name, string? Value, string Help)
{
    /// <summary>Words a flag also takes as its value, besides true / false (<c>--bf16 auto</c>); given alone, a flag is "true".</summary>
    public IReadOnlyList<string> Words { get; init; } = [];
}

/// <summary>Parsed <c>--name value</c> / <c>--name=value</c> / <c>--flag</c> arguments, checked against a command's options.</summary>
public sealed class ParsedArgs
{
    readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    readonly string _command;

    public ParsedArgs(string command, IReadOnlyList<string> args, IReadOnlyList<OptionSpec> specs)
    {
        _command = command;
        var byName = specs.ToDictionary(s => s.Name);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
                throw new UsageException($"{command}: unexpected argument '{a}'; options start with --, see 'langevin {command} --help'");
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { inline = name[(eq + 1)..]; name = name[..eq]; }
            if (!byName.TryGetValue(name, out var spec))
                throw new UsageException($"{command}: unknown option --{name}; see 'langevin {command} --help'");
            if (spec.Value is null)
            {
                bool IsWord(string w) => w is "true" or "false" || spec.Words.Contains(w);
                if (inline is not null && !IsWord(inline))
                    throw new UsageException(spec.Words.Count == 0
                        ? $"{command}: --{name} is a flag and takes no value (or true / false)"
                        : $"{command}: --{name} takes no value or one of {string.Join(", ", spec.Words)} (got '{MessageText.OneLine(inline, 40)}')");
                if (inline is null && i + 1 < args.Count && IsWord(args[i + 1])) inline = args[++i]; // --flag false, --bf16 auto
                _values[name] = inline ?? "true";
            }
            else
            {
                string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                if (value is null) throw new UsageException($"{command}: --{name} needs a value ({spec.Value})");
                _values[name] = value;
            }
        }
    }

    /// <summary>
    /// The command's results for <c>--json FILE</c> (every command accepts it): what it wrote, measured or decided. A command
    /// that declares its own <c>json</c> option writes its own document instead.
    /// </summary>
    public JsonObject Result { get; } = new();

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The options given, by name (flags as "true"/"false").</summary>
    public IEnumerable<KeyValuePair<string, string?>> Given => _values;
    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : null;
    public string String(string name, string fallback) => String(name) ?? fallback;
    public bool Flag(string name) => _values.TryGetValue(name, out var v) && v == "true";

    /// <summary>A flag's value when given (true or false), null when absent.</summary>
    public bool? OptionalFlag(string name) => _values.TryGetValue(name, out var v) ? v == "true" : null;

    public int? Int(string name) => String(name) is { } s
        ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new UsageException($"{_command}: --{name} must be an integer (got '{s}')")
        : null;

    public long? Long(string name) => String(name) is { } s
        ? long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v
            : throw new UsageException($"{_command}: --{name} must be an integer (got '{s}')")
        : null;

    public double? Double(string name) => String(name) is { } s
        ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new UsageException($"{_command}: --{name} must be a number (got '{s}')")
        : null;

    public double[]? DoubleList(string name) => String(name) is { } s
        ? s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
                : throw new UsageException($"{_command}: --{name} must be a comma-separated list of numbers (got '{s}')")).ToArray()
        : null;

    public int[]? IntList(string name) => String(name) is { } s
        ? s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new UsageException($"{_command}: --{name} must be a comma-separated list of integers (got '{s}')")).ToArray()
        : null;
}

/// <summary>A `langevin` subcommand.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    string Usage { get; }
    IReadOnlyList<OptionSpec> Options { get; }
    int Run(ParsedArgs args);
}

/// <summary>A command whose --help depends on its other arguments (<c>train --method NAME --help</c>).</summary>
public interface IContextualHelp
{
    string HelpFor(IReadOnlyList<string> args);
}

public static class Help
{
    public static string For(ICommand c) => Format($"langevin {c.Name} — {c.Summary}", c.Usage, c.Options);

    public static string Format(string title, string usage, IReadOnlyList<OptionSpec> options) =>
        string.Join('\n', [title, "", $"usage: {usage}", "", "options:", OptionLines(options, common: true)]);

    /// <summary>One line per option, aligned; with <paramref name="common"/> also --json (unless declared) and --help.</summary>
    public static string OptionLines(IReadOnlyList<OptionSpec> options, bool common = false)
    {
        static string Shown(OptionSpec o) => (o.Value ?? (o.Words.Count > 0 ? $"[{string.Join('|', o.Words)}]" : null)) is { } v ? $"{o.Name} {v}" : o.Name;
        int width = options.Select(o => Shown(o).Length).Append("json FILE".Length).Max() + 4;
        var lines = options.Select(o => $"  {("--" + Shown(o)).PadRight(width)}{o.Help}").ToList();
        if (common && !options.Any(o => o.Name == "json")) lines.Add($"  {"--json FILE".PadRight(width)}also write the results as JSON to FILE");
        if (common) lines.Add($"  {"--help".PadRight(width)}show this help");
        return string.Join('\n', lines);
    }
}
