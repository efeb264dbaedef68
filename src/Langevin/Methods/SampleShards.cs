using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// What a shard's samples file holds, written beside it as <c>FILE.shard.json</c>: which shard of how many, its items among the
/// draw's N, and the draw's settings (the command line without the shard's own outputs), which every shard of one draw shares.
/// </summary>
public sealed record ShardManifest(int Shard, int Shards, int N, int FirstItem, int Items, bool Labels, JsonObject Settings)
{
    public const string Format = "langevin-shard-1";

    /// <summary>The manifest of samples file <paramref name="samplesPath"/>: FILE.npy → FILE.shard.json.</summary>
    public static string PathOf(string samplesPath) => Path.ChangeExtension(samplesPath, null) + ".shard.json";

    /// <summary>The labels file beside samples file <paramref name="samplesPath"/>: FILE.npy → FILE.labels.npy.</summary>
    public static string LabelsPathOf(string samplesPath) => Path.ChangeExtension(samplesPath, null) + ".labels.npy";

    public void Write(string samplesPath)
    {
        var o = new JsonObject
        {
            ["format"] = Format, ["shard"] = Shard, ["shards"] = Shards, ["n"] = N, ["first_item"] = FirstItem, ["items"] = Items,
            ["labels"] = Labels, ["settings"] = Settings.DeepClone(),
        };
        AtomicFile.WriteAllText(PathOf(samplesPath), o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static ShardManifest Read(string samplesPath)
    {
        string path = PathOf(samplesPath);
        if (!File.Exists(path)) throw new DataException($"{samplesPath}: no {Path.GetFileName(path)} beside it; merge takes the files langevin sample --shard I/N wrote");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object");
            if ((string?)o["format"] != Format) throw new JsonException($"format is not {Format}");
            int Int(string k) => o[k]?.GetValue<int>() ?? throw new JsonException($"'{k}' is missing");
            var m = new ShardManifest(Int("shard"), Int("shards"), Int("n"), Int("first_item"), Int("items"),
                o["labels"]?.GetValue<bool>() ?? throw new JsonException("'labels' is missing"),
                o["settings"] as JsonObject ?? throw new JsonException("'settings' is missing"));
            if (m.Shards < 1 || m.Shard < 0 || m.Shard >= m.Shards || m.N < 1 || m.FirstItem < 0 || m.Items < 1 || m.FirstItem + m.Items > m.N)
                throw new JsonException($"shard {m.Shard}/{m.Shards} with items {m.FirstItem}..{m.FirstItem + m.Items - 1} of {m.N} is inconsistent");
            return m with { Settings = (JsonObject)m.Settings.DeepClone() };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new DataException($"{path}: not a shard manifest ({MessageText.OneLine(e.Message, 200)})");
        }
    }
}

/// <summary>Joins the shards of one draw (<c>langevin merge</c>): every shard once, the same settings, items in order.</summary>
public static class SampleShards
{
    /// <summary>The samples [N, …] (and labels [N] when the shards have them) of the shards' draw; checks before reading the samples.</summary>
    public static (Tensor Samples, Tensor? Labels, ShardManifest First) Merge(IReadOnlyList<string> samplesPaths)
    {
        if (samplesPaths.Count == 0) throw SettingException.About("shards", "", "name the shard files to merge");
        var shards = samplesPaths.Select(p => (Path: p, Manifest: ShardManifest.Read(p))).OrderBy(s => s.Manifest.Shard).ToList();
        var first = shards[0].Manifest;
        foreach (var (path, m) in shards)
        {
            if (m.Shards != first.Shards || m.N != first.N || m.Labels != first.Labels || !JsonNode.DeepEquals(m.Settings, first.Settings))
                throw new DataException($"{path}: shard {m.Shard}/{m.Shards} is of another draw than {shards[0].Path} ({Difference(first, m)})");
        }
        var duplicate = shards.GroupBy(s => s.Manifest.Shard).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new DataException($"shard {duplicate.Key}/{first.Shards} is given twice: {string.Join(" and ", duplicate.Select(s => s.Path))}");
        var missing = Enumerable.Range(0, first.Shards).Except(shards.Select(s => s.Manifest.Shard)).ToList();
        if (missing.Count > 0)
            throw new DataException($"shard{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Take(10).Select(i => $"{i}/{first.Shards}"))} missing: {shards.Count} of {first.Shards} given");
        int next = 0;
        foreach (var (path, m) in shards)
        {
            if (m.FirstItem != next) throw new DataException($"{path}: shard {m.Shard}/{m.Shards} starts at item {m.FirstItem}, the shards before it end at {next}");
            next += m.Items;
        }
        if (next != first.N) throw new DataException($"the shards hold {next} items, their draw {first.N}");

        var parts = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            foreach (var (path, m) in shards)
            {
                var x = NpyFile.Read(path);
                parts.Add(x);
                if (x.shape[0] != m.Items || (parts.Count > 1 && !x.shape.Skip(1).SequenceEqual(parts[0].shape.Skip(1))))
                    throw new DataException($"{path}: holds [{string.Join(", ", x.shape)}], its manifest says {m.Items} items like [{string.Join(", ", parts[0].shape)}]");
                if (m.Labels)
                {
                    var l = NpyFile.Read(ShardManifest.LabelsPathOf(path), integers: true);
                    labels.Add(l);
                    if (l.shape.Length != 1 || l.shape[0] != m.Items) throw new DataException($"{ShardManifest.LabelsPathOf(path)}: {l.shape[0]} labels for {m.Items} samples");
                }
            }
            return (cat(parts, 0), first.Labels ? cat(labels, 0) : null, first);
        }
        finally
        {
            foreach (var t in parts.Concat(labels)) t.Dispose();
        }
    }

    static string Difference(ShardManifest a, ShardManifest b)
    {
        if (a.Shards != b.Shards) return $"of {b.Shards} shards, the other of {a.Shards}";
        if (a.N != b.N) return $"of N = {b.N}, the other of {a.N}";
        if (a.Labels != b.Labels) return "one has labels, the other not";
        var key = a.Settings.Select(p => p.Key).Union(b.Settings.Select(p => p.Key))
            .FirstOrDefault(k => !JsonNode.DeepEquals(a.Settings[k], b.Settings[k]));
        return key is null ? "settings differ" : $"{key}: {Show(b.Settings[key])} in it, {Show(a.Settings[key])} in the other";
    }

    static string Show(JsonNode? n) => n is null ? "absent" : MessageText.Quote(n.ToJsonString());
}
