using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>The analytic targets and kernels by name, with the step sizes used in the tests and the ESS table.</summary>
public static class McmcCatalog
{
    public static IReadOnlyList<string> TargetNames { get; } = ["gaussian", "mixture", "banana", "funnel"];
    public static IReadOnlyList<string> KernelNames { get; } = ["ula", "mala", "hmc", "baoab", "esh"];

    /// <summary>gaussian: ρ = 0.9, mean (1, −0.5); mixture: 0.3/0.7 at (∓1.5, 0), sd 0.6; banana a = b = 1; funnel D = 10.</summary>
    public static Target Target(string name, int funnelDim = 10) => name switch
    {
        "gaussian" => new CorrelatedGaussian([1.0, -0.5], new[,] { { 1.0, 0.9 }, { 0.9, 1.0 } }),
        "mixture" => new GaussianMixtureTarget([0.3, 0.7], [[-1.5, 0.0], [1.5, 0.0]], std: 0.6),
        "banana" => new BananaTarget(1.0, 1.0),
        "funnel" => new NealsFunnel(funnelDim),
        _ => throw SettingException.About("target", name, $"unknown target '{name}'; known: {string.Join(", ", TargetNames)}"),
    };

    /// <summary>The default step size of a kernel on a target (hand-tuned once; HMC adapts its own during warm-up).</summary>
    public static double DefaultStepSize(string kernel, string target) => (kernel, target) switch
    {
        ("ula", "funnel") => 0.0005,
        ("ula", "banana") => 0.01,
        ("ula", _) => 0.02,
        ("mala", "funnel") => 0.02,
        ("mala", _) => 0.05,
        ("hmc", "funnel") => 0.1,
        ("hmc", _) => 0.2,
        ("baoab", "funnel") => 0.01,
        ("baoab", _) => 0.15,
        ("esh", "funnel") => 0.05,
        ("esh", _) => 0.2,
        _ => throw UnknownKernel(kernel),
    };

    static SettingException UnknownKernel(string kernel) =>
        SettingException.About("kernel", kernel, $"unknown kernel '{kernel}'; known: {string.Join(", ", KernelNames)}");

    /// <summary>Leapfrog steps per transition for HMC (10) and ESH (50: its reservoir needs long trajectories).</summary>
    public static int DefaultLeapfrogSteps(string kernel) => kernel == "esh" ? 50 : 10;

    public static McmcKernel Kernel(string kernel, ITarget target, double stepSize, int leapfrogSteps, double friction = 1.0) => kernel switch
    {
        "ula" => new UnadjustedLangevin(target, stepSize),
        "mala" => new Mala(target, stepSize),
        "hmc" => new Hmc(target, stepSize, leapfrogSteps),
        "baoab" => new UnderdampedLangevin(target, stepSize, friction),
        "esh" => new EshDynamics(target, stepSize, leapfrogSteps),
        _ => throw UnknownKernel(kernel),
    };
}

/// <summary>What <see cref="ChainRun.Run"/> measured.</summary>
/// <param name="Trace">[kept steps][chain][coordinate] after burn-in.</param>
/// <param name="EssPerGradient">min over coordinates of (Σ over chains of each chain's ESS) / (gradient evaluations of all chains during the kept steps).</param>
public sealed record ChainRunResult(double[][][] Trace, double AcceptanceRate, double[] Ess, double EssPerGradient, double[] RHat,
    double[] Mean, double[] Sd, double[] TrueMean, double[] TrueSd, double GradientsPerStep, double StepSize, Tensor Final)
{
    public double MaxRHat => RHat.Max();
    public double MaxMeanErrorInSds => Mean.Select((m, i) => Math.Abs(m - TrueMean[i]) / TrueSd[i]).Max();
    public double MaxSdRelativeError => Sd.Select((s, i) => Math.Abs(s / TrueSd[i] - 1)).Max();
}

/// <summary>Runs many chains of a kernel on a target and measures acceptance, ESS per gradient, split-R̂ and moment errors.</summary>
public static class ChainRun
{
    /// <param name="init">"noise" (x ~ N(0, I)) or "exact" (exact draws: measures the stationary efficiency).</param>
    public static ChainRunResult Run(McmcKernel kernel, ITarget target, int chains, int burnIn, int steps, string init, Generator gen, int adaptSteps = 0)
    {
        if (chains < 2) throw new SettingException("chains", chains, "must be ≥ 2 for R-hat");
        if (steps < 4) throw new SettingException("steps", steps, "must be ≥ 4");
        if (burnIn < 0) throw new SettingException("burn_in", burnIn, "must be ≥ 0");
        var exact = target as IExactSampler;
        Tensor x = init switch
        {
            "noise" => randn([chains, target.Dim], float64, generator: gen),
            "exact" => (exact ?? throw SettingException.Sentence("init", init, "exact: this target has no exact sampler")).Sample(chains, gen),
            _ => throw new SettingException("init", init, "must be noise or exact"),
        };
        if (kernel is Hmc hmc && adaptSteps > 0) { var a = hmc.Warmup(x, adaptSteps, gen); x.Dispose(); x = a; }
        for (int i = 0; i < burnIn; i++) { var n = kernel.Step(x, gen); x.Dispose(); x = n; }
        kernel.ResetAcceptance();
        long grads0 = kernel.GradientEvaluations;
        int d = target.Dim;
        var trace = new double[steps][][];
        for (int i = 0; i < steps; i++)
        {
            var n = kernel.Step(x, gen); x.Dispose(); x = n;
            var flat = x.data<double>().ToArray();
            trace[i] = new double[chains][];
            for (int c = 0; c < chains; c++) trace[i][c] = flat.AsSpan(c * d, d).ToArray();
        }
        long grads = kernel.GradientEvaluations - grads0;
        var ess = new double[d];
        var rhat = new double[d];
        var mean = new double[d];
        var sd = new double[d];
        for (int j = 0; j < d; j++)
        {
            var perChain = Enumerable.Range(0, chains).Select(c => Enumerable.Range(0, steps).Select(i => trace[i][c][j]).ToArray()).ToArray();
            ess[j] = perChain.Sum(ch => { double e = EffectiveSampleSize.Compute(ch); return double.IsFinite(e) ? e : 0; });
            rhat[j] = RHat.Compute(perChain);
            var all = perChain.SelectMany(ch => ch).ToArray();
            mean[j] = all.Average();
            sd[j] = Math.Sqrt(all.Sum(v => (v - mean[j]) * (v - mean[j])) / (all.Length - 1));
        }
        double[] trueMean = new double[d], trueSd = new double[d];
        if (exact is not null)
        {
            using var truth = exact.Sample(400_000, gen);
            trueMean = truth.mean([0]).data<double>().ToArray();
            trueSd = truth.std([0]).data<double>().ToArray();
        }
        double step = kernel switch
        {
            Hmc h => h.StepSize, Mala m => m.StepSize, UnadjustedLangevin u => u.StepSize, UnderdampedLangevin b => b.StepSize,
            EshDynamics e => e.StepSize, _ => double.NaN,
        };
        return new ChainRunResult(trace, kernel.AcceptanceRate, ess, ess.Min() / (double)(grads * chains), rhat, mean, sd, trueMean, trueSd,
            grads / (double)steps, step, x);
    }
}
