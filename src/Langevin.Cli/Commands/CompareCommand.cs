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
        var result = SamplerComparison.Run(compared, new SamplerComparisonSettings(samplers, budgets, n, seed, a.Flag("karras")), quality,
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
        if (cells.Count == 0) throw new UsageException("compare: no sampler ran within the given --nfe budgets");
        Directory.CreateDirectory(outDir);
        var rows = new JsonArray();
        foreach (var c in cells)
            rows.Add(new JsonObject { ["sampler"] = c.Sampler, ["budget"] = c.Budget, ["nfe"] = c.Nfe, ["quality"] = c.Quality, ["ms_per_sample"] = c.MsPerSample });
        string json = Path.Combine(outDir, "compare.json"), png = Path.Combine(outDir, "compare.png");
        AtomicFile.WriteAllText(json, new JsonObject { ["model"] = title, ["quality"] = qualityName, ["n"] = n, ["floor"] = double.IsFinite(floor) ? floor : null, ["rows"] = rows }.ToJsonString(new() { WriteIndented = true }));
        var series = cells.GroupBy(c => c.Sampler)
            .Select(g => (g.Key, g.Select(c => (double)c.Nfe).ToArray(), g.Select(c => c.Quality).ToArray())).ToList();
        Plots.Lines(png, $"{title}: quality vs NFE (N = {n})", "NFE", qualityName, series, logX: true, logY: true);
        Console.WriteLine($"wrote {json} and {png}");
        a.Result["compare_json"] = json;
        a.Result["plot"] = png;
        a.Result["n"] = n;
        a.Result["quality"] = qualityName;
        a.Result["floor"] = double.IsFinite(floor) ? floor : null;
        a.Result["rows"] = rows.DeepClone();
        return 0;
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
