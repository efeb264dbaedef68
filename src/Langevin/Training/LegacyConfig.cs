using System.Text.Json.Nodes;
using Langevin.Methods;

namespace Langevin.Training;

/// <summary>
/// Configs of the one-network era (before methods had their own settings records): a top-level <c>"method"</c> and one
/// section per method (<c>"ncsn"</c>, <c>"ddpm"</c>, <c>"ebm"</c>, …), every run carrying all of them. They are what format-1
/// checkpoints and older config.json files hold; each method's registration picks its own settings out of them
/// (<see cref="MethodRegistration.FromLegacy"/>) and the other sections are dropped.
/// </summary>
public static class LegacyConfig
{
    static readonly string[] Sections = ["ncsn", "ddpm", "ebm", "adversarial_ebm", "cld", "walk_jump", "dmcmc"];

    public static bool IsLegacy(JsonObject root) => !root.ContainsKey("settings") && (root.ContainsKey("method") || Sections.Any(root.ContainsKey));

    public static JsonObject Convert(JsonObject root, string source)
    {
        string method = root["method"]?.GetValue<string>() ?? "ncsn";
        var registration = MethodRegistry.Find(method) ?? throw new SettingException("method", method, $"in {source} is not a known method; known: {string.Join(", ", MethodRegistry.Names)}");
        var settings = registration.FromLegacy?.Invoke(root) ?? [];
        var converted = new JsonObject { ["settings"] = settings };
        settings.Insert(0, "method", method);
        foreach (var (key, value) in root)
            if (key != "method" && !Sections.Contains(key)) converted[key] = value?.DeepClone();
        return converted;
    }

    /// <summary>A copy of one old section (empty when absent).</summary>
    public static JsonObject Section(JsonObject root, string name) => root[name]?.DeepClone() as JsonObject ?? [];

    /// <summary>The named fields of one old section.</summary>
    public static JsonObject Pick(JsonObject root, string name, params string[] fields)
    {
        var picked = new JsonObject();
        if (root[name] is JsonObject section)
            foreach (var f in fields)
                if (section[f] is { } v) picked[f] = v.DeepClone();
        return picked;
    }
}
