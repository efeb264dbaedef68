using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Likelihood;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin likelihood</c>: bits/dim of data through the probability-flow ODE (<see cref="ProbabilityFlowLikelihood"/>),
/// for a trained model or an analytic mixture (where the exact value is printed beside it); for a CLD run, the bound on log p(x)
/// through its joint (x, v) flow (<see cref="CldProbabilityFlowLikelihood"/>).
/// </summary>
public sealed class LikelihoodCommand : ICommand
{
    public string Name => "likelihood";
    public string Summary => "bits/dim of data through the probability-flow ODE (Hutchinson trace, adaptive RK45; a bound for CLD runs)";
    public string Usage => "langevin likelihood (--run RUN | --checkpoint FILE | --model analytic:FILE.json) --data SPEC [--n N] [--estimator rademacher|gaussian|exact] [--probes K] [--json FILE]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("model", "analytic:FILE.json", "an analytic Gaussian mixture (its exact log-likelihood is printed beside the ODE's)"),
        new("data", "SPEC", "the data to score: a dataset spec (fashion-mnist:test, npy:FILE, 8gaussians, ...)"),
        new("n", "N", "score the first N items (default 1000 points or 64 images)"),
        new("estimator", "rademacher|gaussian|exact", "divergence: Skilling–Hutchinson with Rademacher or Gaussian probes, or exact (default rademacher)"),
        new("probes", "K", "Hutchinson probes per item (default 1)"),
        new("rtol", "TOL", "ODE relative tolerance (default 1e-5)"),
        new("atol", "TOL", "ODE absolute tolerance (default 1e-5)"),
        new("process", "vp|edm", "analytic models: the σ range and prior (vp: diffusers' linear table, σ 0.01–157, prior N(0, I) in the VP frame; edm: 0.002–80)"),
        new("dtype", "float32|float64", "analytic models: precision (default float64)"),
        new("json", "FILE", "also write the results as JSON"),
        new("vlb", null, "instead: DDPM's variational bound (vp process only), T network evaluations per item"),
        new("vlb-variance", "fixed-large|fixed-small|learned", "with --vlb: the reverse variance, β_t, β̃_t or the learned Σ of a --loss hybrid run (default: learned for such runs, else fixed-large)"),
        new("vlb-timesteps", "K", "with --vlb: estimate the sum over t from K random timesteps (default: all T)"),
        new("min-time", "T", "cld runs: start the joint (x, v) ODE at t = T (default: the run's training t_min, 1e-5)"),
    ];

    public int Run(ParsedArgs a)
    {
        string spec = a.String("data") ?? throw new UsageException("likelihood: --data SPEC is required (e.g. fashion-mnist:test or npy:FILE)");
        var estimator = a.String("estimator", "rademacher") switch
        {
            "rademacher" => TraceEstimator.Rademacher,
            "gaussian" => TraceEstimator.Gaussian,
            "exact" => TraceEstimator.Exact,
            var e => throw new UsageException($"--estimator must be rademacher, gaussian or exact (got '{e}')"),
        };
        int probes = a.Int("probes") ?? 1;
        double rtol = a.Double("rtol") ?? 1e-5, atol = a.Double("atol") ?? 1e-5;
        int seed = a.Int("seed") ?? 0;
        ComputeDevice.SetThreads(a.Int("threads"));

        IScoreModel model;
        IDisposable owner;
        ProbabilityFlowLikelihood flow;
        SamplingProcess? process = null;
        GaussianMixtureScore? mixture = null;
        var dtype = ScalarType.Float32;
        var device = CPU;
        if (ModelSource.Analytic(a, Name, "float64") is { } analytic)
        {
            mixture = analytic;
            dtype = mixture.Means.dtype;
            (model, owner) = (mixture, mixture);
            flow = a.String("process", "vp") switch
            {
                "vp" => Flow(process = new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule())),
                "edm" => Flow(process = new SamplingProcess(SamplingProcess.Edm)),
                var p => throw new UsageException($"--process must be vp or edm (got '{p}')"),
            };
        }
        else
        {
            if (a.Has("process")) throw new UsageException("--process applies to analytic models; a trained model brings its own process");
            var (method, gen0) = ModelSource.Open(a, Name);
            gen0.Dispose();
            if (method is CldMethod cld)
                using (cld) return CldBound(a, spec, cld, estimator, probes, rtol, atol, seed);
            if (method is not IDenoisingMethod denoising)
            {
                method.Dispose();
                throw new UsageException($"likelihood: a {method.Config.Method} model has no probability-flow ODE; use an ncsn, ddpm, edm, sde or cld run");
            }
            method.Eval();
            (model, owner) = (denoising.Denoiser, method);
            flow = Flow(process = denoising.Process);
            device = method.Device();
        }
        using var _ = owner;
        if (a.Has("min-time")) throw new UsageException("--min-time applies to cld runs (the start of their joint (x, v) ODE)");
        ProbabilityFlowLikelihood Flow(SamplingProcess p) => p.Kind switch
        {
            SamplingProcess.Vp => new(p.Schedule!.Sigma(0), p.Schedule.Sigma(p.Schedule.T - 1), 1, estimator, probes, rtol, atol),
            _ => new(p.SigmaMin, p.SigmaMax, 0, estimator, probes, rtol, atol),
        };

        using var gen = new Generator((ulong)seed, device);
        using var scope = NewDisposeScope();
        var (raw, x, image) = Items(a, spec, seed, dtype, device, gen);
        int n = (int)x.shape[0];
        if (mixture is not null && (x.dim() != 2 || x.shape[1] != mixture.Means.shape[1]))
            throw new DataException($"{spec}: items of shape [{string.Join(", ", x.shape.Skip(1))}] do not match the mixture's dimension {mixture.Means.shape[1]}");
        long dims = x[0].numel();
        if (a.Flag("vlb")) return Bound(a, spec, model, process!, image, raw, gen, mixture, flow.SigmaMin);
        if (a.Has("vlb-timesteps") || a.Has("vlb-variance")) throw new UsageException($"--{(a.Has("vlb-timesteps") ? "vlb-timesteps" : "vlb-variance")} applies with --vlb");
        ProbabilityFlowLikelihood.Result? result = null;
        ProgressDisplay.Run("likelihood", 0, 0, a.Flag("quiet"), "NFE", p =>
            result = flow.LogDensity(model, x, gen, done => p.Report(done)));
        var bpd = ProbabilityFlowLikelihood.BitsPerDimension(result!.LogDensity, dims, image).to(float64);
        double mean = bpd.mean().item<double>(), se = n > 1 ? bpd.std().item<double>() / Math.Sqrt(n) : double.NaN;
        Console.WriteLine($"{spec}: N = {n}, {dims} dims, estimator {a.String("estimator", "rademacher")} × {probes}, NFE {result.Evaluations}");
        Console.WriteLine($"bits/dim {mean.ToString("F4", CultureInfo.InvariantCulture)} ± {se.ToString("F4", CultureInfo.InvariantCulture)} (SE); mean log-likelihood {result.LogDensity.to(float64).mean().item<double>():F4} nats");
        var json = new JsonObject
        {
            ["data"] = spec, ["n"] = n, ["dims"] = dims, ["estimator"] = a.String("estimator", "rademacher"), ["probes"] = probes,
            ["nfe"] = result.Evaluations, ["bits_per_dim"] = mean, ["bits_per_dim_se"] = double.IsFinite(se) ? se : null,
        };
        if (mixture is not null)
        {
            var exact = mixture.LogDensity(x, flow.SigmaMin) - 0.5 * dims * Math.Log(2 * Math.PI);
            double exactBpd = ProbabilityFlowLikelihood.BitsPerDimension(exact, dims, false).to(float64).mean().item<double>();
            Console.WriteLine($"exact bits/dim {exactBpd:F4} (the mixture blurred by σ_min = {flow.SigmaMin:G3}); relative difference {Math.Abs(mean - exactBpd) / Math.Abs(exactBpd):E2}");
            json["exact_bits_per_dim"] = exactBpd;
        }
        Write(a, json);
        return 0;
    }

    static void Write(ParsedArgs a, JsonObject json)
    {
        if (a.String("json") is not { } jsonPath) return;
        AtomicFile.WriteAllText(jsonPath, json.ToJsonString(new() { WriteIndented = true }));
        Console.WriteLine($"wrote {jsonPath}");
    }

    /// <summary>
    /// The first --n items of the data (default 1000 points or 64 images) in <paramref name="dtype"/> on the device, and the
    /// points to score: for images their uniform dequantisation of the 256 levels (Ho et al. 2020, §4) drawn from <paramref name="gen"/>.
    /// </summary>
    static (Tensor Raw, Tensor Scored, bool Image) Items(ParsedArgs a, string spec, int seed, ScalarType dtype, Device device, Generator gen)
    {
        using var data = DataSources.Load(spec, new DataOptions(seed, Limit: a.Int("n") is { } lim ? lim : null));
        int n = Math.Min(a.Int("n") ?? (data.IsImage ? 64 : 1000), checked((int)data.Count));
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        var raw = data.X.narrow(0, 0, n).to(dtype).to(device).clone();
        if (!data.IsImage) return (raw, raw, false);
        var levels = ((raw + 1) / 2 * 255).round();
        return (raw, (levels + rand(raw.shape, generator: gen, dtype: dtype, device: device)) / 256 * 2 - 1, true);
    }

    /// <summary>
    /// A CLD run: the bound E_v[log p(x, v)] + H(N(0, γM)) on log p(x) through the joint (x, v) probability-flow ODE
    /// (<see cref="CldProbabilityFlowLikelihood"/>), one v₀ per item; bits/dim (an upper bound) and nats.
    /// </summary>
    static int CldBound(ParsedArgs a, string spec, CldMethod cld, TraceEstimator estimator, int probes, double rtol, double atol, int seed)
    {
        if (a.Flag("vlb") || a.Has("vlb-timesteps") || a.Has("vlb-variance"))
            throw new UsageException("--vlb is DDPM's variational bound; a cld run is scored by its probability-flow bound (drop --vlb)");
        double minTime = a.Double("min-time") ?? cld.Settings.TrainMinTime;
        cld.Eval();
        var device = cld.Device;
        using var gen = new Generator((ulong)seed, device);
        using var scope = NewDisposeScope();
        var (_, x, image) = Items(a, spec, seed, ScalarType.Float32, device, gen);
        if (!x.shape.Skip(1).SequenceEqual(cld.ItemShape))
            throw new DataException($"{spec}: items of shape [{string.Join(", ", x.shape.Skip(1))}] do not match the model's [{string.Join(", ", cld.ItemShape)}]");
        int n = (int)x.shape[0];
        long dims = x[0].numel();
        var flow = new CldProbabilityFlowLikelihood(minTime, estimator, probes, rtol, atol);
        CldProbabilityFlowLikelihood.Bound? result = null;
        ProgressDisplay.Run("likelihood (cld)", 0, 0, a.Flag("quiet"), "NFE", p =>
            result = flow.LogDensityBound(cld.ScoreModel, x, gen, done => p.Report(done)));
        var bpd = ProbabilityFlowLikelihood.BitsPerDimension(result!.LogDensityBound, dims, image).to(float64);
        double mean = bpd.mean().item<double>(), se = n > 1 ? bpd.std().item<double>() / Math.Sqrt(n) : double.NaN;
        double nats = result.LogDensityBound.to(float64).mean().item<double>(), joint = result.JointLogDensity.to(float64).mean().item<double>();
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        Console.WriteLine($"{spec}: N = {n}, {dims} dims, estimator {a.String("estimator", "rademacher")} × {probes}, one v₀ ~ N(0, γM) per item, t_min {minTime:G3}, NFE {result.Evaluations}");
        Console.WriteLine($"bits/dim ≤ {F(mean)} ± {F(se)} (SE); log p(x) ≥ {F(nats)} nats (mean of log p(x, v) {F(joint)} + H(v₀) {F(CldProbabilityFlowLikelihood.VelocityEntropy(cld.Process, dims))})");
        Write(a, new JsonObject
        {
            ["data"] = spec, ["n"] = n, ["dims"] = dims, ["bound"] = "cld-probability-flow", ["estimator"] = a.String("estimator", "rademacher"),
            ["probes"] = probes, ["min_time"] = minTime, ["nfe"] = result.Evaluations, ["bits_per_dim"] = mean,
            ["bits_per_dim_se"] = double.IsFinite(se) ? se : null, ["log_likelihood_bound_nats"] = nats, ["joint_log_likelihood_nats"] = joint,
        });
        return 0;
    }

    /// <summary>DDPM's variational bound (<see cref="VariationalBound"/>) in bits/dim; images with the discretised decoder.</summary>
    static int Bound(ParsedArgs a, string spec, IScoreModel model, SamplingProcess process, bool image, Tensor x, Generator gen,
        GaussianMixtureScore? mixture, double sigmaMin)
    {
        if (process.Kind != SamplingProcess.Vp || process.Schedule is null)
            throw new UsageException($"--vlb needs the discrete VP process (a ddpm run or --process vp); this model's process is {process.Kind}");
        int? k = a.Int("vlb-timesteps");
        if (k is < 1) throw new UsageException($"--vlb-timesteps must be ≥ 1 (got {k})");
        bool learned = model is IVarianceModel;
        string variance = a.String("vlb-variance") ?? (learned ? "learned" : "fixed-large");
        var bound = new VariationalBound(process.Schedule, image, k, VariationalBound.VarianceMixFor(variance, learned, "vlb-variance"));
        (Tensor Nats, int Evaluations)? result = null;
        ProgressDisplay.Run("variational bound", k ?? process.Schedule.T, 0, a.Flag("quiet"), "t", p =>
            result = bound.Nats(model, x, gen, (done, _) => p.Report(done)));
        long dims = x[0].numel();
        var bpd = (result!.Value.Nats / (dims * Math.Log(2))).to(float64);
        int n = (int)x.shape[0];
        double mean = bpd.mean().item<double>(), se = n > 1 ? bpd.std().item<double>() / Math.Sqrt(n) : double.NaN;
        Console.WriteLine($"{spec}: N = {n}, {dims} dims, variational bound over {k?.ToString(CultureInfo.InvariantCulture) ?? "all"} timesteps, reverse variance {variance}, NFE {result.Value.Evaluations}");
        Console.WriteLine($"bits/dim ≤ {mean.ToString("F4", CultureInfo.InvariantCulture)} ± {se.ToString("F4", CultureInfo.InvariantCulture)} (SE)");
        var json = new JsonObject { ["data"] = spec, ["n"] = n, ["dims"] = dims, ["bound"] = "ddpm-vlb", ["variance"] = variance, ["nfe"] = result.Value.Evaluations, ["bits_per_dim"] = mean };
        if (mixture is not null)
        {
            var exact = mixture.LogDensity(x) - 0.5 * dims * Math.Log(2 * Math.PI);
            double exactBpd = ProbabilityFlowLikelihood.BitsPerDimension(exact, dims, false).to(float64).mean().item<double>();
            Console.WriteLine($"exact bits/dim {exactBpd:F4} (the mixture itself)");
            json["exact_bits_per_dim"] = exactBpd;
        }
        Write(a, json);
        return 0;
    }
}
