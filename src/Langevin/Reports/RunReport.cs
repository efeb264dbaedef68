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
/// A run folder as one self-contained HTML page (every image embedded as a base64 data URI, no external resources), in the
/// order a reader asks: <c>summary</c> (what was trained on what, for how long, the last loss: <see cref="RunSummary"/>),
/// <c>latest</c> (the newest samples), <c>metrics</c> (RUN/metrics.json as 'langevin eval --json' writes it), <c>loss</c>
/// (RUN/loss.png, else re-plotted from RUN/log.jsonl), <c>samples</c> (RUN/samples/*.png, by step), <c>trajectory</c> (the first
/// RUN/*.gif or RUN/samples/*.gif), <c>compare</c> (RUN/compare.json <c>{"rows": [...]}</c> and compare.png) and, last, the
/// details: <c>config</c> (RUN/config.json). Every section has a fixed id and is always present, saying what is missing and
/// how to make it. <see cref="RenderComparison"/> puts several runs side by side.
/// </summary>
public static partial class RunReport
{
    public static IReadOnlyList<string> SectionIds { get; } = ["summary", "latest", "metrics", "loss", "samples", "trajectory", "compare", "config"];

    /// <summary>The sections of <see cref="RenderComparison"/>'s page.</summary>
    public static IReadOnlyList<string> ComparisonSectionIds { get; } = ["runs", "loss", "samples", "metrics"];

    /// <exception cref="DataException">RUN is not a folder, or a JSON file in it is malformed.</exception>
    public static string Render(string runDir)
    {
        var run = new RunFolder(runDir);
        if (!Directory.Exists(run.Root)) throw new DataException($"{runDir}: run folder not found; give a folder that 'langevin train --out' wrote");
        string title = $"Langevin run {Path.GetFileName(run.Root)}";
        var html = Head(title, run.Root);
        var summary = RunSummary.Read(run.Root);

        Section(html, "summary", "Summary", () => Facts(SummaryRows(summary)));

        Section(html, "latest", "Latest samples", () => summary.LatestSamples is { } latest
            ? $"<figure>{Img(latest, "latest samples")}<figcaption>step {summary.LatestSamplesStep}</figcaption></figure>"
            : Missing("no samples/step_*.png yet (training writes them every --sample-every steps)"));

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

        Section(html, "config", "Details: the configuration", () =>
            File.Exists(run.ConfigPath) ? $"<pre>{Esc(File.ReadAllText(run.ConfigPath))}</pre>" : Missing("no config.json"));

        return Tail(html);
    }

    /// <summary>The facts of the summary table, with what is unknown said so.</summary>
    static IEnumerable<(string Name, string Value)> SummaryRows(RunSummary r)
    {
        static string Or(string? v, string missing) => v ?? missing;
        yield return ("method", Or(r.Method, "unknown (no readable config.json)"));
        yield return ("data", Or(r.Data, "unknown"));
        if (r.Network is { } n) yield return ("network", n);
        yield return ("steps trained", r.Steps?.ToString("N0", CultureInfo.InvariantCulture) ?? "none yet");
        yield return ("last logged loss", r.FinalLoss?.ToString("G4", CultureInfo.InvariantCulture) ?? "none logged");
        if (r.Seconds is { } sec) yield return ("training time (last session)", Duration(sec));
        if (r.ItPerSecond is { } its) yield return ("speed", $"{its.ToString("G3", CultureInfo.InvariantCulture)} it/s");
        foreach (var (metric, value) in r.Metrics) yield return (metric, value.ToString("G4", CultureInfo.InvariantCulture));
    }

    static string Duration(double seconds) => seconds >= 3600 ? $"{seconds / 3600:F1} h" : seconds >= 60 ? $"{seconds / 60:F1} min" : $"{seconds:F0} s";

    /// <summary>
    /// Several runs on one page, side by side: a table of what each trained and reached, their loss curves overlaid, each one's
    /// latest samples in a row, and their metrics in one table. <paramref name="runDirs"/>: run folders, or one folder of runs
    /// (its sub-folders that hold a config.json).
    /// </summary>
    public static string RenderComparison(IReadOnlyList<string> runDirs)
    {
        var runs = Runs(runDirs);
        var summaries = runs.Select(RunSummary.Read).ToList();
        var html = Head($"Langevin runs: {string.Join(", ", summaries.Select(s => s.Name))}", string.Join("; ", summaries.Select(s => s.Root)));

        Section(html, "runs", "Runs", () => Table(["run", "method", "data", "network", "steps", "last loss", "time", "it/s"], summaries.Select(r => new[]
        {
            r.Name, r.Method ?? "?", r.Data ?? "?", r.Network ?? "", r.Steps?.ToString("N0", CultureInfo.InvariantCulture) ?? "",
            r.FinalLoss?.ToString("G4", CultureInfo.InvariantCulture) ?? "", r.Seconds is { } sec ? Duration(sec) : "",
            r.ItPerSecond?.ToString("G3", CultureInfo.InvariantCulture) ?? "",
        })));

        Section(html, "loss", "Training loss", () =>
        {
            var series = summaries.Where(r => r.Losses.Count > 0)
                .Select(r => (r.Name, r.Losses.Select(l => (double)l.Step).ToArray(), r.Losses.Select(l => l.Loss).ToArray())).ToList();
            if (series.Count == 0) return Missing("no run has losses in its log.jsonl");
            string tmp = Path.Combine(Path.GetTempPath(), $"langevin-losses-{Guid.NewGuid():N}.png");
            try
            {
                Plots.Lines(tmp, "training loss", "step", "loss", series, logY: series.All(t => t.Item3.All(v => v > 0)));
                return Img(tmp, "training losses, overlaid");
            }
            finally { File.Delete(tmp); }
        });

        Section(html, "samples", "Latest samples", () => string.Concat(summaries.Select(r => r.LatestSamples is { } p
            ? $"<figure>{Img(p, $"{r.Name} samples")}<figcaption>{Esc(r.Name)}, step {r.LatestSamplesStep}</figcaption></figure>"
            : $"<figure><p class=\"missing\">{Esc(r.Name)}: no samples yet</p></figure>")));

        Section(html, "metrics", "Metrics", () =>
        {
            var names = summaries.SelectMany(r => r.Metrics.Select(m => m.Metric)).Distinct().ToList();
            if (names.Count == 0) return Missing("no run has a metrics.json (write one with 'langevin eval --samples S.npy --json RUN/metrics.json')");
            return Table(["metric", .. summaries.Select(r => r.Name)], names.Select(m => new[] { m }.Concat(summaries.Select(r =>
                r.Metrics.FirstOrDefault(x => x.Metric == m) is { Metric: not null } hit ? hit.Value.ToString("G4", CultureInfo.InvariantCulture) : "")).ToArray()));
        });
        return Tail(html);
    }

    /// <summary>The run folders of a comparison: the folders given, or the runs inside the one folder given.</summary>
    public static IReadOnlyList<string> Runs(IReadOnlyList<string> dirs)
    {
        foreach (var d in dirs)
            if (!Directory.Exists(d)) throw new DataException($"{d}: run folder not found; give folders that 'langevin train --out' wrote");
        if (dirs.Count == 1 && !File.Exists(Path.Combine(dirs[0], "config.json")))
        {
            var inside = Directory.GetDirectories(dirs[0]).Where(d => File.Exists(Path.Combine(d, "config.json"))).OrderBy(d => d, StringComparer.Ordinal).ToList();
            if (inside.Count == 0) throw new DataException($"{dirs[0]}: neither a run folder nor a folder of runs (no config.json in it or its sub-folders)");
            return inside;
        }
        return dirs;
    }

    /// <summary>Writes <see cref="RenderComparison"/>'s page atomically; returns its path (default: FOLDER/report.html for a folder of runs, else ./runs-report.html).</summary>
    public static string WriteComparison(IReadOnlyList<string> runDirs, string? outPath = null)
    {
        string html = RenderComparison(runDirs);
        outPath ??= runDirs.Count == 1 ? Path.Combine(runDirs[0], "report.html") : "runs-report.html";
        AtomicFile.WriteAllText(outPath, html);
        return outPath;
    }

    /// <summary>The page's head, styles and title; the body's data-images / data-images-loaded attributes count the pictures that
    /// decoded once the page has loaded (what a headless browser test reads).</summary>
    static StringBuilder Head(string title, string subtitle)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Esc(title)).Append("</title>\n<style>")
            .Append("body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em}")
            .Append("pre{background:#f5f5f5;padding:1em;overflow:auto;font-size:.85em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}")
            .Append("th{background:#eee}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5em;vertical-align:top}figure img{max-width:420px}img{max-width:100%;border:1px solid #ddd}.missing{color:#888;font-style:italic}")
            .Append("</style>\n<script>addEventListener('load',()=>{const i=[...document.images];document.body.dataset.images=i.length;")
            .Append("document.body.dataset.imagesLoaded=i.filter(x=>x.complete&&x.naturalWidth>0).length;});</script></head><body>\n<h1>")
            .Append(Esc(title)).Append("</h1>\n<p>").Append(Esc(subtitle)).Append("</p>\n");
        return html;
    }

    static string Tail(StringBuilder html) => html.Append("</body></html>\n").ToString();

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

    /// <summary>Name–value rows without a header: the summary.</summary>
    static string Facts(IEnumerable<(string Name, string Value)> facts) =>
        "<table>" + string.Concat(facts.Select(f => $"<tr><th>{Esc(f.Name)}</th><td>{Esc(f.Value)}</td></tr>")) + "</table>";

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
