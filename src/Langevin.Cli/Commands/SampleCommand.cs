using System.Globalization;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Energy;
using Langevin.Guidance;

namespace Langevin.Cli.Commands;

public sealed class SampleCommand : ICommand
{
    public string Name => "sample";
    public string Summary => "draw samples from a trained or analytic model to .npy and/or a PNG";
    public string Usage => "langevin sample (--run RUN | --checkpoint FILE | --model analytic:FILE.json) [--sampler NAME] [--steps N] [--n N] [--seed S] [--noise FILE.npy] [--compose RUN[,RUN...]] [--compose-sampler own|ais] [--out FILE.npy] [--grid FILE.png]";

    /// <summary>--sampler, --steps and the options of every sampler, the catalog's and the methods' own, as they declare them.</summary>
    public static readonly IReadOnlyList<OptionSpec> SamplerSpecs =
    [
        new("sampler", "NAME", $"sampler: {string.Join(", ", SamplerCatalog.Names)} (default: the method's own)"),
        new("steps", "N", "sampling steps (default: the sampler's; ode-rk45 is adaptive)"),
        .. SamplerOptionHelp.For([.. SamplerCatalog.All, .. MethodSamplers.All]).Select(h => new OptionSpec(h.Option.Name, h.Option.Value, h.Text)),
    ];

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("model", "analytic:FILE.json", "an analytic Gaussian mixture {\"weights\", \"means\", \"std\"} with its exact denoiser"),
        new("dtype", "float32|float64", "analytic models: compute (and output) precision (default float32)"),
        new("n", "N", "number of samples (default 64; with --noise, its first dimension)"),
        new("noise", "FILE.npy", "unit Gaussian noise [N, ...] that starts the chain (the sampler scales it by its initial σ)"),
        new("out", "FILE.npy", "samples: float32 [N, C, H, W] in [0, 1] for images, [N, D] for points"),
        new("grid", "FILE.png", "a picture of the samples (image grid or scatter plot)"),
        new("gif", "FILE.gif", "an animation of the sampling trajectory (one frame per noise level)"),
        .. GuidanceOptions.Specs,
        new("batch", "B", "draw the N samples B at a time (catalog samplers default: as many as --memory allows, measured on the model; with --shard 2^17 values per batch, 167 28×28 images; a method's own sampler: all N); a catalog sampler draws sample i's start noise and chain noise from generators seeded by (seed, i), so it gives the same samples at any B"),
        new("memory", "SIZE", "catalog samplers without --batch: keep the process's resident memory within SIZE, e.g. 2G or 800M (default 1G)"),
        new("shard", "I/N", "draw only shard I of N (0-based): a contiguous run of whole batches; shards run with the same --n, --batch and --seed give, merged (langevin merge), exactly the unsharded samples; needs --out, beside which it writes FILE.shard.json"),
        new("compose", "RUN[,RUN...]", "energy models: sample the product of densities, exp(−E_run − E_RUN...), with --compose-sampler (default: --run's own sampler and settings; --steps: its chain length)"),
        new("compose-sampler", "own|ais", "energy models, with --compose or --run alone: own = --run's sampler (SGLD/PGD; cold, a chain stays in the well it falls into; default), ais = annealed importance sampling of exp(−Σ E_i/T_i): MALA moves from the uniform box down a temperature ladder, with resampling, so every well gets its mass"),
        new("temperature", "auto|T[,T...]", "ais: each energy's temperature T_i, one for all or one per run (default auto: the maximum-likelihood T of each run on its training data, 2-D points only)"),
        new("anneal-levels", "K", "ais: inverse temperatures, geometric from 1e-4 to 1 (default 300)"),
        new("mala-steps", "M", "ais: MALA moves per level (default 2)"),
        new("particles", "P", "ais: particles annealed, then resampled to --n (default --n)"),
        new("quench", "K", "ais: then K steps of --run's own (cold) sampler on Σ E_i, which drops every sample to the bottom of the well the annealing chose (default 0)"),
        .. SamplerSpecs,
    ];

    /// <summary>What every shard of one draw must share: the options given except the shard's own outputs, with the seed and batch resolved.</summary>
    static System.Text.Json.Nodes.JsonObject DrawSettings(ParsedArgs a, Generator gen, DrawRequest request, IGenerativeMethod method)
    {
        string[] own = ["shard", "out", "grid", "gif", "json", "quiet", "threads"];
        var o = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, value) in a.Given.Where(g => !own.Contains(g.Key)).OrderBy(g => g.Key, StringComparer.Ordinal)) o[name] = value;
        o["seed"] = gen.initial_seed().ToString(CultureInfo.InvariantCulture);
        o["batch"] = MethodSampling.BatchOf(method, request).ToString(CultureInfo.InvariantCulture);
        return o;
    }

    public int Run(ParsedArgs a)
    {
        string? outPath = a.String("out"), gridPath = a.String("grid"), gifPath = a.String("gif");
        if (outPath is null && gridPath is null && gifPath is null) throw new UsageException("sample: give --out FILE.npy, --grid FILE.png and/or --gif FILE.gif");
        using var noise = a.String("noise") is { } nf ? NpyFile.Read(nf) : null;
        int n = a.Int("n") ?? (noise is null ? 64 : (int)noise.shape[0]);
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        if (noise is not null && noise.shape[0] != n) throw new UsageException($"--noise: holds {noise.shape[0]} items but --n is {n}");
        if (noise is not null && !noise.isfinite().all().item<bool>()) throw new DataException($"{a.String("noise")}: the noise holds NaN or infinite values");
        if (gifPath is not null && a.Has("model")) throw new UsageException("--gif applies to trained models only");
        var shard = a.String("shard") is { } shardText ? SampleShard.Parse(shardText) : null;
        if (shard is not null && outPath is null) throw new UsageException("--shard needs --out FILE.npy (beside it goes FILE.shard.json, which langevin merge reads)");
        if (shard is not null && (a.Has("model") || a.Has("compose") || a.Has("compose-sampler") || gifPath is not null))
            throw new UsageException("--shard applies to sampling a trained run (--run or --checkpoint), without --compose and --gif");
        if (ModelSource.Analytic(a, Name, "float32") is { } analytic) return RunAnalytic(a, analytic, n, noise, outPath, gridPath);

        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        if (a.Has("compose") || a.Has("compose-sampler")) return RunComposed(a, method, gen, n, noise, a.String("compose"), outPath, gridPath);
        if (AnnealingOptions.FirstOrDefault(a.Has) is { } aisOnly) throw new UsageException($"--{aisOnly} applies to --compose-sampler ais only");
        using var classifierRun = GuidanceOptions.LoadClassifier(a, gen.device);
        var guidance = GuidanceOptions.Of(a, method, classifierRun, n);
        using var labels = guidance?.Labels;
        var frames = new List<Tensor>();
        Action<Tensor>? onFrame = gifPath is null ? null : x => frames.Add(SamplePreview.Frame(x));
        var request = new DrawRequest
        {
            N = n, Sampler = a.String("sampler"), Steps = a.Int("steps"), Catalog = Request(a), OwnOptions = SamplerOptionsGiven(a),
            Batch = a.Int("batch"), Shard = shard, Noise = noise, Guidance = guidance, MemoryBudget = Memory(a),
        };
        using var draw = MethodSampling.Run(method, request, gen, ProgressRunners.Display(a.Flag("quiet")), onFrame);
        if (draw.Report is { } report) Console.WriteLine(report);
        if (draw.BatchNote is { } batchNote) Console.WriteLine(batchNote);
        a.Result["nfe"] = draw.Evaluations;
        if (draw.Batch > 0) a.Result["batch"] = draw.Batch;
        if (draw.CatalogResult is { } result) Record(a, request.Catalog! with { Sampler = draw.Sampler }, result);
        if (guidance is not null)
        {
            a.Result["nfe"] = draw.Evaluations;
            a.Result["classifier_evaluations"] = draw.ClassifierEvaluations;
            a.Result["class"] = a.String("class");
            a.Result["cfg"] = guidance.Scales.Cfg;
            a.Result["guidance"] = guidance.Scales.Classifier;
        }
        var drawn = draw.Samples;
        int items = (int)drawn.shape[0];
        using var shardLabels = labels?.narrow(0, draw.FirstItem, items);
        if (gifPath is not null)
        {
            GifWriter.Save(gifPath, frames, delayCentiseconds: 12);
            foreach (var f in frames) f.Dispose();
            Console.WriteLine($"wrote {gifPath} ({frames.Count} frames)");
        }
        string title = shard is null ? $"{method.Config.Method} samples (N = {n})" : $"{method.Config.Method} samples {draw.FirstItem}–{draw.FirstItem + items - 1} of {n} (shard {shard})";
        Write(drawn, outPath, gridPath, title, keepDtype: false, shardLabels is null ? null : ClassGuidance.RowColumns(shardLabels));
        if (shardLabels is not null && outPath is not null)
        {
            string labelsPath = LabelsPath(outPath);
            NpyFile.Write(labelsPath, shardLabels);
            Console.WriteLine($"wrote {labelsPath} [{shardLabels.shape[0]}]");
            a.Result["labels"] = labelsPath;
        }
        if (shard is not null)
        {
            new ShardManifest(shard.Index, shard.Count, n, draw.FirstItem, items, shardLabels is not null, DrawSettings(a, gen, request, method)).Write(outPath!);
            Console.WriteLine($"wrote {ShardManifest.PathOf(outPath!)} (shard {shard}: samples {draw.FirstItem}–{draw.FirstItem + items - 1} of {n})");
            a.Result["shard"] = shard.ToString();
            a.Result["first_item"] = draw.FirstItem;
        }
        a.Result["method"] = method.Config.Method;
        a.Result["sampler"] ??= a.String("sampler") ?? method.SamplerNames[0];
        RecordFiles(a, n, outPath, gridPath, gifPath);
        return 0;
    }

    /// <summary>--memory SIZE in bytes (null when not given).</summary>
    static long? Memory(ParsedArgs a) => a.String("memory") is { } text
        ? SamplingBudget.ParseSize(text) ?? throw new UsageException($"--memory must be a size such as 1.5G or 800M (got '{MessageText.OneLine(text, 40)}')")
        : null;

    /// <summary>`--model analytic:FILE.json`: the exact denoiser of a Gaussian mixture under any sampler and process.</summary>
    int RunAnalytic(ParsedArgs a, GaussianMixtureScore analytic, int n, Tensor? noise, string? outPath, string? gridPath)
    {
        using var mixture = analytic;
        var dtype = mixture.Means.dtype;
        var device = CPU;
        long dim = mixture.Means.shape[1];
        var request = Request(a) with { Sampler = a.String("sampler") ?? "ddim" };
        var process = new SamplingProcess(request.Process ?? (request.Sampler.StartsWith("edm", StringComparison.Ordinal) ? SamplingProcess.Edm : SamplingProcess.Vp),
            request.Process is SamplingProcess.Vp or null ? new VpDiscreteSchedule(1000, request.Betas ?? VpDiscreteSchedule.Linear) : null);
        if (process.Kind == SamplingProcess.Ve && request.SigmaMax is null)
            throw new UsageException("--process ve needs --sigma-max (and --sigma-min), the range of NCSN's geometric σ's");
        request = request with { Process = a.String("process") };
        using var gen = new Generator((ulong)(a.Int("seed") ?? 0), device);
        if (noise is not null && (noise.dim() != 2 || noise.shape[1] != dim))
            throw new UsageException($"--noise: shape [{string.Join(", ", noise.shape)}] does not match the mixture's samples [N, {dim}]");
        using var z = noise is not null ? noise.to(dtype).to(device) : randn([n, dim], generator: gen, dtype: dtype, device: device);
        SamplerResult? result = null;
        ProgressDisplay.Run($"sample ({request.Sampler})", SamplerCatalog.ExpectedEvaluations(request, process), 0, a.Flag("quiet"), "NFE", p =>
            result = SamplerCatalog.Run(mixture, z, request, process, gen, (done, _) => p.Report(done)));
        using var output = result!.Output.cpu();
        Console.WriteLine(Describe(request, result));
        Write(output, outPath, gridPath, $"{request.Sampler} on {Path.GetFileName(a.String("model")!)} (N = {n})", keepDtype: true);
        Record(a, request, result);
        RecordFiles(a, n, outPath, gridPath, null);
        return 0;
    }

    static readonly string[] AnnealingOptions = ["temperature", "anneal-levels", "mala-steps", "particles", "quench"];

    /// <summary>
    /// `--compose` / `--compose-sampler`: the product exp(−E_run − E_RUN...) of energy models (or --run's alone), sampled by
    /// <see cref="Langevin.Energy.ComposedSampling"/>: --run's own sampler from its noise, or annealed importance sampling of exp(−Σ E_i/T_i) on --run's box.
    /// </summary>
    int RunComposed(ParsedArgs a, IGenerativeMethod method, Generator gen, int n, Tensor? noise, string? runs, string? outPath, string? gridPath)
    {
        if (method is not IEnergyMethod first) throw new UsageException($"--compose: needs energy models (ebm, adv-ebm), not '{method.Config.Method}'");
        if (noise is not null || a.Has("gif") || a.Has("sampler") || a.Has("batch")) throw new UsageException("--compose: --noise, --gif, --sampler and --batch do not apply (the chain starts from --run's noise, with its sampler)");
        if (new[] { "start", "step-size", "final-step-size" }.FirstOrDefault(a.Has) is { } single)
            throw new UsageException($"--{single} applies to sampling one EBM, not to --compose/--compose-sampler (the product is sampled with --run's own SGLD settings)");
        string kind = a.String("compose-sampler") ?? "own";
        if (kind is not ("own" or "ais")) throw new UsageException($"--compose-sampler must be own or ais (got '{kind}')");
        if (kind == "own" && AnnealingOptions.FirstOrDefault(a.Has) is { } aisOnly) throw new UsageException($"--{aisOnly} applies to --compose-sampler ais only");
        if (kind == "ais" && a.Has("steps")) throw new UsageException("--steps applies to --compose-sampler own; ais takes --anneal-levels and --mala-steps");
        var others = new List<IEnergyMethod>();
        try
        {
            var names = new List<string> { a.String("run") ?? a.String("checkpoint")! };
            foreach (string run in (runs ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var m = ModelSource.LoadRun(run, a.Flag("no-ema"), "--compose");
                if (m is not IEnergyMethod e || !m.ItemShape.SequenceEqual(method.ItemShape))
                {
                    m.Dispose();
                    throw new UsageException($"--compose: {run} is not an energy model over items [{string.Join(", ", method.ItemShape)}]");
                }
                m.To(gen.device);
                m.Eval();
                others.Add(e);
                names.Add(run);
            }
            if (runs is not null && others.Count == 0) throw new UsageException("--compose: name at least one run");
            method.Eval();
            List<IEnergyMethod> models = [first, .. others];
            var settings = kind == "own" ? new Langevin.Energy.ComposedSamplingSettings(Steps: a.Int("steps")) : AnnealedSettings(a, models, names, n, gen.device);
            if (kind == "own" && settings.Steps is < 1) throw new UsageException($"--steps must be ≥ 1 (got {settings.Steps})");
            Langevin.Energy.ComposedSamples? result = null;
            ProgressDisplay.Run(kind == "own" ? "sample (composed)" : "sample (annealed)", Langevin.Energy.ComposedSampling.ProgressTotal(first, settings), 0, a.Flag("quiet"),
                kind == "own" ? "steps" : "levels", p => result = Langevin.Energy.ComposedSampling.Run(models, n, settings, gen, k => p.Report(k)));
            using var drawn = result!;
            if (drawn.Annealing is { } r)
            {
                Console.WriteLine($"ais: {r.Settings.Levels} levels × {r.Settings.MalaSteps} MALA moves, {r.Particles} particles, {r.Resamplings} resamplings, " +
                                  $"final ESS {r.Ess:F0}, acceptance {r.Acceptance:F2}, log Z {r.LogNormaliser:F3}");
                a.Result["temperatures"] = new System.Text.Json.Nodes.JsonArray([.. r.Temperatures.Select(t => (System.Text.Json.Nodes.JsonNode?)t)]);
                a.Result["anneal_levels"] = r.Settings.Levels;
                a.Result["mala_steps"] = r.Settings.MalaSteps;
                a.Result["particles"] = r.Particles;
                a.Result["quench"] = r.Quench;
                a.Result["ess"] = r.Ess;
                a.Result["resamplings"] = r.Resamplings;
                a.Result["acceptance"] = r.Acceptance;
                a.Result["log_normaliser"] = r.LogNormaliser;
            }
            else a.Result["steps"] = drawn.Steps;
            string what = others.Count == 0 ? $"{method.Config.Method}, {kind}" : $"{method.Config.Method} composed with {others.Count} run(s), {kind}";
            Write(drawn.Samples, outPath, gridPath, $"{what} (N = {n})", keepDtype: false);
            a.Result["method"] = method.Config.Method;
            a.Result["compose"] = runs;
            a.Result["compose_sampler"] = kind;
            RecordFiles(a, n, outPath, gridPath, null);
            return 0;
        }
        finally
        {
            foreach (var o in others) o.Dispose();
        }
    }

    /// <summary>
    /// `--compose-sampler ais`: the ladder, particles, quench and `--temperature` (auto: each run's maximum-likelihood T on its
    /// training data, printed as it is fitted; one T for all; or one per run).
    /// </summary>
    static Langevin.Energy.ComposedSamplingSettings AnnealedSettings(ParsedArgs a, IReadOnlyList<IEnergyMethod> models, IReadOnlyList<string> names, int n, Device device)
    {
        var annealing = new Langevin.Energy.AnnealingSettings(Levels: a.Int("anneal-levels") ?? 300, MalaSteps: a.Int("mala-steps") ?? 2);
        annealing.Validate();
        int particles = a.Int("particles") ?? n;
        if (particles < 1) throw new UsageException($"--particles must be ≥ 1 (got {particles})");
        int quench = a.Int("quench") ?? 0;
        if (quench < 0) throw new UsageException($"--quench must be ≥ 0 (got {quench})");
        var parts = a.String("temperature", "auto").Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 1 && parts.Length != models.Count)
            throw new UsageException($"--temperature: give auto, one T, or one per run ({models.Count}); got {parts.Length}");
        var given = new double?[models.Count];
        for (int i = 0; i < models.Count; i++)
        {
            string p = parts.Length == 1 ? parts[0] : parts[i];
            if (p == "auto" && !Langevin.Energy.ComposedSampling.CanFitTemperature(models[i]))
                throw new UsageException($"--temperature auto fits 2-D points only; {names[i]} models items [{string.Join(", ", models[i].ItemShape)}]: give --temperature T");
            given[i] = p == "auto" ? null
                : double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) ? v
                : throw new UsageException($"--temperature: '{p}' is neither auto nor a positive number");
        }
        var temperatures = Langevin.Energy.ComposedSampling.FitTemperatures(models, given, device);
        for (int i = 0; i < models.Count; i++)
            if (temperatures[i] is { Fitted: true } t)
                Console.WriteLine($"temperature of {names[i]}: {t.Value:G4} (maximum likelihood on {t.FitPoints} points of {t.FitData})");
        return new Langevin.Energy.ComposedSamplingSettings(Langevin.Energy.CompositionSampler.Annealed, Temperatures: [.. temperatures.Select(t => (double?)t.Value)], Annealing: annealing,
            Particles: particles, Quench: quench);
    }

    /// <summary>What <c>--json FILE</c> records about a catalog sampler's run.</summary>
    static void Record(ParsedArgs a, SamplerRequest r, SamplerResult result)
    {
        a.Result["sampler"] = r.Sampler;
        a.Result["steps"] = result.Plan.Steps;
        a.Result["nfe"] = result.Evaluations;
    }

    static void RecordFiles(ParsedArgs a, int n, string? outPath, string? gridPath, string? gifPath)
    {
        a.Result["n"] = n;
        a.Result["out"] = outPath;
        a.Result["grid"] = gridPath;
        a.Result["gif"] = gifPath;
    }

    static string Describe(SamplerRequest r, SamplerResult result) => r.Sampler == "ode-rk45"
        ? $"ode-rk45: adaptive (rtol {r.Get(SamplerOptions.Rtol):G3}, atol {r.Get(SamplerOptions.Atol):G3}), NFE {result.Evaluations}"
        : $"{r.Sampler}: {result.Plan.Steps} steps, NFE {result.Evaluations}";

    /// <summary>Where the labels of FILE.npy's samples go: FILE.labels.npy.</summary>
    public static string LabelsPath(string outPath) => ShardManifest.LabelsPathOf(outPath);

    static void Write(Tensor samples, string? outPath, string? gridPath, string title, bool keepDtype, int? columns = null)
    {
        bool image = samples.dim() == 4;
        if (outPath is not null)
        {
            using var written = image ? SamplePreview.ToUnitRange(samples) : keepDtype ? samples.alias() : samples.to(float32);
            NpyFile.Write(outPath, written);
            Console.WriteLine($"wrote {outPath} [{string.Join(", ", written.shape)}]");
        }
        if (gridPath is not null)
        {
            using var points = samples.dim() == 2 && samples.shape[1] != 2 ? samples[.., ..2] : samples.alias();
            SamplePreview.Write(gridPath, points, title, columns);
            Console.WriteLine($"wrote {gridPath}");
        }
    }

    /// <summary>The sampler request from the command line: the catalog's options given, typed as they declare.</summary>
    public static SamplerRequest Request(ParsedArgs a)
    {
        var request = new SamplerRequest { Sampler = a.String("sampler") ?? "ddim", Steps = a.Int("steps") };
        foreach (var option in SamplerOptions.All.DistinctBy(o => o.Name))
            if (a.Has(option.Name))
                // numbers through ParsedArgs, whose one-line errors name the command; words through the option
                request = request.With(option.Name, option.ValueType == typeof(int) ? a.Int(option.Name)!.Value
                    : option.ValueType == typeof(double) ? a.Double(option.Name)!.Value
                    : option.Parse(a.String(option.Name)!));
        return request;
    }

    static IReadOnlyDictionary<string, string> SamplerOptionsGiven(ParsedArgs a) =>
        SamplerSpecs.Where(s => s.Name is not ("sampler" or "steps") && a.Has(s.Name))
            .ToDictionary(s => s.Name, s => a.String(s.Name)!, StringComparer.Ordinal);
}
