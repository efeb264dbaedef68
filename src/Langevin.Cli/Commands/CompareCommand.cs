using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin compare</c>: a grid of samplers × NFE budgets on one model (a trained run or an analytic mixture), with
/// quality (sliced Wasserstein-2 for points, FD in our feature space for images), the NFE actually spent and wall time
/// per sample, as a table, JSON (the report's compare.json) and a quality-vs-NFE plot.
/// </summary>
public sealed class CompareCommand : ICommand
{
    public string Name => "compare";
    public string Summary => "compare samplers × NFE budgets on one model: quality, NFE and time per sample, with a plot";
    public string Usage => "langevin compare (--run RUN | --checkpoint FILE | --model analytic:FILE.json) [--samplers a,b,c] [--nfe 5,10,20,50,100] [--n N] [--out DIR]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("model", "analytic:FILE.json", "an analytic Gaussian mixture (exact denoiser; quality against exact samples)"),
        new("dtype", "float32|float64", "analytic models: precision (default float64)"),
        new("samplers", "LIST", "comma-separated sampler names (default ddim, euler, heun, lms, dpmpp-2m, unipc, edm)"),
        new("nfe", "LIST", "NFE budgets (default 5,10,20,50,100,1000; 5,10,20,50 for images)"),
        new("n", "N", "samples per cell (default 2000 points, 500 images)"),
        new("ref", "SPEC", "images: the reference data for FD (default: the run's data, test split)"),
        new("features", "FILE", "images: a feature network (default: the cached one for the data)"),
        new("out", "DIR", "where compare.json and compare.png go (default: the run folder, or the current folder)"),
        new("karras", null, "use Karras σ's for the vp samplers that take them"),
        new("shard", "I/N", "run only shard I of N (0-based) of the cells (samplers × budgets, in order) and write OUT/compare.shard-I.json; langevin merge --out OUT/compare.json OUT/compare.shard-*.json joins them (a cell's samples do not depend on the others)"),
    ];

    public int Run(ParsedArgs a)
    {
        var samplers = (a.String("samplers") ?? "ddim,euler,heun,lms,dpmpp-2m,unipc,edm").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (samplers.Length == 0) throw new UsageException("--samplers is empty; e.g. --samplers ddim,heun,dpmpp-2m");
        foreach (var s in samplers) SamplerCatalog.Find(s);
        int seed = a.Int("seed") ?? 0;
        using var gen = new Generator((ulong)seed);
        ComputeDevice.SetThreads(a.Int("threads"));

        ComparedModel compared;
        IDisposable owner;
        string title, outDir;
        IGenerativeMethod? method = null;
        if (ModelSource.Analytic(a, Name, "float64") is { } mixture)
        {
            owner = mixture;
            compared = new ComparedModel(mixture, new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule()), [mixture.Means.shape[1]]);
            title = Path.GetFileName(a.String("model")!);
            outDir = a.String("out") ?? ".";
        }
        else
        {
            (method, var g0) = ModelSource.Open(a, Name);
            g0.Dispose();
            if (method is not IDenoisingMethod denoising)
            {
                method.Dispose();
                throw new UsageException($"compare: a {method.Config.Method} model is not a denoiser; compare runs on ncsn, ddpm, edm and sde models");
            }
            if (method is IPriorStartedMethod)
            {
                method.Dispose();
                throw new UsageException($"compare: a {method.Config.Method} model starts its chains from a learned prior, and compare's grid starts every sampler from unit noise; compare its samplers with 'sample --sampler NAME' and 'eval'");
            }
            method.Eval();
            owner = method;
            compared = new ComparedModel(denoising.Denoiser, denoising.Process, method.ItemShape, denoising.ToData);
            title = method.Config.Method + " " + (a.String("run") is { } r ? Path.GetFileName(Path.TrimEndingDirectorySeparator(r)) : "checkpoint");
            outDir = a.String("out") ?? a.String("run") ?? ".";
        }
        using var _ = owner;
        bool image = compared.ItemShape.Length == 3;
        int n = a.Int("n") ?? (image ? 500 : 2000);
        if (n < 2) throw new UsageException($"--n must be ≥ 2 (got {n})");
        int[] budgets = a.IntList("nfe") ?? (image ? [5, 10, 20, 50] : [5, 10, 20, 50, 100, 1000]);
        if (budgets.Length == 0 || budgets.Any(b => b < 1)) throw new UsageException("--nfe must be a list of positive integers, e.g. 5,10,20,50");

        using var quality = method is null ? ExactQuality((GaussianMixtureScore)compared.Model, n, gen)
            : image ? ImageQuality(a, method, n, seed) : PointQuality(method, n, seed, gen);
        var shard = a.String("shard") is { } shardText ? SampleShard.Parse(shardText) : null;
        var result = SamplerComparison.Run(compared, new SamplerComparisonSettings(samplers, budgets, n, seed, a.Flag("karras"), shard), quality,
            ProgressRunners.Display(a.Flag("quiet")));
        var cells = result.Cells;
        string qualityName = quality.Name;
        double floor = quality.Floor;

        Console.WriteLine($"{title}: {qualityName} (lower is better), N = {n} per cell, seed {seed}" +
                          (double.IsFinite(floor) ? $"; floor ({quality.FloorSource}) {floor.ToString("G4", CultureInfo.InvariantCulture)}" : ""));
        Console.WriteLine($"{"sampler",-16}{"budget",7}{"NFE",7}{"quality",12}{"ms/sample",11}");
        foreach (var c in cells)
            Console.WriteLine($"{c.Sampler,-16}{c.Budget,7}{c.Nfe,7}{c.Quality.ToString("G4", CultureInfo.InvariantCulture),12}{c.MsPerSample.ToString("F3", CultureInfo.InvariantCulture),11}");
        foreach (var line in result.Skipped) Console.WriteLine($"skipped {line}");
        if (cells.Count == 0 && shard is null) throw new UsageException("compare: no sampler ran within the given --nfe budgets");
        Directory.CreateDirectory(outDir);
        var rows = new JsonArray();
        foreach (var c in cells)
            rows.Add(new JsonObject { ["sampler"] = c.Sampler, ["budget"] = c.Budget, ["nfe"] = c.Nfe, ["quality"] = c.Quality, ["ms_per_sample"] = c.MsPerSample });
        var document = new JsonObject { ["model"] = title, ["quality"] = qualityName, ["n"] = n, ["floor"] = double.IsFinite(floor) ? floor : null, ["rows"] = rows };
        if (shard is not null)
        {
            // a shard: its rows and what every shard of the grid shares; no plot until the merge
            string part = Path.Combine(outDir, $"compare.shard-{shard.Index}.json");
            document["shard"] = shard.Index;
            document["shards"] = shard.Count;
            document["settings"] = ShardSettings(a);
            AtomicFile.WriteAllText(part, document.ToJsonString(new() { WriteIndented = true }));
            Console.WriteLine($"wrote {part} (shard {shard} of the grid's cells)");
            a.Result["compare_json"] = part;
            a.Result["shard"] = shard.ToString();
            a.Result["rows"] = rows.DeepClone();
            return 0;
        }
        var (json, png) = WriteGrid(Path.Combine(outDir, "compare.json"), document);
        a.Result["compare_json"] = json;
        a.Result["plot"] = png;
        a.Result["n"] = n;
        a.Result["quality"] = qualityName;
        a.Result["floor"] = double.IsFinite(floor) ? floor : null;
        a.Result["rows"] = rows.DeepClone();
        return 0;
    }

    /// <summary>The options every shard of one grid shares: those given, except the shard's own.</summary>
    static JsonObject ShardSettings(ParsedArgs a)
    {
        string[] own = ["shard", "out", "json", "quiet", "threads"];
        var o = new JsonObject();
        foreach (var (name, value) in a.Given.Where(g => !own.Contains(g.Key)).OrderBy(g => g.Key, StringComparer.Ordinal)) o[name] = value;
        return o;
    }

    /// <summary>The grid's document at <paramref name="jsonPath"/> and its plot beside it (.png): quality against NFE, one line per sampler.</summary>
    public static (string Json, string Png) WriteGrid(string jsonPath, JsonObject document)
    {
        if (Path.GetDirectoryName(jsonPath) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        string png = Path.ChangeExtension(jsonPath, ".png");
        AtomicFile.WriteAllText(jsonPath, document.ToJsonString(new() { WriteIndented = true }));
        var cells = document["rows"]!.AsArray().Select(r => (Sampler: (string)r!["sampler"]!, Nfe: (double)(int)r["nfe"]!, Quality: r["quality"]!.GetValue<double>())).ToList();
        var series = cells.GroupBy(c => c.Sampler).Select(g => (g.Key, g.Select(c => c.Nfe).ToArray(), g.Select(c => c.Quality).ToArray())).ToList();
        Plots.Lines(png, $"{document["model"]}: quality vs NFE (N = {document["n"]})", "NFE", (string)document["quality"]!, series, logX: true, logY: true);
        Console.WriteLine($"wrote {jsonPath} and {png}");
        return (jsonPath, png);
    }

    /// <summary>The shards of one grid (compare --shard I/N) as one document: every shard once, the same settings, rows in cell order.</summary>
    public static JsonObject MergeShards(IReadOnlyList<string> paths)
    {
        var docs = paths.Select(p =>
        {
            JsonObject? d;
            try { d = JsonNode.Parse(File.ReadAllText(p)) as JsonObject; }
            catch (System.Text.Json.JsonException e) { throw new DataException($"{p}: not a compare shard ({MessageText.OneLine(e.Message, 200)})"); }
            if (d?["shard"] is null || d["shards"] is null || d["rows"] is not JsonArray || d["settings"] is not JsonObject)
                throw new DataException($"{p}: not a compare shard (langevin compare --shard I/N writes compare.shard-I.json)");
            return (Path: p, Doc: d, Shard: (int)d["shard"]!, Shards: (int)d["shards"]!);
        }).OrderBy(d => d.Shard).ToList();
        var first = docs[0];
        foreach (var d in docs)
        {
            if (d.Shards != first.Shards || !JsonNode.DeepEquals(d.Doc["settings"], first.Doc["settings"]) || !JsonNode.DeepEquals(d.Doc["model"], first.Doc["model"]))
                throw new DataException($"{d.Path}: shard {d.Shard}/{d.Shards} is of another grid than {first.Path} (other settings or model)");
        }
        if (docs.GroupBy(d => d.Shard).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new DataException($"shard {twice.Key}/{first.Shards} is given twice: {string.Join(" and ", twice.Select(d => d.Path))}");
        var missing = Enumerable.Range(0, first.Shards).Except(docs.Select(d => d.Shard)).ToList();
        if (missing.Count > 0) throw new DataException($"compare shard{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Take(10).Select(i => $"{i}/{first.Shards}"))} missing: {docs.Count} of {first.Shards} given");
        var rows = new JsonArray();
        foreach (var d in docs)
            foreach (var r in d.Doc["rows"]!.AsArray()) rows.Add(r!.DeepClone());
        return new JsonObject { ["model"] = first.Doc["model"]!.DeepClone(), ["quality"] = first.Doc["quality"]!.DeepClone(), ["n"] = first.Doc["n"]!.DeepClone(),
            ["floor"] = first.Doc["floor"]?.DeepClone(), ["rows"] = rows };
    }

    /// <summary>Analytic models: SW2 against exact samples; the floor is a second exact set.</summary>
    static SampleQuality ExactQuality(GaussianMixtureScore mixture, int n, Generator gen)
    {
        var reference = mixture.Sample(n, gen).DetachFromDisposeScope();
        using var second = mixture.Sample(n, gen);
        return SampleQuality.SlicedWasserstein("SW2 vs exact samples", reference, gen, second, "exact vs exact");
    }

    /// <summary>Point runs: SW2 against N points of the held-out data (a fresh draw of a 2-D set), or of the data itself.</summary>
    static SampleQuality PointQuality(IGenerativeMethod method, int n, int seed, Generator gen)
    {
        var draw = HeldOutSplit.Of(method.Config.Data, method.Config.Seed) ?? NoHeldOut(method.Config.Data, seed, "SW2");
        using var data = draw.Load(new DataOptions(Limit: n));
        var reference = data.X.narrow(0, 0, Math.Min(n, data.Count)).to(float64).DetachFromDisposeScope();
        return SampleQuality.SlicedWasserstein($"SW2 vs {draw}", reference, gen);
    }

    /// <summary>Image runs: FD by the image-evaluation protocol against --ref (default: the run's held-out data), with its floor.</summary>
    static SampleQuality ImageQuality(ParsedArgs a, IGenerativeMethod method, int n, int seed) =>
        SampleQuality.FrechetDistance(OpenProtocol(a, method, seed), n);

    /// <summary>The image-evaluation protocol against --ref (default: the run's held-out data) with --features; shared with `guidance`.</summary>
    public static ImageEvaluationProtocol OpenProtocol(ParsedArgs a, IGenerativeMethod method, int seed)
    {
        string data = method.Config.Data;
        var reference = a.String("ref") is { } spec ? new DataDraw(spec, seed) : HeldOutSplit.Of(data, method.Config.Seed) ?? NoHeldOut(data, seed, "FD");
        var protocol = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(reference, seed, a.String("features"), FeatureNetworkCache.TrainingSpec(data)),
            Console.WriteLine, ProgressRunners.Display(a.Flag("quiet")));
        if (!protocol.IsImage || !protocol.ItemShape.SequenceEqual(method.ItemShape))
        {
            protocol.Dispose();
            throw new UsageException($"--ref: {reference.Spec} has items [{string.Join(", ", protocol.ItemShape)}], the model makes [{string.Join(", ", method.ItemShape)}]");
        }
        return protocol;
    }

    static DataDraw NoHeldOut(string data, int seed, string metric)
    {
        Console.WriteLine($"note: {data} has no held-out split; {metric} is measured against the training data itself");
        return new DataDraw(data, seed);
    }
}
