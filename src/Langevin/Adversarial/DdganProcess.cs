using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>
/// The discretised variance-preserving process of denoising-diffusion GANs (Xiao, Kreis &amp; Vahdat 2022, "Tackling the
/// generative learning trilemma with denoising diffusion GANs", ICLR; official code NVlabs/denoising-diffusion-gan,
/// train_ddgan.py), with the schedule built as that code builds it:
/// <list type="bullet">
/// <item>Times (get_time_schedule / get_sigma_schedule): T + 1 points t_k = (k/T)(1 − ε) + ε, k = 0..T, with
///   eps_small ε = 1e-3, so t_0 = 1e-3 and t_T = 1.</item>
/// <item>Continuous VP (var_func_vp, β(t) = β_min + t(β_max − β_min), defaults β_min = 0.1, β_max = 20 as the code's
///   --beta_min/--beta_max): log-mean-coefficient −¼t²(β_max − β_min) − ½tβ_min, var(t) = 1 − exp(2·that), i.e.
///   ᾱ(t) = exp(−½t²(β_max − β_min) − tβ_min). (The code's --use_geometric var_func_geometric is not implemented.)</item>
/// <item>Per-step β (get_sigma_schedule): β_k = 1 − ᾱ(t_k)/ᾱ(t_{k−1}) for k = 1..T, with a first β_0 = 1e-8 prepended
///   (T + 1 entries); sigmas = √β, a_s = √(1 − β).</item>
/// <item>Marginal q(x_k | x_0) (Diffusion_Coefficients, q_sample): a_s_cum = cumprod(a_s), sigmas_cum = √(1 − a_s_cum²),
///   x_k = a_s_cum[k] x_0 + sigmas_cum[k] ε. Index k counts diffusion steps: k = 0 is the data, k = T the prior end.</item>
/// <item>Pair (q_sample_pairs): x_t ~ q(x_t | x_0), then x_{t+1} = a_s[t+1] x_t + sigmas[t+1] ε', for t = 0..T−1 (the
///   training draws t = randint(0, T)).</item>
/// <item>Posterior (Posterior_Coefficients, "we don't need the zeros"): the β's without β_0 (T entries, index j stands for
///   the step x_j → x_{j+1}), α = 1 − β, ᾱ = cumprod(α), ᾱ_prev = [1, ᾱ[:−1]]; variance β(1 − ᾱ_prev)/(1 − ᾱ), mean
///   coefficients c0 = β√ᾱ_prev/(1 − ᾱ) on x_0 and ct = (1 − ᾱ_prev)√α/(1 − ᾱ) on x_{j+1}, log-variance clipped as
///   log(max(var, 1e-20)). So posterior index j gives q(x_j | x_{j+1}, x_0): the generator at t sees x_{t+1}.</item>
/// <item>sample_posterior: mean + (t ≠ 0)·exp(½ log var_clipped)·ε — at the last step (t = 0) the mean is returned with no
///   noise, and since ᾱ_prev = 1 there (c0 = 1, ct = 0, var = 0) that is the predicted x_0 itself.</item>
/// <item>sample_from_model: x = x_init ~ N(0, I) (standing for x_T); for i = T−1 … 0, x_0 = G(x, i, z) with a fresh latent z,
///   x ← sample_posterior(x_0, x, i); under torch.no_grad.</item>
/// </list>
/// Numerics: everything is computed in double (β's by expm1 of log-ᾱ differences, the cumulative products as sums of
/// log1p(−β)) and rounded once into the float32 tensors; the official code casts β to float32 and multiplies in float32.
/// There, 1 − 1e-8 rounds to 1, so a_s[0] = 1, a_s_cum[0] = 1 and sigmas_cum[0] = 0: β_0 is only an index placeholder and
/// x at index 0 is the clean data, consistent with the posterior's ᾱ_prev = 1. This class keeps that: β_0 = 1e-8 is stored
/// (StepStds[0] = 1e-4 as theirs) but the cumulative coefficients start from steps 1..k, so MarginalScales[k]² =
/// ᾱ(t_k)/ᾱ(t_0) exactly equals the posterior's ᾱ at index k − 1. (In double, including β_0 would give sigmas_cum[0] = 1e-4.)
/// Tensors: t is an int64 tensor [B] of step indices (one per item), items x are [B, ...] of any shape (points [B, 2],
/// images [B, C, H, W]); coefficients broadcast as [B, 1, …, 1]. Float64 items use float64 tables, all other dtypes
/// float32 tables with the result cast back to the item dtype. Indices are not range-checked (no device sync): an
/// out-of-range index fails in index_select.
/// </summary>
public sealed class DdganProcess : IDisposable
{
    /// <summary>eps_small of get_time_schedule / get_sigma_schedule: the time grid starts at t_0 = 1e-3.</summary>
    public const double EpsSmall = 1e-3;

    /// <summary>The β prepended at index 0 in get_sigma_schedule (torch.tensor(1e-8)).</summary>
    public const double FirstBeta = 1e-8;

    /// <summary>The clamp in posterior_log_variance_clipped = log(posterior_variance.clamp(min = 1e-20)).</summary>
    public const double MinPosteriorVariance = 1e-20;

    /// <summary>Number of denoising steps T (the code's --num_timesteps, default 4).</summary>
    public int Steps { get; }
    public double BetaMin { get; }
    public double BetaMax { get; }

    /// <summary>t_k = (k/T)(1 − ε) + ε, k = 0..T (get_time_schedule).</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>β_0 = 1e-8, β_k = 1 − ᾱ(t_k)/ᾱ(t_{k−1}) (T + 1 entries; get_sigma_schedule's betas).</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>a_s = √(1 − β_k) (T + 1 entries): the per-step scale of q(x_k | x_{k−1}).</summary>
    public IReadOnlyList<double> StepScales { get; }

    /// <summary>sigmas = √β_k (T + 1 entries): the per-step noise std of q(x_k | x_{k−1}).</summary>
    public IReadOnlyList<double> StepStds { get; }

    /// <summary>a_s_cum[k] = √(ᾱ(t_k)/ᾱ(t_0)) (T + 1 entries; 1 at k = 0): the scale of q(x_k | x_0).</summary>
    public IReadOnlyList<double> MarginalScales { get; }

    /// <summary>sigmas_cum[k] = √(1 − a_s_cum[k]²) (T + 1 entries; 0 at k = 0): the noise std of q(x_k | x_0).</summary>
    public IReadOnlyList<double> MarginalStds { get; }

    /// <summary>Posterior ᾱ_j = ∏_{i ≤ j} (1 − β_{i+1}) = ᾱ(t_{j+1})/ᾱ(t_0) (T entries; Posterior_Coefficients.alphas_cumprod).</summary>
    public IReadOnlyList<double> PosteriorAlphasCumprod { get; }

    /// <summary>c0_j = β_{j+1}√ᾱ_{j−1}/(1 − ᾱ_j) (posterior_mean_coef1), the weight of x_0 in the mean of q(x_j | x_{j+1}, x_0).</summary>
    public IReadOnlyList<double> PosteriorCoefX0 { get; }

    /// <summary>ct_j = (1 − ᾱ_{j−1})√(1 − β_{j+1})/(1 − ᾱ_j) (posterior_mean_coef2), the weight of x_{j+1}.</summary>
    public IReadOnlyList<double> PosteriorCoefXt { get; }

    /// <summary>β_{j+1}(1 − ᾱ_{j−1})/(1 − ᾱ_j) with ᾱ_{−1} = 1 (posterior_variance; 0 at j = 0).</summary>
    public IReadOnlyList<double> PosteriorVariances { get; }

    /// <summary>log(max(variance, 1e-20)) (posterior_log_variance_clipped).</summary>
    public IReadOnlyList<double> PosteriorLogVariancesClipped { get; }

    readonly Dictionary<(TorchSharp.DeviceType, int, ScalarType), Tables> _tables = [];
    readonly Lock _lock = new();

    /// <param name="steps">T ≥ 1.</param>
    /// <param name="betaMin">β_min ≥ 0 of the continuous VP (default 0.1).</param>
    /// <param name="betaMax">β_max ≥ β_min, &gt; 0 (default 20).</param>
    public DdganProcess(int steps, double betaMin = 0.1, double betaMax = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (!(betaMin >= 0) || !double.IsFinite(betaMin)) throw new ArgumentOutOfRangeException(nameof(betaMin), betaMin, "β_min must be finite and ≥ 0");
        if (!(betaMax >= betaMin) || !(betaMax > 0) || !double.IsFinite(betaMax))
            throw new ArgumentOutOfRangeException(nameof(betaMax), betaMax, $"β_max must be finite, > 0 and ≥ β_min ({betaMin})");
        Steps = steps;
        BetaMin = betaMin;
        BetaMax = betaMax;

        int n = steps + 1;
        var times = new double[n];
        for (int k = 0; k < n; k++) times[k] = k / (double)steps * (1 - EpsSmall) + EpsSmall; // the code's arange/T·(1 − ε) + ε
        double LogAlphaBar(double t) => -0.5 * t * t * (betaMax - betaMin) - t * betaMin;      // 2·log_mean_coeff of var_func_vp

        var betas = new double[n];
        var logStepAlpha = new double[n]; // log(1 − β_k), exact from the log-ᾱ difference
        betas[0] = FirstBeta;
        logStepAlpha[0] = Math.Log(1 - FirstBeta);
        for (int k = 1; k < n; k++)
        {
            double d = LogAlphaBar(times[k]) - LogAlphaBar(times[k - 1]); // log(ᾱ(t_k)/ᾱ(t_{k−1})) < 0
            betas[k] = -ExpM1(d);
            logStepAlpha[k] = d;
        }

        var stepScales = new double[n];
        var stepStds = new double[n];
        var marginalScales = new double[n];
        var marginalStds = new double[n];
        double logCum = 0; // Σ_{1 ≤ j ≤ k} log(1 − β_j): β_0 is left out, as the official float32 cumprod does (1 − 1e-8 → 1)
        for (int k = 0; k < n; k++)
        {
            stepScales[k] = Math.Sqrt(1 - betas[k]);
            stepStds[k] = Math.Sqrt(betas[k]);
            if (k > 0) logCum += logStepAlpha[k];
            marginalScales[k] = Math.Exp(0.5 * logCum);
            marginalStds[k] = Math.Sqrt(-ExpM1(logCum));
        }

        var alphasCumprod = new double[steps];
        var coefX0 = new double[steps];
        var coefXt = new double[steps];
        var variances = new double[steps];
        var logVariances = new double[steps];
        double logPrev = 0; // log ᾱ_{j−1}, with ᾱ_{−1} = 1
        for (int j = 0; j < steps; j++)
        {
            double beta = betas[j + 1], logAlpha = logStepAlpha[j + 1];
            double logCur = logPrev + logAlpha;
            double oneMinusCur = -ExpM1(logCur), oneMinusPrev = -ExpM1(logPrev);
            alphasCumprod[j] = Math.Exp(logCur);
            variances[j] = beta * oneMinusPrev / oneMinusCur;
            coefX0[j] = beta * Math.Exp(0.5 * logPrev) / oneMinusCur;
            coefXt[j] = oneMinusPrev * Math.Exp(0.5 * logAlpha) / oneMinusCur;
            logVariances[j] = Math.Log(Math.Max(variances[j], MinPosteriorVariance));
            logPrev = logCur;
        }

        Times = times;
        Betas = betas;
        StepScales = stepScales;
        StepStds = stepStds;
        MarginalScales = marginalScales;
        MarginalStds = marginalStds;
        PosteriorAlphasCumprod = alphasCumprod;
        PosteriorCoefX0 = coefX0;
        PosteriorCoefXt = coefXt;
        PosteriorVariances = variances;
        PosteriorLogVariancesClipped = logVariances;
    }

    /// <summary>
    /// q_sample: x_t = a_s_cum[t] x_0 + sigmas_cum[t] ε, ε ~ N(0, I). t: int64 [B] in 0..T (T + 1 entries as the code's
    /// tables; t = 0 returns x_0, t = T is the prior end).
    /// </summary>
    public Tensor SampleMarginal(Tensor x0, Tensor t, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var tab = TablesFor(x0);
        var noise = randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: gen);
        var xt = Extract(tab.MarginalScales, t, x0) * x0 + Extract(tab.MarginalStds, t, x0) * noise;
        return xt.to(x0.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// q_sample_pairs: x_t ~ q(x_t | x_0) and x_{t+1} = a_s[t+1] x_t + sigmas[t+1] ε' for t: int64 [B] in 0..T−1. As the code,
    /// the step noise ε' is drawn before the marginal's noise.
    /// </summary>
    public (Tensor XT, Tensor XTPlus1) SamplePair(Tensor x0, Tensor t, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var tab = TablesFor(x0);
        var stepNoise = randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: gen);
        var xt = SampleMarginal(x0, t, gen);
        var next = t + 1;
        var xt1 = (Extract(tab.StepScales, next, x0) * xt + Extract(tab.StepStds, next, x0) * stepNoise).to(x0.dtype);
        return (xt.MoveToOuterDisposeScope(), xt1.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Mean of q(x_t | x_{t+1}, x_0) = c0[t] x_0 + ct[t] x_{t+1} (sample_posterior's q_posterior). <paramref name="xt"/> is the
    /// noisier item the generator saw (x_{t+1} in step counting); t: int64 [B] in 0..T−1.
    /// </summary>
    public Tensor PosteriorMean(Tensor x0, Tensor xt, Tensor t)
    {
        using var scope = NewDisposeScope();
        var tab = TablesFor(xt);
        var mean = Extract(tab.CoefX0, t, xt) * x0 + Extract(tab.CoefXt, t, xt) * xt;
        return mean.to(xt.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The posterior variances (unclipped) at t: int64 [B] → [B] float32 (0 at t = 0).</summary>
    public Tensor PosteriorVariance(Tensor t)
    {
        using var scope = NewDisposeScope();
        var tab = TablesFor(t.device, ScalarType.Float32);
        return tab.Variances.index_select(0, OnDevice(t, tab.Variances)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// sample_posterior: mean + (t ≠ 0)·exp(½ log var_clipped)·ε, ε ~ N(0, I) drawn for every item (as the code); at t = 0 the
    /// mean (= x_0) is returned without noise.
    /// </summary>
    public Tensor SamplePosterior(Tensor x0, Tensor xt, Tensor t, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var tab = TablesFor(xt);
        var mean = Extract(tab.CoefX0, t, xt) * x0 + Extract(tab.CoefXt, t, xt) * xt;
        var noise = randn(xt.shape, dtype: xt.dtype, device: xt.device, generator: gen);
        var tt = OnDevice(t, tab.LogVariances);
        var nonzero = tt.ne(0L).to(tab.LogVariances.dtype).reshape(BroadcastShape(xt));
        var std = Extract(tab.LogVariances, t, xt).mul(0.5).exp();
        return (mean + nonzero * std * noise).to(xt.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// sample_from_model: from <paramref name="xT"/> (x_T; the code draws N(0, I)), for i = T−1 … 0:
    /// x_0 = predictX0(x, t) with t = i as int64 [B] (the generator draws its own latent z), x ← SamplePosterior(x_0, x, t).
    /// Runs under no_grad as the code; onStep(done, T) after each step. The caller keeps ownership of xT.
    /// </summary>
    public Tensor Sample(Func<Tensor, Tensor, Tensor> predictX0, Tensor xT, Generator? gen, Action<int, int>? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(predictX0);
        using var noGrad = no_grad();
        var x = xT;
        long b = xT.shape[0];
        for (int i = Steps - 1; i >= 0; i--)
        {
            Tensor next;
            using (var scope = NewDisposeScope())
            {
                var t = full([b], i, ScalarType.Int64, device: xT.device);
                var x0 = predictX0(x, t);
                next = SamplePosterior(x0, x, t, gen).MoveToOuterDisposeScope();
            }
            if (!ReferenceEquals(x, xT)) x.Dispose();
            x = next;
            onStep?.Invoke(Steps - i, Steps);
        }
        return x;
    }

    /// <summary>Frees the cached coefficient tensors (they are rebuilt if the process is used again).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var tab in _tables.Values) tab.Dispose();
            _tables.Clear();
        }
    }

    // e^x − 1 without the cancellation of Math.Exp(x) − 1 (which is what .NET's double.ExpM1 does): Kahan's
    // (u − 1)·x / log u with u = e^x, exact to a few ulps for all x.
    static double ExpM1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0) return -1.0;
        return um1 * x / Math.Log(u);
    }

    // extract(): gather the [T(+1)] table at t and reshape to [B, 1, …, 1] for items of x's rank.
    static Tensor Extract(Tensor table, Tensor t, Tensor x)
    {
        if (t.dim() != 1 || t.shape[0] != x.shape[0])
            throw new ArgumentException($"t must be a [B] tensor of step indices with B = {x.shape[0]} (got shape [{string.Join(", ", t.shape)}])", nameof(t));
        return table.index_select(0, OnDevice(t, table)).reshape(BroadcastShape(x));
    }

    static Tensor OnDevice(Tensor t, Tensor table) =>
        t.device_type == table.device_type && t.device_index == table.device_index ? t : t.to(table.device);

    static long[] BroadcastShape(Tensor x)
    {
        var shape = new long[x.dim()];
        shape[0] = x.shape[0];
        for (int i = 1; i < shape.Length; i++) shape[i] = 1;
        return shape;
    }

    Tables TablesFor(Tensor x) => TablesFor(x.device, x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);

    Tables TablesFor(Device device, ScalarType dtype)
    {
        var key = (device.type, (int)device.index, dtype);
        lock (_lock)
        {
            if (!_tables.TryGetValue(key, out var tab))
            {
                tab = new Tables(this, device, dtype);
                _tables[key] = tab;
            }
            return tab;
        }
    }

    // The float32 (or float64) tensors of the tables on one device, made lazily and kept outside any dispose scope.
    sealed class Tables : IDisposable
    {
        public readonly Tensor MarginalScales, MarginalStds, StepScales, StepStds, CoefX0, CoefXt, Variances, LogVariances;

        public Tables(DdganProcess p, Device device, ScalarType dtype)
        {
            Tensor Make(IReadOnlyList<double> values) => tensor(values.ToArray(), dtype, device).DetachFromDisposeScope();
            MarginalScales = Make(p.MarginalScales);
            MarginalStds = Make(p.MarginalStds);
            StepScales = Make(p.StepScales);
            StepStds = Make(p.StepStds);
            CoefX0 = Make(p.PosteriorCoefX0);
            CoefXt = Make(p.PosteriorCoefXt);
            Variances = Make(p.PosteriorVariances);
            LogVariances = Make(p.PosteriorLogVariancesClipped);
        }

        public void Dispose()
        {
            foreach (var t in new[] { MarginalScales, MarginalStds, StepScales, StepStds, CoefX0, CoefXt, Variances, LogVariances }) t.Dispose();
        }
    }
}
