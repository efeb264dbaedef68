using System.Globalization;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

public sealed class SampleCommand : ICommand
{
    public string Name => "sample";
    public string Summary => "draw samples from a trained or analytic model to .npy and/or a PNG";
    public string Usage => "langevin sample (--run RUN | --checkpoint FILE | --model analytic:FILE.json) [--sampler NAME] [--steps N] [--n N] [--seed S] [--noise FILE.npy] [--compose RUN[,RUN...]] [--compose-sampler own|ais] [--out FILE.npy] [--grid FILE.png]";

    /// <summary>The sampler options, named as diffusers names them; each sampler accepts its own subset (see SamplerCatalog).</summary>
    public static readonly IReadOnlyList<OptionSpec> SamplerSpecs =
    [
        new("sampler", "NAME", $"sampler: {string.Join(", ", SamplerCatalog.Names)} (default: the method's own)"),
        new("steps", "N", "sampling steps (default: the sampler's; ode-rk45 is adaptive)"),
        new("process", "vp|edm|ve", "analytic models: the process whose σ's the sampler follows (default vp; edm* samplers use edm)"),
        new("betas", "linear|cosine", "vp process: β schedule, T = 1000 (default linear; cosine = squaredcos_cap_v2)"),
        new("spacing", "leading|trailing|linspace", "vp process: timestep spacing (default: diffusers' default for the scheduler)"),
        new("steps-offset", "K", "vp process: steps_offset added to leading timesteps (default 0)"),
        new("set-alpha-to-one", "true|false", "ddim: the last step goes to ᾱ = 1 (default true) or to ᾱ_0"),
        new("karras", null, "euler, heun, lms, dpmpp-2m, unipc: Karras σ's (ρ = 7) over the schedule's range"),
        new("round-timesteps", null, "dpmpp-2m, unipc with --karras: query the model at the rounded integer timestep, as diffusers (default true; false: exact σ)"),
        new("clip-sample", null, "ddim, ddpm: clamp the predicted x₀ to [−1, 1]"),
        new("eta", "η", "ddim (default 0), euler-ancestral (default 1): the share of fresh noise"),
        new("churn", "S", "edm: S_churn (default 0, deterministic)"),
        new("s-noise", "S", "edm: S_noise (default 1)"),
        new("snr", "R", "pc: corrector signal-to-noise ratio (default 0.16)"),
        new("corrector-steps", "N", "pc: Langevin corrector steps per level (default 1)"),
        new("variance", "fixed-small|fixed-large|learned", "ddpm: posterior variance β̃_t (default), β_t, or the learned Σ of a --loss hybrid run (Nichol & Dhariwal 2021, Eq. 15)"),
        new("order", "K", "lms (default 4), unipc (default 2): solver order"),
        new("rtol", "TOL", "ode-rk45: relative tolerance (default 1e-5)"),
        new("atol", "TOL", "ode-rk45: absolute tolerance (default 1e-5)"),
        new("sigma-min", "σ", "edm/ve process: smallest σ (edm default 0.002)"),
        new("sigma-max", "σ", "edm/ve process: largest σ (edm default 80)"),
        new("rho", "ρ", "edm: Karras ρ (default 7)"),
        new("steps-per-level", "T", "ald: Langevin steps per σ (default 5)"),
        new("step-size", "ε", "ald: step size ε (default: NCSNv2 Technique 4); dlg: Langevin step η (default: the run's, 0.01); walk-jump: BAOAB step δ (default 0.5σ); ebm: SGLD's α (default: the run's --sgld-step)"),
        new("start", "noise|buffer", "ebm: start the SGLD chains from uniform noise (default) or from --n distinct rows of the run's replay buffer (its persistent chains)"),
        new("final-step-size", "α", "ebm: SGLD's α decays geometrically from --step-size to this over the chain (Welling & Teh's decreasing steps; default: constant)"),
        new("friction", "γ", "walk-jump: BAOAB friction γ (default 1/σ; the paper's MNIST runs use 0.5/σ)"),
        new("gibbs-steps", "K", "dlg: Langevin–Gibbs steps per emitted sample (default 10); --steps sets its Heun hand-off steps"),
        new("burn-in", "K", "dlg: Gibbs steps before the first sample (default 20)"),
        new("chains", "C", "dlg: parallel chains, each emitting ⌈n/C⌉ samples (default 100)"),
        new("sigma-update", "mode|draw", "dlg: σ ← the estimator's posterior mode (default, the paper's code) or a draw σ ~ p(σ|x)"),
        new("hand-off", "lowest|last", "dlg: hand the state of smallest σ among the Gibbs steps to Heun (default, the paper's) or the last state"),
        new("init-steps", "N", "dlg: Heun σ's of the start-up run from σ_max that begins each chain (default 18)"),
        new("init-noise", "S", "dlg: standard deviation of the noise added to the start-up samples (default 0.5, the paper's)"),
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
        new("batch", "B", "catalog samplers: draw the N samples B at a time (less memory; a deterministic sampler gives the same samples at any B)"),
        new("compose", "RUN[,RUN...]", "energy models: sample the product of densities, exp(−E_run − E_RUN...), with --compose-sampler (default: --run's own sampler and settings; --steps: its chain length)"),
        new("compose-sampler", "own|ais", "energy models, with --compose or --run alone: own = --run's sampler (SGLD/PGD; cold, a chain stays in the well it falls into; default), ais = annealed importance sampling of exp(−Σ E_i/T_i): MALA moves from the uniform box down a temperature ladder, with resampling, so every well gets its mass"),
        new("temperature", "auto|T[,T...]", "ais: each energy's temperature T_i, one for all or one per run (default auto: the maximum-likelihood T of each run on its training data, 2-D points only)"),
        new("anneal-levels", "K", "ais: inverse temperatures, geometric from 1e-4 to 1 (default 300)"),
        new("mala-steps", "M", "ais: MALA moves per level (default 2)"),
        new("particles", "P", "ais: particles annealed, then resampled to --n (default --n)"),
        new("quench", "K", "ais: then K steps of --run's own (cold) sampler on Σ E_i, which drops every sample to the bottom of the well the annealing chose (default 0)"),
        .. SamplerSpecs,
    ];

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
        if (ModelSource.Analytic(a, Name, "float32") is { } analytic) return RunAnalytic(a, analytic, n, noise, outPath, gridPath);

        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        if (a.Has("compose") || a.Has("compose-sampler")) return RunComposed(a, method, gen, n, noise, a.String("compose"), outPath, gridPath);
        if (AnnealingOptions.FirstOrDefault(a.Has) is { } aisOnly) throw new UsageException($"--{aisOnly} applies to --compose-sampler ais only");
        var request = Request(a);
        Tensor? samples = null;
        var frames = new List<Tensor>();
        Action<Tensor>? onFrame = gifPath is null ? null : x => frames.Add(SamplePreview.Frame(x));
        bool own = request.Sampler == method.SamplerNames[0] && !SamplerCatalog.GivenOptions(request).Any() && request.Steps is null;
        bool ownOnly = method.SamplerNames.Contains(request.Sampler) && !SamplerCatalog.Names.Contains(request.Sampler); // e.g. dmcmc's dlg
        if (a.String("sampler") is null || own || ownOnly || method is not IDenoisingMethod denoising)
        {
            if (a.String("sampler") is not null && !own && method is not IDenoisingMethod && !method.SamplerNames.Contains(request.Sampler))
                throw new UsageException($"--sampler: a {method.Config.Method} model samples with: {string.Join(", ", method.SamplerNames)} (got '{request.Sampler}')");
            if (a.Has("batch")) throw new UsageException($"--batch applies to the catalog samplers (ddim, edm, …), not to a {method.Config.Method} model's own sampler");
            var settings = new SamplerSettings(a.String("sampler"), request.Steps, SamplerOptionsGiven(a));
            ProgressDisplay.Run("sample", method.FunctionEvaluationsWith(settings), 0, a.Flag("quiet"), "NFE", p =>
                samples = method.Sample(n, gen, noise, (done, _) => p.Report(done), onFrame, settings));
            a.Result["nfe"] = method.FunctionEvaluationsWith(settings);
            if (method is ISamplingReport { LastSampling: { } report }) Console.WriteLine(report);
        }
        else
        {
            using var z = noise?.to(float32) ?? randn([n, .. method.ItemShape], generator: gen, device: gen.device);
            if (!z.shape.Skip(1).SequenceEqual(method.ItemShape))
                throw new UsageException($"--noise: shape [{string.Join(", ", z.shape)}] does not match the model's samples [N, {string.Join(", ", method.ItemShape)}]");
            if (new[] { "gibbs-steps", "burn-in", "chains", "sigma-update", "hand-off", "init-steps", "init-noise" }.FirstOrDefault(a.Has) is { } dlgOnly)
                throw new UsageException($"--{dlgOnly} applies to the dlg sampler only (a dmcmc run's own)");
            if (a.Has("friction")) throw new UsageException("--friction applies to the walk-jump sampler only (a walkjump run's own)");
            if (new[] { "final-step-size", "start" }.FirstOrDefault(a.Has) is { } ebmOnly) throw new UsageException($"--{ebmOnly} applies to an EBM run's SGLD only");
            method.Network.eval();
            int batch = a.Int("batch") ?? n;
            if (batch < 1) throw new UsageException($"--batch must be ≥ 1 (got {batch})");
            // Chunks of the one noise tensor: a deterministic sampler gives the same samples at any --batch.
            var chunks = z.split(batch);
            int expected = SamplerCatalog.ExpectedEvaluations(request, denoising.Process);
            SamplerResult? result = null;
            var outputs = new Tensor[chunks.Length];
            int maxEvaluations = 0;
            ProgressDisplay.Run($"sample ({request.Sampler})", expected * chunks.Length, 0, a.Flag("quiet"), "NFE", p =>
            {
                for (int i = 0; i < chunks.Length; i++)
                {
                    using var scope = NewDisposeScope();
                    int done0 = i * expected;
                    result = SamplerCatalog.Run(denoising.Denoiser, chunks[i].to(gen.device), request, denoising.Process, gen, (done, _) => p.Report(done0 + done));
                    maxEvaluations = Math.Max(maxEvaluations, result.Evaluations);
                    outputs[i] = denoising.ToData(result.Output).cpu().MoveToOuterDisposeScope();
                }
            });
            samples = cat(outputs, 0);
            foreach (var t in outputs.Concat(chunks)) t.Dispose();
            result = result! with { Evaluations = maxEvaluations };
            Console.WriteLine(Describe(request, result));
            Record(a, request, result);
        }
        using var drawn = samples!;
        if (gifPath is not null)
        {
            frames.Add(SamplePreview.Frame(drawn));
            GifWriter.Save(gifPath, frames, delayCentiseconds: 12);
            foreach (var f in frames) f.Dispose();
            Console.WriteLine($"wrote {gifPath} ({frames.Count} frames)");
        }
        Write(drawn, outPath, gridPath, $"{method.Config.Method} samples (N = {n})", keepDtype: false);
        a.Result["method"] = method.Config.Method;
        a.Result["sampler"] ??= a.String("sampler") ?? method.SamplerNames[0];
        RecordFiles(a, n, outPath, gridPath, gifPath);
        return 0;
    }

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
        if (!SamplingProcess.Kinds.Contains(process.Kind))
            throw new UsageException($"--process must be one of: {string.Join(", ", SamplingProcess.Kinds)} (got '{process.Kind}')");
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
                m.Network.to(gen.device);
                others.Add(e);
                names.Add(run);
            }
            if (runs is not null && others.Count == 0) throw new UsageException("--compose: name at least one run");
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
        ? $"ode-rk45: adaptive (rtol {r.Rtol ?? 1e-5:G3}, atol {r.Atol ?? 1e-5:G3}), NFE {result.Evaluations}"
        : $"{r.Sampler}: {result.Plan.Steps} steps, NFE {result.Evaluations}";

    static void Write(Tensor samples, string? outPath, string? gridPath, string title, bool keepDtype)
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
            SamplePreview.Write(gridPath, points, title);
            Console.WriteLine($"wrote {gridPath}");
        }
    }

    /// <summary>The sampler request from the command line (null = not given).</summary>
    public static SamplerRequest Request(ParsedArgs a)
    {
        static string? Choice(ParsedArgs a, string name, params string[] allowed) => a.String(name) is { } v
            ? allowed.Contains(v) ? v : throw new UsageException($"--{name} must be one of: {string.Join(", ", allowed)} (got '{v}')")
            : null;
        string? setAlpha = a.String("set-alpha-to-one");
        if (setAlpha is not null and not ("true" or "false")) throw new UsageException($"--set-alpha-to-one must be true or false (got '{setAlpha}')");
        return new SamplerRequest
        {
            Sampler = a.String("sampler") ?? "ddim",
            Steps = a.Int("steps"),
            Process = a.String("process"),
            Betas = Choice(a, "betas", VpDiscreteSchedule.Linear, VpDiscreteSchedule.Cosine),
            Spacing = Choice(a, "spacing", [.. TimestepSpacing.Names]),
            StepsOffset = a.Int("steps-offset"),
            SetAlphaToOne = setAlpha is null ? null : setAlpha == "true",
            Karras = a.OptionalFlag("karras"),
            RoundTimesteps = a.OptionalFlag("round-timesteps"),
            ClipSample = a.OptionalFlag("clip-sample"),
            Eta = a.Double("eta"),
            Churn = a.Double("churn"),
            SNoise = a.Double("s-noise"),
            Snr = a.Double("snr"),
            CorrectorSteps = a.Int("corrector-steps"),
            Variance = a.String("variance"),
            Order = a.Int("order"),
            Rtol = a.Double("rtol"),
            Atol = a.Double("atol"),
            SigmaMin = a.Double("sigma-min"),
            SigmaMax = a.Double("sigma-max"),
            Rho = a.Double("rho"),
            StepsPerLevel = a.Int("steps-per-level"),
            StepSize = a.Double("step-size"),
        };
    }

    static IReadOnlyDictionary<string, string> SamplerOptionsGiven(ParsedArgs a) =>
        SamplerSpecs.Where(s => s.Name is not ("sampler" or "steps") && a.Has(s.Name))
            .ToDictionary(s => s.Name, s => a.String(s.Name)!, StringComparer.Ordinal);
}
