using System.Globalization;

namespace Langevin;

/// <summary>
/// A problem with what the user gave us (a setting, a file, a dataset), reported as one line, never as a stack trace.
/// Programmer errors stay ordinary exceptions. The library names settings and files; a front end (the CLI) maps
/// settings to its own option names and the kinds of error to exit codes. Every message is one line of at most 2,000
/// characters, control characters escaped (<see cref="MessageText.OneLine"/>), whatever input it quotes.
/// </summary>
public abstract class LangevinException(string message, Exception? inner = null) : Exception(MessageText.OneLine(message, 2000), inner);

/// <summary>A bad request: an unknown name, an invalid value, a wrong combination. The CLI exits with 2.</summary>
public class UsageException(string message, Exception? inner = null) : LangevinException(message, inner);

/// <summary>
/// A setting with an invalid value, named as the library names it (<see cref="Setting"/>, e.g. <c>ebm.sgld_step_size</c> or
/// <c>batch_size</c>): "<c>SETTING REASON (got VALUE)</c>", for a value that names a file or run "<c>SETTING: DETAIL</c>"
/// (<see cref="About"/>), or a sentence about the setting, "<c>SETTING PREDICATE</c>" (<see cref="Sentence"/>). A front end
/// that spells settings otherwise (the CLI's <c>--sgld-step</c>) rewrites the name with <see cref="MessageFor"/>.
/// </summary>
public sealed class SettingException : UsageException
{
    readonly Func<string, string> _format;

    public SettingException(string setting, object? value, string reason) : this(setting, Text(value), name => $"{name} {reason} (got {Text(value)})") { }

    SettingException(string setting, string value, Func<string, string> format) : base(format(setting))
    {
        Setting = setting;
        Value = value;
        _format = format;
    }

    /// <summary>"SETTING: DETAIL", for a value that is a path or run whose problem the detail states (it names the value itself).</summary>
    public static SettingException About(string setting, object? value, string detail) => new(setting, Text(value), name => $"{name}: {detail}");

    /// <summary>"SETTING PREDICATE", a sentence whose subject is the setting (e.g. <c>steps</c>, "does not apply to ode-rk45: …").</summary>
    public static SettingException Sentence(string setting, object? value, string predicate) => new(setting, Text(value), name => $"{name} {predicate}");

    public string Setting { get; }
    public string Value { get; }

    /// <summary>The message with the setting spelled as a front end spells it.</summary>
    public string MessageFor(string name) => _format(name);

    static string Text(object? value) => value switch
    {
        null => "nothing",
        bool b => b ? "true" : "false",
        string s => MessageText.Quote(s),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Bad or missing data: a corrupt or truncated file, a wrong shape, NaN, a missing dataset. The CLI exits with 1.</summary>
public sealed class DataException(string message, Exception? inner = null) : LangevinException(message, inner);

/// <summary>Training could not go on (the loss became NaN or infinite). The CLI exits with 1; the last good checkpoint stays.</summary>
public sealed class TrainingDivergedException(string message) : LangevinException(message);

/// <summary>What a message may echo of a user's input: a short excerpt on one line, control characters escaped.</summary>
public static class MessageText
{
    /// <summary>Longest excerpt of a value a message quotes.</summary>
    public const int MaxQuoted = 80;

    /// <summary><paramref name="value"/> in quotes, control characters escaped (\n, \x1B), cut to <see cref="MaxQuoted"/> characters.</summary>
    public static string Quote(string value) => value.Length <= MaxQuoted
        ? $"'{Escape(value)}'"
        : $"'{Escape(value[..MaxQuoted])}…' ({value.Length:N0} characters)";

    /// <summary>A message as one line: control characters escaped, at most <paramref name="max"/> characters.</summary>
    public static string OneLine(string message, int max = 1000)
    {
        string line = Escape(message);
        return line.Length <= max ? line : $"{line[..max]}… ({line.Length - max:N0} more characters)";
    }

    static string Escape(string s)
    {
        if (!s.Any(char.IsControl)) return s;
        var b = new System.Text.StringBuilder(s.Length + 8);
        foreach (char c in s)
            b.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\x{(int)c:X2}", _ => c.ToString() });
        return b.ToString();
    }
}
