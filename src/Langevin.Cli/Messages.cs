using Langevin.Cli.Commands;

namespace Langevin.Cli;

/// <summary>
/// The one line a user sees for a library error: a <see cref="SettingException"/> names the library's setting
/// (<c>ebm.sgld_step_size</c>); here it is spelled as the option that sets it (<c>--sgld-step</c>).
/// </summary>
public static class Messages
{
    static readonly Lazy<Dictionary<string, string>> Flags = new(() =>
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (setting, option) in TrainOptions.SettingNames()) map.TryAdd(setting, option);
        return map;
    });

    /// <summary>The option that sets a setting: a registered one, else a plain setting (no section) spelled as an option (<c>run</c> → <c>run</c>, <c>gen_steps</c> → <c>gen-steps</c>).</summary>
    public static string? OptionFor(string setting) =>
        Flags.Value.TryGetValue(setting, out var o) ? o : setting.Contains('.') ? null : setting.Replace('_', '-');

    public static string For(LangevinException e) =>
        e is SettingException s && OptionFor(s.Setting) is { } option ? s.MessageFor("--" + option) : e.Message;
}
