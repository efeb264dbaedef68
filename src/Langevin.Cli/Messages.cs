namespace Langevin.Cli;

/// <summary>
/// The one line a user sees for a library error: a <see cref="SettingException"/> names the library's setting
/// (<c>ebm.sgld_step_size</c>); here it is spelled as the option that sets it (<c>--sgld-step</c>).
/// </summary>
public static class Messages
{
    static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="option"/> (without dashes) sets <paramref name="setting"/>.</summary>
    public static void Register(string setting, string option) => Flags.TryAdd(setting, option);

    public static string? OptionFor(string setting) => Flags.TryGetValue(setting, out var o) ? o : null;

    public static string For(LangevinException e) =>
        e is SettingException s && OptionFor(s.Setting) is { } option ? s.MessageFor("--" + option) : e.Message;
}
