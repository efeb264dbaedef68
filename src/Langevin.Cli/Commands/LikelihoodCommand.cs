using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Likelihood;
using Langevin.Methods;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;

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
        string estimatorName = a.String("estimator", "rademacher");
        var estimator = estimatorName switch
        {
            "rademacher" => TraceEstimator.Rademacher,
            "gaussian" => TraceEstimator.Gaussian,
            "exact" => TraceEstimator.Exact,
            var e => throw new UsageException($"--estimator must be rademacher, gaussian or exact (got '{e}')"),
        };
        if (a.Int("n") is < 1 and var n0) throw new UsageException($"--n must be ≥ 1 (got {n0})");
        var settings = new LikelihoodSettings(estimator, a.Int("probes") ?? 1, a.Double("rtol") ?? 1e-5, a.Double("atol") ?? 1e-5, a.Int("n"),
            a.Int("seed") ?? 0, a.Flag("vlb"), a.String("vlb-variance"), a.Int("vlb-timesteps"), a.Double("min-time"));
        ComputeDevice.SetThreads(a.Int("threads"));

        IDisposable? owner = null;
        LikelihoodResult? result = null;
        try
        {
            DataLikelihood task;
            if (ModelSource.Analytic(a, Name, "float64") is { } mixture)
            {
                owner = mixture;
                var process = a.String("process", "vp") switch
                {
                    "vp" => new SamplingProcess(SamplingProcess.Vp, new VpDiscreteSchedule()),
                    "edm" => new SamplingProcess(SamplingProcess.Edm),
                    var p => throw new UsageException($"--process must be vp or edm (got '{p}')"),
                };
                CheckCombinations(a, cld: false, process);
                task = DataLikelihood.For(mixture, process, settings);
            }
            else
            {
                if (a.Has("process")) throw new UsageException("--process applies to analytic models; a trained model brings its own process");
                var (method, gen0) = ModelSource.Open(a, Name);
                gen0.Dispose();
                owner = method;
                CheckCombinations(a, method is ILikelihoodBoundMethod, (method as IDenoisingMethod)?.Process);
                task = DataLikelihood.For(method, settings);
            }
            var (title, unit) = task.Kind switch
            {
                LikelihoodKind.CldBound => ("likelihood (cld)", "NFE"),
                LikelihoodKind.VariationalBound => ("variational bound", "t"),
                _ => ("likelihood", "NFE"),
            };
            ProgressDisplay.Run(title, task.ProgressTotal, 0, a.Flag("quiet"), unit, p => result = task.Measure(spec, done => p.Report(done)));
        }
        finally
        {
            owner?.Dispose();
        }
        var json = new JsonObject { ["data"] = spec, ["n"] = result!.Items, ["dims"] = result.Dimensions };
        string probes = $"estimator {estimatorName} × {settings.Probes}";
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        double? se = double.IsFinite(result.BitsPerDimSe) ? result.BitsPerDimSe : null;
        switch (result)
        {
            case CldLikelihoodBoundResult r:
                Console.WriteLine($"{spec}: N = {r.Items}, {r.Dimensions} dims, {probes}, one v₀ ~ N(0, γM) per item, t_min {r.MinTime:G3}, NFE {r.Evaluations}");
                Console.WriteLine($"bits/dim ≤ {F(r.BitsPerDim)} ± {F(r.BitsPerDimSe)} (SE); log p(x) ≥ {F(r.LogLikelihoodBound)} nats (mean of log p(x, v) {F(r.JointLogLikelihood)} + H(v₀) {F(r.VelocityEntropy)})");
                json["bound"] = "cld-probability-flow";
                json["estimator"] = estimatorName;
                json["probes"] = settings.Probes;
                json["min_time"] = r.MinTime;
                json["nfe"] = r.Evaluations;
                json["bits_per_dim"] = r.BitsPerDim;
                json["bits_per_dim_se"] = se;
                json["log_likelihood_bound_nats"] = r.LogLikelihoodBound;
                json["joint_log_likelihood_nats"] = r.JointLogLikelihood;
                break;
            case VariationalBoundResult r:
                Console.WriteLine($"{spec}: N = {r.Items}, {r.Dimensions} dims, variational bound over {r.Timesteps?.ToString(CultureInfo.InvariantCulture) ?? "all"} timesteps, reverse variance {r.Variance}, NFE {r.Evaluations}");
                Console.WriteLine($"bits/dim ≤ {F(r.BitsPerDim)} ± {F(r.BitsPerDimSe)} (SE)");
                json["bound"] = "ddpm-vlb";
                json["variance"] = r.Variance;
                json["nfe"] = r.Evaluations;
                json["bits_per_dim"] = r.BitsPerDim;
                if (r.ExactBitsPerDim is { } exactBound)
                {
                    Console.WriteLine($"exact bits/dim {exactBound:F4} (the mixture itself)");
                    json["exact_bits_per_dim"] = exactBound;
                }
                break;
            case FlowLikelihoodResult r:
                Console.WriteLine($"{spec}: N = {r.Items}, {r.Dimensions} dims, {probes}, NFE {r.Evaluations}");
                Console.WriteLine($"bits/dim {F(r.BitsPerDim)} ± {F(r.BitsPerDimSe)} (SE); mean log-likelihood {r.MeanLogLikelihood:F4} nats");
                json["estimator"] = estimatorName;
                json["probes"] = settings.Probes;
                json["nfe"] = r.Evaluations;
                json["bits_per_dim"] = r.BitsPerDim;
                json["bits_per_dim_se"] = se;
                if (r.ExactBitsPerDim is { } exact)
                {
                    Console.WriteLine($"exact bits/dim {exact:F4} (the mixture blurred by σ_min = {r.SigmaMin:G3}); relative difference {Math.Abs(r.BitsPerDim - exact) / Math.Abs(exact):E2}");
                    json["exact_bits_per_dim"] = exact;
                }
                break;
        }
        if (a.String("json") is { } jsonPath)
        {
            AtomicFile.WriteAllText(jsonPath, json.ToJsonString(new() { WriteIndented = true }));
            Console.WriteLine($"wrote {jsonPath}");
        }
        return 0;
    }

    /// <summary>The options that apply to one kind of score only: --vlb for DDPM's bound (of a discrete VP process), --min-time for CLD's.</summary>
    static void CheckCombinations(ParsedArgs a, bool cld, SamplingProcess? process)
    {
        string? error = cld
            ? a.Flag("vlb") || a.Has("vlb-timesteps") || a.Has("vlb-variance") ? "--vlb is DDPM's variational bound; a cld run is scored by its probability-flow bound (drop --vlb)" : null
            : a.Has("min-time") ? "--min-time applies to cld runs (the start of their joint (x, v) ODE)"
            : !a.Flag("vlb") && (a.Has("vlb-timesteps") || a.Has("vlb-variance")) ? $"--{(a.Has("vlb-timesteps") ? "vlb-timesteps" : "vlb-variance")} applies with --vlb"
            : a.Flag("vlb") && process is not null and not { Kind: SamplingProcess.Vp, Schedule: not null }
                ? $"--vlb needs the discrete VP process (a ddpm run or --process vp); this model's process is {process.Kind}"
            : a.Int("vlb-timesteps") is < 1 and var k ? $"--vlb-timesteps must be ≥ 1 (got {k})"
            : null;
        if (error is not null) throw new UsageException(error);
    }
}
