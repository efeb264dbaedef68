using Langevin.Models;
using Langevin.Processes;
using static TorchSharp.torch;
using Langevin.Samplers;

namespace Langevin.Dmcmc;

/// <summary>
/// Settings of <see cref="DenoisingLangevinGibbs"/>; defaults follow the paper's code where it has one.
/// </summary>
/// <param name="StepSize">η of the x-update x ← x + (η/2) ∇log p_σ(x) + √η z.</param>
/// <param name="GibbsSteps">Langevin–Gibbs steps per emitted sample (the paper's n_skip; 10 in its code).</param>
/// <param name="HeunSteps">Karras σ's from a chain's σ down to <paramref name="SigmaMin"/> for the hand-off (then σ = 0).</param>
/// <param name="BurnIn">Gibbs steps after the initialisation, before the first sample.</param>
/// <param name="InitSteps">Karras σ's of the Heun run from σ_max that starts the chains (the paper: 20).</param>
/// <param name="InitNoise">Standard deviation of the noise added to those samples before the chains start (the paper: 0.5).</param>
/// <param name="SampleSigma">Draw σ ~ p(σ | x) (exact Gibbs) instead of taking the posterior mode (the paper's code).</param>
/// <param name="HandOffLowest">Hand off the state of smallest σ among the last GibbsSteps (the paper's code) instead of the last state.</param>
public sealed record DlgSettings(double StepSize = 0.01, int GibbsSteps = 10, int HeunSteps = 6, int BurnIn = 20, int InitSteps = 18,
    double InitNoise = 0.5, double SigmaMin = 0.002, double SigmaMax = 80, double Rho = 7, bool SampleSigma = false, bool HandOffLowest = true)
{
    public void Validate()
    {
        if (!(StepSize > 0) || !double.IsFinite(StepSize)) throw new SettingException("step_size", StepSize, "must be > 0");
        if (GibbsSteps < 1) throw new SettingException("gibbs_steps", GibbsSteps, "must be ≥ 1");
        if (HeunSteps < 1) throw new SettingException("steps", HeunSteps, "must be ≥ 1");
        if (BurnIn < 0) throw new SettingException("burn_in", BurnIn, "must be ≥ 0");
        if (InitSteps < 1) throw new SettingException("init_steps", InitSteps, "must be ≥ 1");
        if (!(InitNoise >= 0) || !double.IsFinite(InitNoise)) throw new SettingException("init_noise", InitNoise, "must be ≥ 0");
        KarrasSigmas.Check(SigmaMin, SigmaMax, Rho);
    }
}

/// <summary>
/// What a DLG run cost, in batched network calls (each call evaluates every chain once). Per emitted sample the cost is
/// amortised over the samples each chain emits: the start-up (Heun from σ_max, burn-in) is paid once per chain.
/// </summary>
public sealed record DlgCost(int Chains, int SamplesPerChain, long ScoreEvaluations, long EstimatorEvaluations, long HeunEvaluations,
    double MeanStartSigma)
{
    /// <summary>Denoiser evaluations per sample: Langevin scores (+ the start-up's Heun) + the hand-off Heun.</summary>
    public double DenoiserPerSample => (double)(ScoreEvaluations + HeunEvaluations) / SamplesPerChain;
    public double EstimatorPerSample => (double)EstimatorEvaluations / SamplesPerChain;
    /// <summary>All network evaluations per sample, the estimator counted as one NFE like the denoiser.</summary>
    public double TotalPerSample => DenoiserPerSample + EstimatorPerSample;
}

/// <summary>
/// Denoising MCMC with denoising Langevin Gibbs (Kim &amp; Ye 2022, "Denoising MCMC for accelerating diffusion-based
/// generative models", §4, Alg. 1): a Markov chain on the product space (x, σ) of the joint p(x, σ) ∝ p_σ(x) on a grid
/// of noise levels, Gibbs-alternating
///   x ~ p(x | σ): one Langevin step x ← x + (η/2) s(x, σ) + √η z with the score s = (D(x, σ) − x)/σ²,
///   σ ~ p(σ | x): the noise-level estimator (its posterior mode, as the paper's code, or a draw);
/// every <see cref="DlgSettings.GibbsSteps"/> steps the chain state with the smallest σ is handed to EDM's Heun sampler
/// (Karras et al. 2022, Alg. 1), which integrates the probability-flow ODE from that chain's own σ to 0 on Karras σ's.
/// Because the chain stays near the data, the integration starts low and needs few steps.
/// </summary>
public sealed class DenoisingLangevinGibbs
{
    readonly IScoreModel _model;
    readonly INoiseLevelEstimator _estimator;

    public DlgSettings Settings { get; }

    public DenoisingLangevinGibbs(IScoreModel model, INoiseLevelEstimator estimator, DlgSettings settings)
    {
        settings.Validate();
        if (!(estimator.Levels.SigmaMin > settings.SigmaMin))
            throw SettingException.Sentence("sigma_min", settings.SigmaMin, $"({settings.SigmaMin}) must lie below the estimator's lowest level ({estimator.Levels.SigmaMin})");
        (_model, _estimator, Settings) = (model, estimator, settings);
    }

    /// <summary>The x-update at each chain's σ ([B]): one unadjusted Langevin step on p_σ (the paper's x ~ p(x | s)).</summary>
    public Tensor LangevinX(Tensor x, Tensor sigma, Generator? gen)
    {
        var s = sigma.Broadcast(x);
        var score = (_model.Denoise(x, sigma) - x) / (s * s);                    // s(x, σ) = (D(x, σ) − x)/σ² (Tweedie)
        return LangevinStep.Apply(x, score, Settings.StepSize / 2, gen);          // x + (η/2) s + √η z
    }

    /// <summary>The σ-update (the paper's s ~ p(s | x)): the estimator's mode, or a draw if <see cref="DlgSettings.SampleSigma"/>.</summary>
    public Tensor UpdateSigma(Tensor x, Generator? gen) => _estimator.EstimateSigma(x, gen, Settings.SampleSigma);

    /// <summary>
    /// Runs <paramref name="chains"/> chains ([chains, …<paramref name="itemShape"/>]) and lets each emit
    /// <paramref name="samplesPerChain"/> samples; returns them sample-major ([samplesPerChain · chains, …]) with the cost.
    /// <paramref name="onStep"/> reports (done, total) batched network calls.
    /// </summary>
    public (Tensor Samples, DlgCost Cost) Sample(int chains, int samplesPerChain, long[] itemShape, Generator gen,
        ScalarType dtype = ScalarType.Float32, Device? device = null, Action<int, int>? onStep = null)
    {
        if (chains < 1) throw new SettingException("chains", chains, "must be ≥ 1");
        if (samplesPerChain < 1) throw new UsageException($"need ≥ 1 sample per chain (got {samplesPerChain})");
        var st = Settings;
        int heun = 2 * st.HeunSteps - 1, init = 2 * st.InitSteps - 1;
        long total = init + 2L * st.BurnIn + 1 + (long)samplesPerChain * (2 * st.GibbsSteps + heun);
        long done = 0, score = 0, estimator = 0, handOff = 0;
        void Tick(long calls) { done += calls; onStep?.Invoke((int)done, (int)total); }
        double startSigmas = 0;

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Start-up (the paper's code): Heun from σ_max, re-noise by InitNoise, estimate σ, burn in.
        var z = randn([chains, .. itemShape], generator: gen, dtype: dtype, device: device);
        var x = DiffusionSamplers.Heun(_model, z * st.SigmaMax, SamplingSigmas.Karras(st.InitSteps, st.SigmaMin, st.SigmaMax, st.Rho));
        score += init; Tick(init);
        x = x + st.InitNoise * randn(x.shape, generator: gen, dtype: dtype, device: device);
        var sigma = UpdateSigma(x, gen);
        estimator++; Tick(1);
        for (int b = 0; b < st.BurnIn; b++) GibbsStep(ref x, ref sigma);

        var emitted = new List<Tensor>(samplesPerChain);
        for (int s = 0; s < samplesPerChain; s++)
        {
            using var sampleScope = NewDisposeScope();
            // Alg. 1: run the chain for n_skip steps, keep each chain's state of smallest σ.
            var (bestX, bestSigma) = (x, sigma);
            for (int g = 0; g < st.GibbsSteps; g++)
            {
                GibbsStep(ref x, ref sigma);
                var lower = st.HandOffLowest ? sigma.lt(bestSigma) : ones_like(sigma, dtype: ScalarType.Bool);
                bestX = where(lower.Broadcast(x), x, bestX);
                bestSigma = where(lower, sigma, bestSigma);
            }
            // Hand-off: Heun from each chain's own σ on Karras σ's down to σ_min, then 0.
            var ladders = Ladders(bestSigma);
            emitted.Add(DiffusionSamplers.HeunFrom(_model, bestX, ladders).MoveToOuterDisposeScope());
            startSigmas += bestSigma.to(float64).mean().item<double>();
            handOff += heun; Tick(heun);
            x = x.MoveToOuterDisposeScope();
            sigma = sigma.MoveToOuterDisposeScope();
        }
        var cost = new DlgCost(chains, samplesPerChain, score, estimator, handOff, startSigmas / samplesPerChain);
        return (cat(emitted, 0).MoveToOuterDisposeScope(), cost);

        void GibbsStep(ref Tensor x, ref Tensor sigma)
        {
            using var step = NewDisposeScope();                              // the step's intermediates die here
            x = LangevinX(x, sigma, gen).MoveToOuterDisposeScope();          // x ~ p(x | σ)
            sigma = UpdateSigma(x, gen).MoveToOuterDisposeScope();           // σ ~ p(σ | x)
            score++; estimator++; Tick(2);
        }
    }

    /// <summary>Karras σ's (Karras et al. 2022, Eq. 5) from each chain's σ down to σ_min, then 0: [B, HeunSteps + 1].</summary>
    public Tensor Ladders(Tensor sigma)
    {
        var starts = sigma.to(float64).cpu().data<double>().ToArray();
        var rows = starts.SelectMany(s => SamplingSigmas.Karras(Settings.HeunSteps, Settings.SigmaMin, s, Settings.Rho)).ToArray();
        return tensor(rows, [starts.Length, Settings.HeunSteps + 1], dtype: sigma.dtype, device: sigma.device);
    }
}
