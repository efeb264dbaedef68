using Langevin.Mcmc;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>Settings of <see cref="AnnealedImportanceSampler"/>.</summary>
/// <param name="Levels">K: inverse temperatures β₁ &lt; … &lt; β_K = 1, geometric from <paramref name="MinInverseTemperature"/> (β₀ = 0 is the uniform box).</param>
/// <param name="MalaSteps">MALA moves per level.</param>
/// <param name="MinInverseTemperature">β₁, the hottest annealed level.</param>
/// <param name="ResampleThreshold">Resample the particles when their ESS falls below this fraction of them (0: never, plain AIS).</param>
/// <param name="FinalSteps">MALA moves at β = 1 after the final resampling, to spread particles that resampling duplicated.</param>
/// <param name="TargetAcceptance">The MALA step is adapted toward this mean acceptance probability (Roberts &amp; Rosenthal 1998: 0.574).</param>
public sealed record AnnealingSettings(int Levels = 300, int MalaSteps = 2, double MinInverseTemperature = 1e-4, double ResampleThreshold = 0.5,
    int FinalSteps = 20, double TargetAcceptance = 0.574)
{
    public void Validate()
    {
        if (Levels < 1) throw new SettingException("anneal_levels", Levels, "must be ≥ 1");
        if (MalaSteps < 1) throw new SettingException("mala_steps", MalaSteps, "must be ≥ 1");
        if (FinalSteps < 0) throw new UsageException($"final MALA steps must be ≥ 0 (got {FinalSteps})");
        if (!(MinInverseTemperature > 0 && MinInverseTemperature <= 1)) throw new UsageException($"the smallest inverse temperature must be in (0, 1] (got {MinInverseTemperature})");
        if (ResampleThreshold is < 0 or > 1) throw new UsageException($"the resampling threshold must be in [0, 1] (got {ResampleThreshold})");
        if (!(TargetAcceptance > 0 && TargetAcceptance < 1)) throw new UsageException($"the target acceptance must be in (0, 1) (got {TargetAcceptance})");
    }
}

/// <summary>What an annealed run returns.</summary>
/// <param name="Samples">n draws, [n, ...]: the particles resampled by their final weights, then moved at β = 1.</param>
/// <param name="Ess">Effective sample size of the final weights, (Σw)²/Σw², out of the particles.</param>
/// <param name="Resamplings">How often the particles were resampled on the way (ESS below the threshold).</param>
/// <param name="Acceptance">Mean MALA acceptance probability over all moves.</param>
/// <param name="LogNormaliser">AIS's estimate of log ∫_box exp(−U(x)) dx (Neal 2001, Eq. 6, times the box's volume).</param>
public sealed record AnnealedSamples(Tensor Samples, double Ess, int Resamplings, double Acceptance, double LogNormaliser);

/// <summary>
/// Annealed importance sampling (Neal 2001, "Annealed importance sampling") with resampling — a sequential Monte Carlo
/// sampler (Del Moral, Doucet &amp; Jasra 2006) — for π(x) ∝ exp(−U(x)) on a box: particles start uniform on the box
/// (β₀ = 0), each level k raises the inverse temperature to β_k, multiplies the weights by exp(−(β_k − β_{k−1}) U(x)) and
/// moves the particles by MALA on π_k ∝ exp(−β_k U) (Roberts &amp; Tweedie 1996). Hot levels let particles cross between wells;
/// the weights then give each well its mass under π, which a cold chain that stays in the well it falls into cannot.
/// </summary>
public static class AnnealedImportanceSampler
{
    public static AnnealedSamples Run(EnergyFunction energy, Tensor start, double low, double high, int n, AnnealingSettings s, Generator gen,
        Action<int>? onLevel = null)
    {
        s.Validate();
        if (n < 1) throw new UsageException($"the number of samples must be ≥ 1 (got {n})");
        if (!(high > low)) throw new UsageException($"the box [{low}, {high}] is empty");
        long particles = start.shape[0];
        var betas = InverseTemperatures(s.Levels, s.MinInverseTemperature);
        var state = Particles.At(energy, start.detach().clone());
        using var logW = zeros([particles], float64, start.device);
        double width = high - low, a = Math.Pow(0.1 * width, 2), accSum = 0;
        // log Z_box = log vol(box) + Σ over resampling epochs of log mean w (Neal 2001, Eq. 6; Del Moral et al. 2006, §3.2.1)
        double logZ = start.shape.Skip(1).Aggregate(1L, (p, d) => p * d) * Math.Log(width);
        int moves = 0, resamplings = 0;
        void Move(double beta)
        {
            var (next, acc) = MalaMove(energy, state, beta, a, low, high, gen);
            state.Dispose();
            state = next;
            accSum += acc; moves++;
            // Robbins–Monro on log α toward the target acceptance (Andrieu & Thoms 2008, §4.1)
            a = Math.Min(a * Math.Exp(acc - s.TargetAcceptance), width * width);
        }
        for (int k = 1; k <= s.Levels; k++)
        {
            using (var scope = NewDisposeScope())
            {
                // w ← w · f_k(x)/f_{k−1}(x) = w · exp(−(β_k − β_{k−1}) U(x)) (Neal 2001, Eq. 3 with the uniform base)
                logW.sub_((betas[k] - betas[k - 1]) * state.U.to(float64));
                if (s.ResampleThreshold > 0 && EffectiveSampleSize(logW) < s.ResampleThreshold * particles)
                {
                    logZ += LogMeanExp(logW);
                    var next = state.Select(SystematicResample(logW, particles, gen));
                    state.Dispose();
                    state = next;
                    logW.zero_();
                    resamplings++;
                }
            }
            for (int m = 0; m < s.MalaSteps; m++) Move(betas[k]);
            onLevel?.Invoke(k);
        }
        logZ += LogMeanExp(logW);
        double ess = EffectiveSampleSize(logW);
        using (var scope = NewDisposeScope())
        {
            var next = state.Select(SystematicResample(logW, n, gen));
            state.Dispose();
            state = next;
        }
        for (int m = 0; m < s.FinalSteps; m++) Move(1.0);
        var samples = state.X.alias();
        state.Dispose();
        return new AnnealedSamples(samples, ess, resamplings, moves == 0 ? double.NaN : accSum / moves, logZ);
    }

    /// <summary>β₀ = 0, then K levels geometric from β_min to β_K = 1 (Neal 2001, §4 uses such schedules).</summary>
    public static double[] InverseTemperatures(int levels, double minInverseTemperature)
    {
        var b = new double[levels + 1];
        for (int k = 1; k <= levels; k++)
            b[k] = levels == 1 ? 1 : Math.Pow(minInverseTemperature, (double)(levels - k) / (levels - 1));
        return b;
    }

    /// <summary>(Σw)²/Σw² for w = exp(log w).</summary>
    public static double EffectiveSampleSize(Tensor logW)
    {
        using var scope = NewDisposeScope();
        var w = (logW - logW.max()).exp();
        return (w.sum().square() / w.square().sum()).item<double>();
    }

    static double LogMeanExp(Tensor logW)
    {
        using var scope = NewDisposeScope();
        return (logW.logsumexp(0L) - Math.Log(logW.shape[0])).item<double>();
    }

    /// <summary>Systematic resampling (Kitagawa 1996): m indices, index i drawn ⌊m w_i⌋ or ⌈m w_i⌉ times, one uniform for all.</summary>
    public static Tensor SystematicResample(Tensor logW, long m, Generator gen)
    {
        using var scope = NewDisposeScope();
        var w = (logW - logW.max()).exp();
        var cdf = (w / w.sum()).cumsum(0L);
        var u0 = rand([1], float64, logW.device, generator: gen);
        var positions = (arange(m, float64, logW.device) + u0) / m;
        var idx = searchsorted(cdf, positions).clamp_max(logW.shape[0] - 1);
        return idx.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One MALA move per particle on π_β ∝ exp(−β U) restricted to the box: propose y = x − αβ∇U(x) + √(2α) z and accept by
    /// Metropolis–Hastings (<see cref="Mala.LogAcceptance"/>); a proposal outside the box has π = 0 and is rejected.
    /// </summary>
    static (Particles Next, double Acceptance) MalaMove(EnergyFunction energy, Particles p, double beta, double a, double low, double high, Generator gen)
    {
        using var scope = NewDisposeScope();
        var sx = -beta * p.G;
        var y = LangevinStep.Apply(p.X, sx, a, gen);
        var (uy, gy) = EnergySamplers.ValueAndGradient(energy, y);
        var flat = y.flatten(1);
        var inBox = flat.ge(low).logical_and(flat.le(high)).all(1);
        var logPy = -beta * uy.masked_fill(inBox.logical_not(), double.PositiveInfinity);
        var logAlpha = Mala.LogAcceptance(p.X, y, -beta * p.U, logPy, sx, -beta * gy, a);
        var accept = rand([p.X.shape[0]], logAlpha.dtype, logAlpha.device, generator: gen).log() < logAlpha;   // NaN log α rejects
        double acc = logAlpha.to(float64).nan_to_num(double.NegativeInfinity).clamp_max(0).exp().mean().item<double>();
        long[] perItem = [p.X.shape[0], .. Enumerable.Repeat(1L, (int)p.X.dim() - 1)];
        var next = new Particles(
            where(accept.view(perItem), y, p.X).MoveToOuterDisposeScope(),
            where(accept, uy, p.U).MoveToOuterDisposeScope(),
            where(accept.view(perItem), gy, p.G).MoveToOuterDisposeScope());
        return (next, acc);
    }

    /// <summary>Particle positions with their energies and energy gradients (kept so a MALA move costs one gradient).</summary>
    sealed record Particles(Tensor X, Tensor U, Tensor G) : IDisposable
    {
        public static Particles At(EnergyFunction energy, Tensor x)
        {
            var (u, g) = EnergySamplers.ValueAndGradient(energy, x);
            return new Particles(x, u, g);
        }

        public Particles Select(Tensor idx) =>
            new(X.index_select(0, idx).MoveToOuterDisposeScope(), U.index_select(0, idx).MoveToOuterDisposeScope(), G.index_select(0, idx).MoveToOuterDisposeScope());

        public void Dispose() { X.Dispose(); U.Dispose(); G.Dispose(); }
    }
}
