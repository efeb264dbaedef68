using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// Annealed Langevin dynamics (Song &amp; Ermon 2019, Algorithm 1) with NCSNv2's step size α_i = ε σ_i²/σ_L²
/// and its final denoising step x ← x + σ_L² s_θ(x, σ_L) (Song &amp; Ermon 2020, §3.4, Appendix C.2).
/// </summary>
public sealed record AnnealedLangevinSampler(GeometricSigmas Sigmas, int StepsPerLevel, double StepSize, bool FinalDenoise = true)
{
    /// <summary>Number of score evaluations per sample: L·T (+1 for the final denoising step).</summary>
    public int FunctionEvaluations => Sigmas.Levels * StepsPerLevel + (FinalDenoise ? 1 : 0);

    /// <summary>
    /// Runs the chain from <paramref name="x"/> (typically uniform noise, as NCSN). After every step
    /// <paramref name="constrain"/> may overwrite part of the state (inpainting clamps known pixels; see
    /// <see cref="Inpaint"/>). <paramref name="onStep"/> reports progress as (done, total) score evaluations,
    /// <paramref name="onLevel"/> the state after each level, and <paramref name="onSample"/> each level as a step from σ_i
    /// to σ_{i+1} (0 after the last) at its first Langevin step, with the Tweedie denoiser x + σ_i² s(x, σ_i).
    /// </summary>
    public Tensor Sample(IScoreModel model, Tensor x, Generator? gen,
        Func<Tensor, int, Tensor>? constrain = null, Action<int, int>? onStep = null, Action<Tensor>? onLevel = null,
        Action<SamplerStep>? onSample = null)
    {
        using var _ = no_grad();
        x = x.clone();
        double sigmaL2 = Sigmas.SigmaMin * Sigmas.SigmaMin;
        int done = 0, total = FunctionEvaluations;
        for (int i = 0; i < Sigmas.Levels; i++)
        {
            double sigma = Sigmas[i];
            double alpha = StepSize * sigma * sigma / sigmaL2;     // α_i = ε σ_i² / σ_L²
            using var sigmaT = full([x.shape[0]], sigma, dtype: x.dtype, device: x.device);
            for (int t = 0; t < StepsPerLevel; t++)
            {
                using var scope = NewDisposeScope();
                var score = model.Score(x, sigmaT);
                if (t == 0) onSample?.Invoke(new SamplerStep(i, sigma, i + 1 < Sigmas.Levels ? Sigmas[i + 1] : 0, x, x + sigma * sigma * score));
                var next = LangevinStep.Apply(x, score, alpha, gen);
                if (constrain is not null) next = constrain(next, i);
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
                onStep?.Invoke(++done, total);
            }
            onLevel?.Invoke(x);
        }
        if (FinalDenoise)
        {
            using var scope = NewDisposeScope();
            using var sigmaT = full([x.shape[0]], Sigmas.SigmaMin, dtype: x.dtype, device: x.device);
            var next = model.Denoise(x, sigmaT);
            if (constrain is not null) next = constrain(next, Sigmas.Levels);
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(++done, total);
        }
        return x;
    }

    /// <summary>
    /// Inpainting (Song &amp; Ermon 2019, Algorithm 2 / §5): annealed Langevin in which the known entries
    /// (<paramref name="mask"/> = 1) are replaced after every step by the observation noised to the current level,
    /// y + σ_i z with z drawn once per level; the final denoised state keeps the observation exactly.
    /// </summary>
    public Tensor Inpaint(IScoreModel model, Tensor observed, Tensor mask, Tensor init, Generator? gen, Action<int, int>? onStep = null)
    {
        var keep = mask.to(observed.dtype);
        Tensor? noised = null;
        int noisedLevel = -1;
        Tensor Constrain(Tensor x, int level)
        {
            if (level >= Sigmas.Levels) return x * (1 - keep) + observed * keep;
            if (level != noisedLevel)
            {
                noised?.Dispose();
                using (NewDisposeScope())
                    noised = (observed + Sigmas[level] * randn(observed.shape, generator: gen, dtype: observed.dtype, device: observed.device))
                        .DetachFromDisposeScope();      // lives across the steps of a level, disposed here
                noisedLevel = level;
            }
            return x * (1 - keep) + noised! * keep;
        }
        try { return Sample(model, init, gen, Constrain, onStep); }
        finally { noised?.Dispose(); }
    }
}
