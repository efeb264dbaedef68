using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Langevin.IO;
using Langevin.Training;

namespace Langevin.Reports;

/// <summary>
/// A run folder as one self-contained HTML page (every image embedded as a base64 data URI, no external resources).
/// Sections, each with a fixed id and always present (saying what is missing and how to make it):
/// <c>config</c> (RUN/config.json), <c>loss</c> (RUN/loss.png, else re-plotted from RUN/log.jsonl),
/// <c>samples</c> (RUN/samples/*.png, by step), <c>trajectory</c> (the first RUN/*.gif or RUN/samples/*.gif),
/// <c>metrics</c> (RUN/metrics.json as 'langevin eval --json' writes it) and <c>compare</c> (RUN/compare.json:
/// <c>{"rows": [{column: value, ...}, ...]}</c>, plus RUN/compare.png when present).
/// </summary>
public static partial class RunReport
{
    public static IReadOnlyList<string> SectionIds { get; } = ["config", "loss", "samples", "trajectory", "metrics", "compare"];

    /// <exception cref="DataException">RUN is not a folder, or a JSON file in it is malformed.</exception>
    public static string Render(string runDir)
    {
        var run = new RunFolder(runDir);
        if (!Directory.Exists(run.Root)) throw new DataException($"{runDir}: run folder not found; give a folder that 'langevin train --out' wrote");
        var html = new StringBuilder();
        string title = $"Langevin run {Path.GetFileName(run.Root)}";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Esc(title)).Append("</title>\n<style>")
            .Append("body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}")
            .Append("pre{background:#f5f5f5;padding:1em;overflow:auto;font-size:.85em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}")
            .Append("th{background:#eee}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5em;vertical-align:top}figure img{max-width:420px}img{max-width:100%;border:1px solid #ddd}.missing{color:#888;font-style:italic}")
            .Append("</style></head><body>\n<h1>").Append(Esc(title)).Append("</h1>\n<p>").Append(Esc(run.Root)).Append("</p>\n");

        Section(html, "config", "Configuration", () =>
            File.Exists(run.ConfigPath) ? $"<pre>{Esc(File.ReadAllText(run.ConfigPath))}</pre>" : Missing("no config.json"));

        Section(html, "loss", "Training loss", () =>
        {
            if (File.Exists(run.LossPlotPath)) return Img(run.LossPlotPath, "training loss");
            var losses = TrainingLog.ReadLosses(run.LogPath);
            if (losses.Count == 0) return Missing("no loss.png and no losses in log.jsonl");
            string tmp = Path.Combine(Path.GetTempPath(), $"langevin-loss-{Guid.NewGuid():N}.png");
            try { Plots.LossCurve(tmp, losses, "training loss"); return Img(tmp, "training loss (from log.jsonl)"); }
            finally { File.Delete(tmp); }
        });

        Section(html, "samples", "Samples at checkpoints", () =>
        {
            var pngs = Directory.Exists(run.SamplesDir)
                ? Directory.GetFiles(run.SamplesDir, "*.png").OrderBy(p => p, StringComparer.Ordinal).ToArray() : [];
            if (pngs.Length == 0) return Missing("no samples/*.png");
            return string.Concat(pngs.Select(p =>
            {
                var m = StepPattern().Match(Path.GetFileName(p));
                string caption = m.Success ? $"step {long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)}" : Path.GetFileName(p);
                return $"<figure>{Img(p, caption)}<figcaption>{Esc(caption)}</figcaption></figure>";
            }));
        });

        Section(html, "trajectory", "Sampling trajectory", () =>
        {
            var gif = new[] { run.Root, run.SamplesDir }.Where(Directory.Exists)
                .SelectMany(d => Directory.GetFiles(d, "*.gif").OrderBy(p => p, StringComparer.Ordinal)).FirstOrDefault();
            return gif is null ? Missing("no trajectory GIF (make one with 'langevin sample --run RUN --gif RUN/trajectory.gif')")
                : $"<figure>{Img(gif, "sampling trajectory")}<figcaption>{Esc(Path.GetFileName(gif))}</figcaption></figure>";
        });

        Section(html, "metrics", "Metrics", () =>
        {
            string path = Path.Combine(run.Root, "metrics.json");
            if (!File.Exists(path)) return Missing("no metrics.json (write one with 'langevin eval --samples S.npy --ref DATA --json RUN/metrics.json')");
            var o = ReadJson(path) as JsonObject ?? throw new DataException($"{path}: expected a JSON object");
            var sb = new StringBuilder();
            var facts = o.Where(kv => kv.Key != "metrics" && kv.Value is JsonValue).Select(kv => $"{Esc(kv.Key)} = {Esc(kv.Value!.ToString())}");
            sb.Append("<p>").Append(string.Join("; ", facts)).Append("</p>");
            if (o["metrics"] is JsonObject metrics)
            {
                var columns = metrics.Select(kv => kv.Value).OfType<JsonObject>().SelectMany(v => v.Select(p => p.Key)).Distinct().ToList();
                var rows = metrics.Select(kv => new[] { kv.Key }.Concat(columns.Select(c => Cell((kv.Value as JsonObject)?[c] ?? kv.Value))).ToArray());
                sb.Append(Table(["metric", .. columns], rows));
            }
            return sb.ToString();
        });

        Section(html, "compare", "Sampler comparison", () =>
        {
            string path = Path.Combine(run.Root, "compare.json"), plot = Path.Combine(run.Root, "compare.png");
            var sb = new StringBuilder();
            if (File.Exists(path))
            {
                var node = ReadJson(path);
                var rows = (node as JsonObject)?["rows"] as JsonArray ?? node as JsonArray
                    ?? throw new DataException($"{path}: expected {{\"rows\": [...]}}");
                var objects = rows.OfType<JsonObject>().ToList();
                var columns = objects.SelectMany(r => r.Select(p => p.Key)).Distinct().ToList();
                sb.Append(Table(columns, objects.Select(r => columns.Select(c => Cell(r[c])).ToArray())));
            }
            if (File.Exists(plot)) sb.Append(Img(plot, "quality against NFE"));
            return sb.Length > 0 ? sb.ToString() : Missing("no compare.json (a table of samplers × NFE budgets)");
        });

        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>Writes <see cref="Render"/>'s page atomically; returns its path (default RUN/report.html).</summary>
    public static string Write(string runDir, string? outPath = null)
    {
        string html = Render(runDir);
        outPath ??= Path.Combine(runDir, "report.html");
        AtomicFile.WriteAllText(outPath, html);
        return outPath;
    }

    static void Section(StringBuilder html, string id, string heading, Func<string> body) =>
        html.Append("<section id=\"").Append(id).Append("\">\n<h2>").Append(Esc(heading)).Append("</h2>\n").Append(body()).Append("\n</section>\n");

    static string Missing(string what) => $"<p class=\"missing\">{Esc(what)}</p>";

    static string Img(string path, string alt)
    {
        string mime = Path.GetExtension(path).ToLowerInvariant() switch { ".gif" => "image/gif", ".jpg" or ".jpeg" => "image/jpeg", _ => "image/png" };
        return $"<img alt=\"{Esc(alt)}\" src=\"data:{mime};base64,{Convert.ToBase64String(File.ReadAllBytes(path))}\">";
    }

    static string Table(IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        var sb = new StringBuilder("<table><tr>");
        foreach (var h in header) sb.Append("<th>").Append(Esc(h)).Append("</th>");
        sb.Append("</tr>");
        foreach (var r in rows)
        {
            sb.Append("<tr>");
            foreach (var c in r) sb.Append("<td>").Append(Esc(c)).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</table>").ToString();
    }

    static string Cell(JsonNode? v) => v switch
    {
        null => "",
        JsonValue val when val.TryGetValue<double>(out double d) => d.ToString("G4", CultureInfo.InvariantCulture),
        JsonValue val => val.ToString(),
        _ => v.ToJsonString(),
    };

    static JsonNode? ReadJson(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new DataException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})"); }
    }

    static string Esc(string s) => WebUtility.HtmlEncode(s);

    [GeneratedRegex(@"^step_(\d+)\.png$")]
    private static partial Regex StepPattern();
}
