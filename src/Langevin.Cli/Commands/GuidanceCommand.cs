using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.Guidance;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin guidance</c>: the fidelity–diversity trade-off of guidance on one run — classifier-free guidance over a list of
/// w and classifier guidance over a list of s, each row sampling every class in equal blocks from the same noise and scored by
/// the accuracy of the class asked for (images: the feature classifier; points: the nearest mode) and quality (images: FD,
/// precision, recall; 2-D mixtures: the share within 3σ of the label's mode and SW2 against exact class-conditional samples,
/// with that SW2's floor) — as a table, guidance.json, a plot and a grid per row, all rewritten after every row; a sweep
/// stopped midway keeps its rows when run again with the same settings.
/// </summary>
public sealed class GuidanceCommand : ICommand
{
    public string Name => "guidance";
    public string Summary => "the guidance trade-off on one run: class accuracy, FD, precision and recall against the CFG weight w and the classifier scale s";
    public string Usage => "langevin guidance --run RUN [--cfg 0,0.5,1,2,4] [--classifier RUN --guidance 0,0.5,1,2,4,8] [--n N] [--sampler NAME] [--steps N] [--out DIR]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("cfg", "LIST", "classifier-free guidance weights w (default 0,0.5,1,2,4 on a class-conditional run; 'none' to skip)"),
        new("classifier", "RUN", "a noisy-classifier run for classifier guidance"),
        new("guidance", "LIST", "classifier guidance scales s (default 0,0.5,1,2,4,8 with --classifier)"),
        new("guide-conditional", null, "classifier guidance on the conditional model (default: a class-conditional run's unconditional model, as Dhariwal & Nichol's unconditional ImageNet model)"),
        new("guidance-below", "SIGMA", "guide only where σ ≤ SIGMA"),
        new("n", "N", "samples per row, all classes in equal blocks (default 500 images, 2000 points)"),
        new("sampler", "NAME", "catalog sampler (default ddim)"),
        new("steps", "N", "its steps (default the sampler's)"),
        new("batch", "B", "draw B samples at a time"),
        new("ref", "SPEC", "images: the reference data for FD (default: the run's data, test split)"),
        new("features", "FILE", "images: a feature network (default: the cached one for the data)"),
        new("out", "DIR", "where guidance.json, guidance.md, guidance.png and the grids go (default: the run folder)"),
    ];

    public int Run(ParsedArgs a)
    {
        ComputeDevice.SetThreads(a.Int("threads"));
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        gen.Dispose();
        if (method is not IDenoisingMethod denoising) throw new UsageException($"guidance: a {method.Config.Method} run cannot be guided; guidance applies to ddpm, edm and sde runs");
        using var classifierRun = a.String("classifier") is { } crun ? ModelSource.LoadRun(crun, a.Flag("no-ema"), "--classifier") : null;
        var classifier = classifierRun is null ? null : (classifierRun as IClassifierMethod)?.Classifier
            ?? throw new UsageException($"--classifier: {a.String("classifier")} is a {classifierRun!.Config.Method} run, not a noisy-classifier run");
        bool conditional = (method as IClassConditionalMethod)?.Classes > 0;
        double[] cfg = a.String("cfg") == "none" ? [] : a.DoubleList("cfg") ?? (conditional ? [0, 0.5, 1, 2, 4] : []);
        double[] scales = a.DoubleList("guidance") ?? (classifier is null ? [] : [0, 0.5, 1, 2, 4, 8]);
        if (cfg.Length > 0 && !conditional) throw new UsageException($"--cfg needs a class-conditional run (trained with --classes); this {method.Config.Method} run is unconditional");
        if (scales.Length > 0 && classifier is null) throw new UsageException("--guidance needs --classifier RUN (a noisy-classifier run)");
        if (cfg.Length + scales.Length == 0) throw new UsageException("guidance: nothing to sweep; this run is unconditional, give --classifier RUN");
        if (cfg.Concat(scales).Any(v => v < 0)) throw new UsageException("--cfg and --guidance scales must be ≥ 0");
        bool image = method.ItemShape.Length == 3;
        int n = a.Int("n") ?? (image ? 500 : 2000);
        var request = SampleCommand.Request(a) with { Sampler = a.String("sampler") ?? "ddim" };
        int seed = a.Int("seed") ?? 0;
        var settings = new GuidanceSweepSettings(cfg, scales, n, request, seed, a.Int("batch"), a.Flag("guide-conditional"), a.Double("guidance-below"));
        string outDir = a.String("out") ?? a.String("run") ?? ".";

        using var scorer = image ? CompareCommand.OpenProtocol(a, method, seed) : null;   // compare's --ref / --features protocol
        (IReadOnlyList<(float X, float Y)> Modes, double Std)? toy = image ? null
            : Toy2D.TryGet(method.Config.Data) is { Modes: { } modes, ComponentStd: { } std } ? (modes, std) : null;
        if (!image && toy is null) throw new UsageException($"guidance: scoring points needs a 2-D Gaussian mixture (8gaussians, 25gaussians), not {method.Config.Data}");
        string jsonPath = Path.Combine(outDir, "guidance.json"), mdPath = Path.Combine(outDir, "guidance.md"), png = Path.Combine(outDir, "guidance.png");
        var header = new JsonObject
        {
            ["run"] = a.String("run"), ["sampler"] = request.Sampler, ["steps"] = request.Steps, ["n"] = n, ["seed"] = seed, ["batch"] = a.Int("batch"),
            ["guide_conditional"] = a.Flag("guide-conditional"), ["guidance_below"] = a.Double("guidance-below"), ["ref"] = a.String("ref"), ["features"] = a.String("features"),
        };
        var done = EarlierRows(jsonPath, header);   // an interrupted sweep with these settings: its rows stand
        Console.WriteLine($"{method.Config.Method} {a.String("run")}: {request.Sampler} {request.Steps?.ToString(CultureInfo.InvariantCulture) ?? "(default steps)"}, N = {n} per row (all classes), seed {seed}"
            + (done.Count > 0 ? $"; {done.Count} row(s) kept from {jsonPath}" : ""));
        if (toy is { } t)   // what SW2 is between two exact class-conditional sample sets of this size: the floor of the column
        {
            int k = (method as IClassConditionalMethod)?.Classes > 0 ? ((IClassConditionalMethod)method).Classes : classifier!.Classes;
            header["sw2_floor"] = ExactFloor(t.Modes, t.Std, k, n, seed);
            Console.WriteLine($"SW2 per class between two exact class-conditional sets of {n}: {header["sw2_floor"]!.GetValue<double>():G4} (the floor of sw2_vs_exact_conditional)");
        }
        Directory.CreateDirectory(outDir);
        var rows = GuidanceSweep.Run(denoising, classifier, settings,
            (samples, labels) => image ? ScoreImages(scorer!, samples, labels) : ScorePoints(toy!.Value.Modes, toy.Value.Std, samples, labels, seed),
            ProgressRunners.Display(a.Flag("quiet")),
            (kind, scale, samples, labels) => SamplePreview.Write(Path.Combine(outDir, $"guidance-{kind}-{Text(scale)}.png"), samples, $"{kind} {Text(scale)}",
                image ? ClassGuidance.RowColumns(labels) : null),   // one row per class
            done, sofar => Write(sofar, header, jsonPath, mdPath, png, image, n, request.Sampler));   // after every row, so a stop keeps them
        Write(rows, header, jsonPath, mdPath, png, image, n, request.Sampler);
        var table = File.ReadAllText(mdPath);
        Console.Write(table);
        Console.WriteLine($"wrote {jsonPath}, {mdPath} and {png}");
        a.Result["rows"] = JsonNode.Parse(File.ReadAllText(jsonPath))!["rows"]!.DeepClone();
        a.Result["guidance_json"] = jsonPath;
        return 0;
    }

    /// <summary>The rows of <paramref name="path"/> when it was written with the same settings; a sweep with other settings is not overwritten.</summary>
    static List<GuidanceSweepRow> EarlierRows(string path, JsonObject header)
    {
        if (!File.Exists(path)) return [];
        JsonObject old;
        try { old = JsonNode.Parse(File.ReadAllText(path))!.AsObject(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
        { throw new UsageException($"{path}: not a guidance.json ({e.Message.Split('\n')[0]}); delete it or give another --out"); }
        var differ = header.Where(kv => !JsonNode.DeepEquals(kv.Value, old[kv.Key])).Select(kv => $"{kv.Key} {old[kv.Key]?.ToJsonString() ?? "none"} there, {kv.Value?.ToJsonString() ?? "none"} now").ToList();
        if (differ.Count > 0) throw new UsageException($"{path} holds a sweep with other settings ({string.Join("; ", differ)}); give another --out or delete it");
        var known = new HashSet<string> { "guidance", "scale", "nfe", "classifier_evaluations", "seconds_per_sample", "class_acc" };
        return (old["rows"]?.AsArray() ?? []).Select(r => r!.AsObject()).Select(r => new GuidanceSweepRow(
            r["guidance"]!.GetValue<string>(), r["scale"]!.GetValue<double>(), r["nfe"]!.GetValue<int>(), r["classifier_evaluations"]!.GetValue<int>(),
            r["seconds_per_sample"]!.GetValue<double>(), r["class_acc"]!.GetValue<double>(),
            r.Where(kv => !known.Contains(kv.Key)).Select(kv => (kv.Key, kv.Value!.GetValue<double>())).ToList())).ToList();
    }

    /// <summary>guidance.json (settings + rows), guidance.md (the table) and guidance.png (accuracy, and for images precision and recall, against the scale).</summary>
    static void Write(IReadOnlyList<GuidanceSweepRow> rows, JsonObject header, string jsonPath, string mdPath, string png, bool image, int n, string sampler)
    {
        var metricNames = rows[0].Quality.Select(q => q.Metric).ToList();
        var columns = new[] { "guidance", "scale", "NFE", "classifier", "s/sample", "class acc" }.Concat(metricNames).ToArray();
        var md = new StringBuilder($"| {string.Join(" | ", columns)} |\n|{string.Concat(columns.Select(_ => "---|"))}\n");
        var json = new JsonArray();
        foreach (var r in rows)
        {
            string[] cells = [r.Kind, Text(r.Scale), $"{r.Nfe}", $"{r.ClassifierEvaluations}", r.SecondsPerSample.ToString("G3", CultureInfo.InvariantCulture),
                r.Accuracy.ToString("F3", CultureInfo.InvariantCulture), .. r.Quality.Select(q => q.Value.ToString("G4", CultureInfo.InvariantCulture))];
            md.Append($"| {string.Join(" | ", cells)} |\n");
            var o = new JsonObject { ["guidance"] = r.Kind, ["scale"] = r.Scale, ["nfe"] = r.Nfe, ["classifier_evaluations"] = r.ClassifierEvaluations,
                ["seconds_per_sample"] = r.SecondsPerSample, ["class_acc"] = r.Accuracy };
            foreach (var (m, v) in r.Quality) o[m] = v;
            json.Add(o);
        }
        var whole = (JsonObject)header.DeepClone();
        whole["rows"] = json;
        AtomicFile.WriteAllText(jsonPath, whole.ToJsonString(new() { WriteIndented = true }));
        AtomicFile.WriteAllText(mdPath, md.ToString());
        var series = new List<(string, double[], double[])>();
        foreach (var g in rows.GroupBy(r => r.Kind))
        {
            series.Add(($"{g.Key}: class accuracy", g.Select(r => r.Scale).ToArray(), g.Select(r => r.Accuracy).ToArray()));
            if (image) series.Add(($"{g.Key}: recall", g.Select(r => r.Scale).ToArray(), g.Select(r => Metric(r, "recall")).ToArray()));
            if (image) series.Add(($"{g.Key}: precision", g.Select(r => r.Scale).ToArray(), g.Select(r => Metric(r, "precision")).ToArray()));
            if (!image) series.Add(($"{g.Key}: within 3σ of its mode", g.Select(r => r.Scale).ToArray(), g.Select(r => Metric(r, "within_3sd")).ToArray()));
        }
        Plots.Lines(png, $"guidance trade-off (N = {n}, {sampler})", "guidance scale (w or s)", image ? "accuracy / precision / recall" : "accuracy / share within 3σ", series);
    }

    static double Metric(GuidanceSweepRow r, string name) => r.Quality.FirstOrDefault(q => q.Metric == name).Value;

    static string Text(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    static (double, IReadOnlyList<(string, double)>) ScoreImages(ImageEvaluationProtocol protocol, Tensor samples, Tensor labels)
    {
        using var unit = SamplePreview.ToUnitRange(samples);
        double accuracy = protocol.ClassAccuracy(unit, labels);
        var rows = protocol.Score(unit, ["fd", "pr"]);
        return (accuracy, rows);
    }

    /// <summary>SW2 between two independent exact class-conditional sample sets, the labels in equal blocks as the sweep draws them.</summary>
    static double ExactFloor(IReadOnlyList<(float X, float Y)> modes, double std, int classes, int n, int seed)
    {
        using var scope = NewDisposeScope();
        var centres = tensor(modes.SelectMany(m => new[] { m.X, m.Y }).ToArray(), [modes.Count, 2]).to(float64);
        var own = centres.index_select(0, ClassGuidance.ParseLabels("all", classes, n));
        using var g = new Generator(unchecked((ulong)seed + 2));
        var a = own + std * randn(own.shape, float64, generator: g);
        var b = own + std * randn(own.shape, float64, generator: g);
        return PerClassSw2(a, b, ClassGuidance.ParseLabels("all", classes, n), g);
    }

    /// <summary>The mean over classes of SW2 between the points of class k in <paramref name="a"/> and in <paramref name="b"/> (same labels).</summary>
    static double PerClassSw2(Tensor a, Tensor b, Tensor labels, Generator g)
    {
        using var scope = NewDisposeScope();
        var distances = new List<double>();
        foreach (long k in labels.unique().Item1.data<long>().ToArray())
        {
            var rows = labels.eq(k).nonzero().squeeze(1);
            if (rows.numel() >= 2) distances.Add(SlicedWasserstein.Distance(a.index_select(0, rows), b.index_select(0, rows), 256, g));
        }
        return distances.Average();
    }

    /// <summary>Points of a Gaussian mixture: accuracy = nearest mode is the label; within 3σ of the label's mode; SW2 against exact samples of each class, averaged over the classes.</summary>
    static (double, IReadOnlyList<(string, double)>) ScorePoints(IReadOnlyList<(float X, float Y)> modes, double std, Tensor samples, Tensor labels, int seed)
    {
        using var scope = NewDisposeScope();
        var centres = tensor(modes.SelectMany(m => new[] { m.X, m.Y }).ToArray(), [modes.Count, 2]);
        var x = samples.to(float32);
        var nearest = cdist(x, centres).argmin(1);
        double accuracy = nearest.eq(labels).to(float64).mean().item<double>();
        var own = centres.index_select(0, labels);
        double within = ((x - own).norm(1) <= 3 * std).to(float64).mean().item<double>();
        using var g = new Generator(unchecked((ulong)seed + 1));
        var exact = own + std * randn(x.shape, generator: g);
        double sw = PerClassSw2(x.to(float64), exact.to(float64), labels, g);
        return (accuracy, [("within_3sd", within), ("sw2_vs_exact_conditional", sw)]);
    }
}
