using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Langevin.Training;

namespace Langevin.Reports;

/// <summary>
/// What a reader wants first about a run folder, read without loading a model: what was trained on what, for how long, the
/// last loss, the latest samples and the metrics. Anything missing is null (a run still training, an empty folder, a damaged
/// file: the report says so instead of failing).
/// </summary>
public sealed partial record RunSummary(string Name, string Root, string? Method, string? Data, string? Network, long? Steps, double? FinalLoss,
    double? Seconds, double? ItPerSecond, string? LatestSamples, long? LatestSamplesStep, IReadOnlyList<(long Step, double Loss)> Losses,
    IReadOnlyList<(string Metric, double Value)> Metrics)
{
    public static RunSummary Read(string runDir)
    {
        var run = new RunFolder(runDir);
        JsonObject? config = null;
        try { config = File.Exists(run.ConfigPath) ? JsonNode.Parse(File.ReadAllText(run.ConfigPath)) as JsonObject : null; }
        catch (JsonException) { }
        string? method = Text(config?["settings"]?["method"]) ?? Text(config?["method"]);
        string? data = Text(config?["data"]);
        string? network = config?["network"] is JsonObject n ? NetworkText(n, data) : null;
        var last = TrainingLog.LastEntry(run.LogPath);
        long? logged = Number(last?["step"]) is { } s ? (long)s : null;
        long? steps = run.LatestCheckpoint()?.Step ?? logged;
        var (samples, sampleStep) = LatestSamplesOf(run);
        return new RunSummary(Path.GetFileName(run.Root), run.Root, method, data, network, steps, Number(last?["loss"]), Number(last?["elapsed_s"]),
            Number(last?["it_s"]), samples, sampleStep, TrainingLog.ReadLosses(run.LogPath), MetricsOf(Path.Combine(run.Root, "metrics.json")));
    }

    /// <summary>The newest samples/step_*.png (by step), or none.</summary>
    static (string?, long?) LatestSamplesOf(RunFolder run)
    {
        if (!Directory.Exists(run.SamplesDir)) return (null, null);
        var latest = Directory.GetFiles(run.SamplesDir, "step_*.png")
            .Select(p => (Path: p, Match: StepPattern().Match(Path.GetFileName(p))))
            .Where(t => t.Match.Success && long.TryParse(t.Match.Groups[1].Value, CultureInfo.InvariantCulture, out _))
            .MaxBy(t => long.Parse(t.Match.Groups[1].Value, CultureInfo.InvariantCulture));
        return latest.Path is null ? (null, null) : (latest.Path, long.Parse(latest.Match.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>metrics.json as `langevin eval --json` writes it: each metric's value for the samples.</summary>
    static IReadOnlyList<(string, double)> MetricsOf(string path)
    {
        try
        {
            if (!File.Exists(path) || JsonNode.Parse(File.ReadAllText(path))?["metrics"] is not JsonObject metrics) return [];
            return metrics.Select(kv => (kv.Key, Number(kv.Value is JsonObject o ? o["samples"] : kv.Value)))
                .Where(t => t.Item2 is not null).Select(t => (t.Key, t.Item2!.Value)).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException) { return []; }
    }

    static string NetworkText(JsonObject n, string? data)
    {
        string kind = Text(n["kind"]) ?? "auto";
        bool points = data is not null && !data.StartsWith("fashion-mnist", StringComparison.Ordinal) && !data.StartsWith("shapes", StringComparison.Ordinal)
            && !data.StartsWith("cifar", StringComparison.Ordinal) && !data.StartsWith("images", StringComparison.Ordinal) && !data.StartsWith("mnist", StringComparison.Ordinal);
        if (kind == "mlp" || (kind == "auto" && points)) return $"MLP, width {n["width"]}, depth {n["depth"]}";
        string mults = n["channel_mults"] is JsonArray a ? string.Join(",", a.Select(v => v?.ToString())) : "?";
        return $"{(kind == "adm" ? "ADM U-Net" : "U-Net")}, {n["base_channels"]} channels × {mults}, {n["num_res_blocks"]} res blocks"
            + (n["classes"] is JsonValue c && c.TryGetValue(out int k) && k > 0 ? $", {k} classes" : "");
    }

    static string? Text(JsonNode? v) => v is JsonValue j && j.TryGetValue(out string? s) ? s : null;

    static double? Number(JsonNode? v) => v is JsonValue j && j.GetValueKind() == JsonValueKind.Number && j.TryGetValue(out double d) && double.IsFinite(d) ? d : null;

    [GeneratedRegex(@"^step_(\d+)\.png$")]
    private static partial Regex StepPattern();
}
