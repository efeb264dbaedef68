using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.IO;

namespace Langevin.Training;

/// <summary>RUN/log.jsonl: one JSON object per logged step (step, stage when a method has several, loss, lr, grad_norm, it_s, elapsed_s, rss_mb, managed_mb, and a
/// method's own diagnostics, e.g. an EBM's e_pos/e_neg).</summary>
public sealed class TrainingLog : IDisposable
{
    readonly StreamWriter _writer;

    TrainingLog(string path) => _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));

    /// <summary>Opens the log for appending; on resume, first drops entries after <paramref name="keepUpToStep"/> (atomically).</summary>
    public static TrainingLog Open(string path, long? keepUpToStep)
    {
        if (keepUpToStep is { } keep && File.Exists(path))
        {
            var kept = File.ReadAllLines(path).Where(l => StepOf(l) is { } s && s <= keep).ToList();
            AtomicFile.WriteAllText(path, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
        }
        else if (keepUpToStep is null) AtomicFile.WriteAllText(path, "");
        return new TrainingLog(path);
    }

    public void Write(long step, double loss, double lr, double gradNorm, double itPerSec, double elapsed,
        IReadOnlyDictionary<string, double>? diagnostics = null, string? stage = null)
    {
        var o = new JsonObject
        {
            ["step"] = step,
            ["stage"] = stage,
            ["loss"] = loss,
            ["lr"] = lr,
            ["grad_norm"] = double.IsFinite(gradNorm) ? gradNorm : null,
            ["it_s"] = Math.Round(itPerSec, 3),
            ["elapsed_s"] = Math.Round(elapsed, 3),
            ["rss_mb"] = Math.Round(Environment.WorkingSet / 1048576.0, 1),   // resident memory, to watch for leaks
            ["managed_mb"] = Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1),   // of which the .NET heap (the rest is native: libtorch, glibc)
        };
        if (stage is null) o.Remove("stage");
        foreach (var (name, value) in diagnostics ?? new Dictionary<string, double>())
            o[name] = double.IsFinite(value) ? value : null;
        _writer.WriteLine(o.ToJsonString());
        _writer.Flush();
    }

    /// <summary>The (step, loss) of every well-formed line; a line that is not one (damaged, hand-edited: wrong types, a fractional
    /// step, duplicate keys, a non-finite loss) is skipped, never thrown on.</summary>
    public static IReadOnlyList<(long Step, double Loss)> ReadLosses(string path)
    {
        if (!File.Exists(path)) return [];
        var result = new List<(long, double)>();
        foreach (var line in File.ReadLines(path))
            if (Entry(line) is { } o && Step(o) is { } step && Number(o, "loss") is { } loss && double.IsFinite(loss))
                result.Add((step, loss));
        return result;
    }

    /// <summary>The last well-formed entry of the log (with a whole step), or null: what a report quotes (elapsed_s, it_s, …).</summary>
    public static JsonObject? LastEntry(string path)
    {
        if (!File.Exists(path)) return null;
        JsonObject? last = null;
        foreach (var line in File.ReadLines(path))
            if (Entry(line) is { } o && Step(o) is not null) last = o;
        return last;
    }

    /// <summary>A line as a JSON object, or null when it is not one (including duplicate keys, which JsonObject refuses).</summary>
    static JsonObject? Entry(string line)
    {
        try
        {
            if (JsonNode.Parse(line) is not JsonObject o) return null;
            _ = o.Count;   // materialises the members: a duplicate key throws here
            return o;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException) { return null; }
    }

    static double? Number(JsonObject o, string key) =>
        o.TryGetPropertyValue(key, out var v) && v is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue(out double d) ? d : null;

    /// <summary>A whole, non-negative step (a fractional or negative one is damage).</summary>
    static long? Step(JsonObject o) =>
        o.TryGetPropertyValue("step", out var v) && v is JsonValue value && value.GetValueKind() == JsonValueKind.Number
        && value.TryGetValue(out long step) && step >= 0 ? step : null;

    static long? StepOf(string line) => Entry(line) is { } o ? Step(o) : null;

    public void Dispose() => _writer.Dispose();
}
