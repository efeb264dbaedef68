using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Metrics;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin eval</c>: sample quality against a reference — 2-D points (see <see cref="PointSetEvaluation"/>) or images in a
/// feature network's space (see <see cref="ImageSetEvaluation"/>) — with the floor a set of real data scores, as a table and
/// optionally JSON; <c>--calibrate DATA</c> prints the calibration table of the image metrics.
/// </summary>
public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "score samples against a reference: 2-D distances and log-likelihood, or image FD, KID, precision/recall, IS";
    public string Usage => "langevin eval --samples S.npy --ref SPEC [--metrics LIST] [--features FILE] [--n N] [--seed S] [--chain-window W] [--json FILE]\n" +
                           "       langevin eval --calibrate fashion-mnist [--calibrate-n 1000,10000] [--features FILE] [--json FILE] [--markdown FILE]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("samples", "S.npy", "the samples to score: [N, 2] points, or [N, C, H, W] images in [0, 1] (float32/64, as 'langevin sample --out' writes)"),
        new("ref", "SPEC", "the reference: a 2-D dataset (8gaussians, ...), npy:FILE of [M, 2] points, or an image dataset (fashion-mnist[:test], cifar10:DIR[:test], shapes:32)"),
        new("metrics", "LIST", $"comma-separated; points: {string.Join(", ", PointSetEvaluation.KnownMetrics)} (default: those that apply); images: {string.Join(", ", ImageSetEvaluation.KnownMetrics)} (default: all)"),
        new("features", "FILE", "images: the feature network (safetensors from 'langevin features train'); default: the cached one for the reference dataset, trained once if missing"),
        new("n", "N", "score only the first N samples (default: all); the metrics depend on N"),
        new("seed", "S", "seed for the reference draws, SWD directions and KID subsets (default 0)"),
        new("chain-window", "W", "the samples are ONE chain in emission order (walk-jump): add its mixing over windows of W consecutive samples — distinct classes (images: the feature classifier's) or nearest modes (2-D mixtures) visited, and label changes between neighbours; the floor column is independent draws"),
        new("json", "FILE", "also write the results as JSON to FILE"),
        new("calibrate", "DATA", "instead of scoring samples: the calibration table of the image metrics on DATA (train split vs test split)"),
        new("calibrate-n", "LIST", "calibrate: the sample sizes N (default 1000,10000)"),
        new("markdown", "FILE", "calibrate: also write the table as Markdown"),
        new("labels", "FILE.npy", "images: the class each sample was asked for ([N] integers, e.g. sample --class's FILE.labels.npy): adds class_acc, the share the feature classifier assigns to that class"),
        new("threads", "N", "CPU threads (default: the core count)"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
    ];

    public int Run(ParsedArgs a)
    {
        ComputeDevice.SetThreads(a.Int("threads"));
        if (a.String("calibrate") is { } calibrate) return Calibrate(a, calibrate);
        string path = a.String("samples") ?? throw new UsageException("eval: --samples is required (an .npy file of [N, 2] points or [N, C, H, W] images in [0, 1])");
        string refSpec = a.String("ref") ?? throw new UsageException("eval: --ref is required (a 2-D dataset such as 8gaussians, or an image dataset such as fashion-mnist:test)");
        int seed = a.Int("seed") ?? 0;
        int? nOpt = a.Int("n");
        if (nOpt is < 2) throw new UsageException($"eval: --n must be at least 2 (got {nOpt})");
        string[]? metrics = a.String("metrics")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (metrics is { Length: 0 }) throw new UsageException($"eval: --metrics is empty; give a comma-separated list of: {string.Join(", ", PointSetEvaluation.KnownMetrics.Concat(ImageSetEvaluation.KnownMetrics))}");
        string? jsonPath = a.String("json");
        int? chainWindow = a.Int("chain-window");

        using var scope = NewDisposeScope();
        var samples = NpyFile.Read(path);
        if (samples.shape.Length > 0 && samples.shape[0] == 0) throw new DataException($"{path}: holds no samples (its first dimension is 0)");
        if (samples.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new DataException($"{path}: eval needs float32 or float64 samples, got {samples.dtype}; save images as floats in [0, 1] (what 'langevin sample --out' writes)");
        if (!samples.isfinite().all().item<bool>())
            throw new DataException($"{path}: the samples contain NaN or infinite values; the sampler diverged or the file is damaged");
        if (samples.dim() == 4) return EvalImages(a, path, samples, refSpec, metrics, nOpt, seed, jsonPath, chainWindow);
        if (samples.dim() != 2 || samples.shape[1] != 2)
            throw new DataException($"{path}: eval needs [N, 2] points or [N, C, H, W] images, got shape [{string.Join(", ", samples.shape)}]");
        long total = samples.shape[0];
        if (total < 2) throw new DataException($"{path}: eval needs at least 2 points, got {total}");
        if (nOpt is int n0 && n0 > total) throw new UsageException($"eval: --n {n0} is more than the {total} samples in {path}");
        int n = nOpt ?? checked((int)total);
        var used = samples.narrow(0, 0, n);

        var rows = PointSetEvaluation.Evaluate(used, refSpec, metrics, seed, chainWindow);

        Console.WriteLine($"samples {path} vs reference {refSpec}: N = {n}, seed {seed}; floor = a second fresh reference set of N points");
        PrintTable(["metric", "samples", "floor"], rows.Select(r => new[] { r.Metric, Format(r.Metric, r.Samples), Format(r.Metric, r.Floor) }).ToList());

        if (jsonPath is not null)
        {
            var results = new JsonObject();
            foreach (var r in rows) results[r.Metric] = new JsonObject { ["samples"] = Json(r.Samples), ["floor"] = Json(r.Floor) };
            WriteJson(jsonPath, new JsonObject
            {
                ["samples"] = path,
                ["ref"] = refSpec,
                ["n"] = n,
                ["seed"] = seed,
                ["swd_projections"] = PointSetEvaluation.Projections,
                ["mmd_bandwidths"] = "median pairwise distance of the reference set times 0.5, 1, 2",
                ["metrics"] = results,
            });
        }
        return 0;
    }

    int EvalImages(ParsedArgs a, string path, Tensor samples, string refSpec, string[]? metrics, int? nOpt, int seed, string? jsonPath, int? chainWindow)
    {
        var requested = ImageSetEvaluation.Resolve(metrics);
        long total = samples.shape[0];
        if (total < 4) throw new DataException($"{path}: image metrics need at least 4 samples (precision/recall uses 3 neighbours), got {total}");
        double lo = samples.min().to(ScalarType.Float64).item<double>(), hi = samples.max().to(ScalarType.Float64).item<double>();
        if (lo < 0 || hi > 1)
            throw new DataException($"{path}: image samples must be in [0, 1] (got values in [{lo:G4}, {hi:G4}]); write them as 'langevin sample --out' does (x in [−1, 1] → (x + 1)/2)");
        if (nOpt is int n0 && n0 > total) throw new UsageException($"eval: --n {n0} is more than the {total} samples in {path}");
        int n = nOpt ?? checked((int)total);
        long[] itemShape = samples.shape[1..];

        using var protocol = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw(refSpec, seed), seed, a.String("features")),
            Console.WriteLine, ProgressRunners.Display(a.Flag("quiet")));
        if (!protocol.IsImage) throw new UsageException($"--ref '{refSpec}': the samples are images [{string.Join(", ", itemShape)}] but the reference holds points; give an image dataset such as fashion-mnist:test");
        if (!protocol.ItemShape.SequenceEqual(itemShape))
            throw new DataException($"{path}: samples are [{string.Join(", ", itemShape)}] images but {refSpec} holds [{string.Join(", ", protocol.ItemShape)}]; sample from a model trained on that data");
        long m = protocol.ReferenceCount;
        Console.WriteLine($"embedding {n} samples and {m} reference images with {protocol.Network.Shape.FeatureDim}-d features");
        var rows = protocol.Score(samples.narrow(0, 0, n), requested, chainWindow);
        var floorRows = protocol.ScoreFloor(n, requested, chainWindow);
        double? accuracy = null;
        if (a.String("labels") is { } labelsPath)
        {
            using var labels = NpyFile.Read(labelsPath, integers: true);
            if (labels.dim() != 1 || labels.shape[0] != total || labels.is_floating_point())
                throw new DataException($"{labelsPath}: needs [{total}] integer labels, one per sample of {path} (got {labels.dtype} [{string.Join(", ", labels.shape)}])");
            accuracy = protocol.ClassAccuracy(samples.narrow(0, 0, n), labels.narrow(0, 0, n));
        }

        Console.WriteLine($"samples {path} vs reference {refSpec}: N = {n} samples, {m} reference images, seed {seed}" +
                          (floorRows is null ? "" : $"; floor = N real images from {protocol.Floor}"));
        var table = rows.Select((r, i) => floorRows is null
            ? new[] { r.Metric, Format(r.Metric, r.Value) }
            : new[] { r.Metric, Format(r.Metric, r.Value), Format(r.Metric, floorRows[i].Value) }).ToList();
        PrintTable(floorRows is null ? ["metric", "samples"] : ["metric", "samples", "floor"], table);
        if (accuracy is { } acc) Console.WriteLine($"class_acc {acc:F4}: the share of samples the feature classifier assigns to the class asked for");

        if (jsonPath is not null)
        {
            var results = new JsonObject();
            for (int i = 0; i < rows.Count; i++)
            {
                var o = new JsonObject { ["samples"] = Json(rows[i].Value) };
                if (floorRows is not null) o["floor"] = Json(floorRows[i].Value);
                results[rows[i].Metric] = o;
            }
            WriteJson(jsonPath, new JsonObject
            {
                ["samples"] = path,
                ["ref"] = refSpec,
                ["n"] = n,
                ["n_reference"] = m,
                ["floor"] = protocol.Floor?.ToString(),
                ["seed"] = seed,
                ["feature_dim"] = protocol.Network.Shape.FeatureDim,
                ["kid"] = $"cubic polynomial kernel, {KernelInceptionDistance.DefaultSubsets} subsets of min({KernelInceptionDistance.DefaultSubsetSize}, N)",
                ["precision_recall_k"] = PrecisionRecall.DefaultK,
                ["metrics"] = results,
                ["class_acc"] = accuracy,
            });
        }
        return 0;
    }

    int Calibrate(ParsedArgs a, string dataSpec)
    {
        int seed = a.Int("seed") ?? 0;
        int[] ns = a.IntList("calibrate-n") ?? [1000, 10_000];
        string trainSpec = FeatureNetworkCache.TrainingSpec(dataSpec);
        var heldOut = HeldOutSplit.Of(trainSpec, seed) ?? throw new UsageException($"eval --calibrate: {dataSpec} has no train/test split; use fashion-mnist, mnist:DIR or cifar10:DIR");
        string testSpec = heldOut.ToString();
        using var train = DataSources.Load(trainSpec, new DataOptions(Seed: seed));
        using var test = heldOut.Load();
        using var net = FeatureNetworkCache.Open(a.String("features"), trainSpec, train.ItemShape, Console.WriteLine, ProgressRunners.Display(a.Flag("quiet")));
        using var train01 = train.X.add(1).div(2);
        using var test01 = test.X.narrow(0, 0, Math.Min(ImageEvaluationProtocol.MaxReference, test.Count)).add(1).div(2);
        Console.WriteLine($"calibrating on {trainSpec} (samples) vs {testSpec} ({test01.shape[0]} reference images), N = {string.Join(", ", ns)}");
        int conditions = 2 + MetricCalibration.BlurSigmas.Count + MetricCalibration.NoiseStds.Count;
        IReadOnlyList<CalibrationRow> rows = [];
        ProgressDisplay.Run("calibrate", conditions * ns.Length, 0, a.Flag("quiet"), "rows", p =>
        {
            int done = 0;
            rows = MetricCalibration.Run(net, train01, test01, ns, seed, r => p.Report(++done, $"{r.Condition} N={r.N}"));
        });
        var metricNames = rows[0].Values.Select(v => v.Metric).ToArray();
        var table = rows.Select(r => new[] { r.Condition, r.N.ToString(CultureInfo.InvariantCulture) }
            .Concat(r.Values.Select(v => Format(v.Metric, v.Value))).ToArray()).ToList();
        string[] header = ["condition", "N", .. metricNames];
        PrintTable(header, table);
        if (a.String("markdown") is { } md)
        {
            var lines = new List<string> { "| " + string.Join(" | ", header) + " |", "|" + string.Concat(header.Select((_, i) => i < 1 ? "---|" : "---:|")) };
            lines.AddRange(table.Select(r => "| " + string.Join(" | ", r) + " |"));
            AtomicFile.WriteAllText(md, string.Join('\n', lines) + "\n");
            Console.WriteLine($"wrote {md}");
        }
        if (a.String("json") is { } jsonPath)
        {
            var arr = new JsonArray();
            foreach (var r in rows)
            {
                var o = new JsonObject { ["condition"] = r.Condition, ["n"] = r.N };
                foreach (var (m, v) in r.Values) o[m] = Json(v);
                arr.Add(o);
            }
            WriteJson(jsonPath, new JsonObject { ["data"] = trainSpec, ["reference"] = testSpec, ["n_reference"] = test01.shape[0], ["seed"] = seed, ["rows"] = arr });
        }
        return 0;
    }

    static JsonNode? Json(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static void WriteJson(string path, JsonObject json)
    {
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {path}");
    }

    static void PrintTable(string[] header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
        Console.WriteLine(Line(header));
        foreach (var r in rows) Console.WriteLine(Line(r));
    }

    static string Format(string metric, double v) => metric == "modes_covered"
        ? v.ToString("0", CultureInfo.InvariantCulture)
        : v.ToString("G4", CultureInfo.InvariantCulture);
}
