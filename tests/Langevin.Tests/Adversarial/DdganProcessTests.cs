using Langevin.Adversarial;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

public sealed class DdganProcessTests
{
    const double BetaMin = 0.1, BetaMax = 20;

    // The continuous VP of var_func_vp, written independently: ᾱ(t) = exp(−½t²(β_max − β_min) − tβ_min), on the grid
    // t_k = ε + k(1 − ε)/T with ε = 1e-3 (get_time_schedule).
    static double AlphaBar(double t) => Math.Exp(-0.5 * t * t * (BetaMax - BetaMin) - t * BetaMin);
    static double Time(int k, int steps) => 1e-3 + k * (1 - 1e-3) / steps;

    // ᾱ(t_k)/ᾱ(t_0): the squared scale of q(x_k | x_0) (index 0 is the clean data).
    static double Cumulative(int k, int steps) => AlphaBar(Time(k, steps)) / AlphaBar(Time(0, steps));

    // 1 − β_k = ᾱ(t_k)/ᾱ(t_{k−1}), k ≥ 1.
    static double StepAlpha(int k, int steps) => AlphaBar(Time(k, steps)) / AlphaBar(Time(k - 1, steps));

    static double Mean(Tensor x) => x.to(float64).mean().item<double>();
    static double Var(Tensor x) { var c = x.to(float64) - Mean(x); return c.square().mean().item<double>(); }
    static double Cov(Tensor x, Tensor y) => ((x.to(float64) - Mean(x)) * (y.to(float64) - Mean(y))).mean().item<double>();

    static void WithinSe(double actual, double expected, double se, string what) =>
        Assert.True(Math.Abs(actual - expected) <= 5 * se, $"{what}: {actual} vs {expected} (5 SE = {5 * se})");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void ScheduleMatchesTheContinuousVpFormula(int steps)
    {
        using var p = new DdganProcess(steps);
        Assert.Equal(steps + 1, p.Times.Count);
        Assert.Equal(steps + 1, p.Betas.Count);
        Assert.Equal(steps + 1, p.MarginalScales.Count);
        Assert.Equal(steps, p.PosteriorAlphasCumprod.Count);
        Assert.Equal(1e-3, p.Times[0], 15);
        Assert.Equal(1.0, p.Times[steps], 15);
        for (int k = 0; k <= steps; k++) Assert.Equal(Time(k, steps), p.Times[k], 14);

        Assert.Equal(1e-8, p.Betas[0]);          // get_sigma_schedule's first β
        Assert.Equal(1e-4, p.StepStds[0], 15);
        Assert.Equal(1.0, p.MarginalScales[0]);   // x at index 0 is the data (the official float32 cumprod: 1 − 1e-8 → 1)
        Assert.Equal(0.0, p.MarginalStds[0]);
        for (int k = 1; k <= steps; k++)
        {
            double beta = 1 - StepAlpha(k, steps);
            Assert.True(Math.Abs(p.Betas[k] - beta) <= 1e-12 * beta, $"β_{k}: {p.Betas[k]} vs {beta}");
            Assert.Equal(Math.Sqrt(1 - beta), p.StepScales[k], 12);
            Assert.Equal(Math.Sqrt(beta), p.StepStds[k], 12);
            double cum = Cumulative(k, steps);
            Assert.Equal(Math.Sqrt(cum), p.MarginalScales[k], 12);
            Assert.Equal(Math.Sqrt(1 - cum), p.MarginalStds[k], 12);
            Assert.Equal(cum, p.PosteriorAlphasCumprod[k - 1], 12);
        }
        // The prior end ᾱ(1)/ᾱ(1e-3) = exp(−10.05 + 1.00995e-4) ≈ 4.31905e-5 whatever T is.
        Assert.InRange(p.MarginalScales[steps] * p.MarginalScales[steps], 4.3190e-5, 4.3191e-5);
        // The clip: log(max(var, 1e-20)) with var = 0 at the last step.
        Assert.Equal(0.0, p.PosteriorVariances[0]);
        Assert.Equal(Math.Log(1e-20), p.PosteriorLogVariancesClipped[0], 12);
        for (int j = 1; j < steps; j++) Assert.Equal(Math.Log(p.PosteriorVariances[j]), p.PosteriorLogVariancesClipped[j], 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void PosteriorIsTheGaussianBayesProduct(int steps)
    {
        // q(x_j | x_{j+1}, x_0) ∝ q(x_{j+1} | x_j) q(x_j | x_0) = N(x_{j+1}; √α x_j, β) N(x_j; a x_0, σ²), computed in double
        // from the per-step (α, β of step j + 1) and cumulative (a, σ of index j) coefficients.
        using var scope = NewDisposeScope();
        using var p = new DdganProcess(steps);
        using var gen = new Generator(3);
        foreach (var shape in new long[][] { [12, 2], [12, 3, 4, 4] })
        {
            var x0 = randn(shape, float64, generator: gen);
            var xt = randn(shape, float64, generator: gen);
            var t = randint(0, steps, [shape[0]], ScalarType.Int64, generator: gen);
            t[0] = tensor(0L); // the last step is always among the items
            var mean = p.PosteriorMean(x0, xt, t);
            var mean32 = p.PosteriorMean(x0.to(float32), xt.to(float32), t);
            var variance = p.PosteriorVariance(t);
            Assert.Equal(shape, mean.shape);
            Assert.Equal(ScalarType.Float64, mean.dtype);
            Assert.Equal(ScalarType.Float32, mean32.dtype);
            Assert.Equal([shape[0]], variance.shape);
            for (int b = 0; b < shape[0]; b++)
            {
                using var inner = NewDisposeScope();
                int j = (int)t[b].item<long>();
                double alpha = p.StepScales[j + 1] * p.StepScales[j + 1], beta = p.StepStds[j + 1] * p.StepStds[j + 1];
                double a = p.MarginalScales[j], s2 = p.MarginalStds[j] * p.MarginalStds[j];
                double v, wx0, wxt;
                if (s2 == 0) { v = 0; wx0 = a; wxt = 0; } // x_j = x_0 exactly: a point mass
                else
                {
                    v = 1 / (alpha / beta + 1 / s2);
                    wx0 = v * a / s2;
                    wxt = v * Math.Sqrt(alpha) / beta;
                }
                var expected = wx0 * x0[b] + wxt * xt[b];
                Assert.True((mean[b] - expected).abs().max().item<double>() < 1e-12, $"posterior mean, T={steps}, j={j}");
                Assert.True((mean32[b].to(float64) - expected).abs().max().item<double>() < 1e-5, $"float32 posterior mean, T={steps}, j={j}");
                Assert.Equal(v, p.PosteriorVariances[j], 13);
                Assert.True(Math.Abs(variance[b].item<float>() - v) <= 1e-6 * v, $"float32 posterior variance, T={steps}, j={j}");
            }
        }
    }

    [Fact]
    public void PosteriorAtTheLastStepIsThePredictedDataWithoutNoise()
    {
        using var scope = NewDisposeScope();
        using var p = new DdganProcess(4);
        using var gen = new Generator(4);
        var x0 = randn([6, 3, 8, 8], generator: gen);
        var xt = randn([6, 3, 8, 8], generator: gen);
        var t = tensor(new long[] { 0, 1, 0, 3, 2, 0 });
        var sample = p.SamplePosterior(x0, xt, t, gen);
        var mean = p.PosteriorMean(x0, xt, t);
        Assert.Equal(ScalarType.Float32, sample.dtype);
        foreach (int b in new[] { 0, 2, 5 })
        {
            Assert.True(sample[b].eq(mean[b]).all().item<bool>(), $"item {b} at t = 0 got noise");
            Assert.True(sample[b].eq(x0[b]).all().item<bool>(), $"item {b} at t = 0 is not x_0");
        }
        foreach (int b in new[] { 1, 3, 4 })
        {
            double sd = Math.Sqrt(p.PosteriorVariances[(int)t[b].item<long>()]);
            double rms = (sample[b] - mean[b]).square().mean().sqrt().item<float>();
            Assert.InRange(rms, 0.8 * sd, 1.2 * sd); // 192 draws of N(0, var) per item
        }
    }

    [Fact]
    public void SamplersKeepTheItemShapeAndIndexPerItem()
    {
        using var scope = NewDisposeScope();
        using var p = new DdganProcess(4);
        using var gen = new Generator(5);
        foreach (var shape in new long[][] { [5, 2], [5, 3, 4, 4] })
        {
            var x0 = randn(shape, generator: gen);
            var t = tensor(new long[] { 0, 3, 1, 0, 2 });
            var marginal = p.SampleMarginal(x0, t, gen);
            var (xt, xt1) = p.SamplePair(x0, t, gen);
            Assert.Equal(shape, marginal.shape);
            Assert.Equal(shape, xt.shape);
            Assert.Equal(shape, xt1.shape);
            Assert.Equal(ScalarType.Float32, xt1.dtype);
            Assert.True(marginal[0].eq(x0[0]).all().item<bool>()); // index 0 is the data itself
            Assert.True(xt[3].eq(x0[3]).all().item<bool>());
            Assert.False(xt1[3].eq(x0[3]).all().item<bool>());     // … and x_1 is one step on
        }
        var bad = tensor(new long[] { 0, 1 });
        Assert.Throws<ArgumentException>(() => p.SampleMarginal(zeros(3, 2), bad, gen));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void PairHasTheMomentsOfTheVpChain(int steps)
    {
        // x_0 ~ N(m, s²); every index k = 0..T−1 gets n items in one batch. Exact moments of the chain, from the continuous
        // formula: x_k = a_k x_0 + σ_k ε, x_{k+1} = √α_{k+1} x_k + √β_{k+1} ε'.
        const int n = 100_000;
        const double m = 1.5, s = 0.5;
        using var scope = NewDisposeScope();
        using var p = new DdganProcess(steps);
        using var gen = new Generator(6);
        var x0 = m + s * randn([steps * n, 1], generator: gen);
        var t = arange(steps, ScalarType.Int64).repeat_interleave(n);
        var (xt, xt1) = p.SamplePair(x0, t, gen);
        for (int k = 0; k < steps; k++)
        {
            using var inner = NewDisposeScope();
            var a = xt[TensorIndex.Slice(k * n, (k + 1) * n)];
            var b = xt1[TensorIndex.Slice(k * n, (k + 1) * n)];
            double cum = Cumulative(k, steps), alpha = StepAlpha(k + 1, steps);
            double ma = Math.Sqrt(cum) * m, va = cum * s * s + (1 - cum);
            double mb = Math.Sqrt(alpha) * ma, vb = alpha * va + (1 - alpha), cab = Math.Sqrt(alpha) * va;
            WithinSe(Mean(a), ma, Math.Sqrt(va / n), $"E x_{k}");
            WithinSe(Mean(b), mb, Math.Sqrt(vb / n), $"E x_{k + 1}");
            WithinSe(Var(a), va, va * Math.Sqrt(2.0 / n), $"Var x_{k}");
            WithinSe(Var(b), vb, vb * Math.Sqrt(2.0 / n), $"Var x_{k + 1}");
            WithinSe(Cov(a, b), cab, Math.Sqrt((va * vb + cab * cab) / n), $"Cov(x_{k}, x_{k + 1})");
        }
        // The marginal at the prior end (index T, which the code's T + 1 tables hold too).
        var last = p.SampleMarginal(x0, full([steps * n], steps, ScalarType.Int64), gen);
        double cT = Cumulative(steps, steps), mT = Math.Sqrt(cT) * m, vT = cT * s * s + 1 - cT;
        WithinSe(Mean(last), mT, Math.Sqrt(vT / (steps * n)), "E x_T");
        WithinSe(Var(last), vT, vT * Math.Sqrt(2.0 / (steps * n)), "Var x_T");
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(4, true)]
    [InlineData(4, false)]
    public void SamplingWithTheExactConditionalGeneratorRecoversTheData(int steps, bool exactStart)
    {
        // Gaussian data N(m, s²): the DD-GAN generator's ideal is a draw x_0 ~ q(x_0 | x_{t+1}) (not its mean), Gaussian with
        // mean m + κ(x − a m), variance s²(1 − κ a), κ = a s²/(a² s² + σ²), at a = a_{t+1}, σ = σ_{t+1}. Then each step
        // draws x_t ~ q(x_t | x_{t+1}) exactly and the loop ends at x_0 ~ ∫ q(x_0 | x_T) r(x_T): N(m, s²) when x_T starts from
        // q(x_T); from N(0, I) (the code's start) the mean is m − κ_T a_T m and the variance s²(1 − κ_T a_T) + κ_T² exactly.
        const int n = 200_000;
        const double m = 1.5, s = 0.5;
        using var scope = NewDisposeScope();
        using var p = new DdganProcess(steps);
        using var gen = new Generator(7);
        var scale = tensor(Enumerable.Range(0, steps + 1).Select(k => Math.Sqrt(Cumulative(k, steps))).ToArray(), float32);
        var std = tensor(Enumerable.Range(0, steps + 1).Select(k => Math.Sqrt(1 - Cumulative(k, steps))).ToArray(), float32);
        var seen = new List<long>();
        Tensor? lastX0 = null;
        Tensor PredictX0(Tensor x, Tensor t)
        {
            seen.Add(t[0].item<long>());
            Assert.True(t.eq(t[0]).all().item<bool>());
            var a = scale.index_select(0, t + 1).unsqueeze(1);
            var sig2 = std.index_select(0, t + 1).square().unsqueeze(1);
            var kappa = a * (s * s) / (a.square() * (s * s) + sig2);
            var x0 = m + kappa * (x - a * m) + (s * s * (1 - kappa * a)).sqrt() * randn(x.shape, generator: gen);
            lastX0?.Dispose();
            lastX0 = x0.clone().DetachFromDisposeScope();
            return x0;
        }
        var reported = new List<(int, int)>();
        var xT = exactStart
            ? p.SampleMarginal(m + s * randn([n, 1], generator: gen), full([n], steps, ScalarType.Int64), gen)
            : randn([n, 1], generator: gen);
        var x = p.Sample(PredictX0, xT, gen, (done, total) => reported.Add((done, total)));

        Assert.Equal(Enumerable.Range(0, steps).Reverse().Select(i => (long)i), seen);
        Assert.Equal(Enumerable.Range(1, steps).Select(d => (d, steps)), reported);
        Assert.Equal([n, 1], x.shape);
        Assert.True(x.eq(lastX0!).all().item<bool>(), "the last step must return the predicted x_0 without noise");
        lastX0!.Dispose();

        double aT = Math.Sqrt(Cumulative(steps, steps)), sT2 = 1 - Cumulative(steps, steps);
        double kT = aT * s * s / (aT * aT * s * s + sT2);
        double mean = exactStart ? m : m - kT * aT * m, variance = exactStart ? s * s : s * s * (1 - kT * aT) + kT * kT;
        WithinSe(Mean(x), mean, Math.Sqrt(variance / n), "E x_0");
        WithinSe(Var(x), variance, variance * Math.Sqrt(2.0 / n), "Var x_0");
        Assert.True(xT.numel() == n && !xT.IsInvalid, "Sample must leave the caller's x_T alone");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NonPositiveStepCountsAreRejected(int steps) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DdganProcess(steps));

    [Fact]
    public void InvertedBetaRangeIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DdganProcess(4, betaMin: 20, betaMax: 0.1));
}
