using Langevin.Models;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// Samplers for the probability-flow ODE / reverse SDE in the unscaled (VE) σ-frame, k-diffusion style: each runs over
/// a denoiser D(x, σ) = x + σ² s(x, σ) from an <see cref="IScoreModel"/> on a descending σ array whose last entry is 0
/// (see <see cref="SamplingSigmas"/>), returns the final x and reports network evaluations (NFE) as onStep(done, total).
/// The input x is not modified or disposed.
/// </summary>
public static class DiffusionSamplers
{
    /// <summary>NFE of Euler, Euler ancestral and DPM-Solver++(2M): one per step.</summary>
    public static int FirstOrderEvaluations(double[] sigmas) => Validate(sigmas);

    /// <summary>NFE of Heun: two per step, except the last (to σ = 0) which is an Euler step.</summary>
    public static int HeunEvaluations(double[] sigmas) => 2 * Validate(sigmas) - 1;

    /// <summary>
    /// Euler on the probability-flow ODE dx/dσ = (x − D(x, σ))/σ (Karras et al. 2022, Eq. 4 / Alg. 1 without the
    /// correction); in this frame it is DDIM with η = 0 (Song et al. 2021; Karras et al. 2022, §3).
    /// </summary>
    public static Tensor Euler(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null)
    {
        int steps = Validate(sigmas), done = 0, total = FirstOrderEvaluations(sigmas);
        using var _ = no_grad();
        x = x.clone();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var d = Derivative(x, sigmas[i], Denoise(model, x, sigmas[i]));
            Replace(ref x, x + (sigmas[i + 1] - sigmas[i]) * d);     // x ← x + (σ_{i+1} − σ_i) d_i (Karras et al. 2022, Alg. 1 l. 5–6)
            onStep?.Invoke(++done, total);
        }
        return x;
    }

    /// <summary>
    /// Heun's 2nd-order method (Karras et al. 2022, Alg. 1, deterministic: no churn), with a plain Euler step for the
    /// last step to σ = 0 (Alg. 1 line 7), as k-diffusion's sample_heun.
    /// </summary>
    public static Tensor Heun(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null)
    {
        int steps = Validate(sigmas), done = 0, total = HeunEvaluations(sigmas);
        using var _ = no_grad();
        x = x.clone();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            double sigma = sigmas[i], next = sigmas[i + 1], dt = next - sigma;
            var d = Derivative(x, sigma, Denoise(model, x, sigma));
            onStep?.Invoke(++done, total);
            var euler = x + dt * d;                                   // Karras et al. 2022, Alg. 1 l. 5–6
            if (next == 0) { Replace(ref x, euler); continue; }       // Alg. 1 l. 7: no correction at σ = 0
            var d2 = Derivative(euler, next, Denoise(model, euler, next));
            Replace(ref x, x + dt * 0.5 * (d + d2));                  // Alg. 1 l. 8: x ← x + (σ_{i+1} − σ_i)(d_i + d'_i)/2
            onStep?.Invoke(++done, total);
        }
        return x;
    }

    /// <summary>
    /// Euler ancestral (k-diffusion's sample_euler_ancestral): an Euler step down to σ_down followed by fresh noise of
    /// level σ_up, so that σ_down² + σ_up² = σ_{i+1}²; η = 1 is DDPM-like ancestral sampling, η = 0 is <see cref="Euler"/>.
    /// </summary>
    public static Tensor EulerAncestral(IScoreModel model, Tensor x, double[] sigmas, Generator? gen, double eta = 1,
        Action<int, int>? onStep = null)
    {
        if (!(eta >= 0) || !double.IsFinite(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "η must be ≥ 0");
        int steps = Validate(sigmas), done = 0, total = FirstOrderEvaluations(sigmas);
        using var _ = no_grad();
        x = x.clone();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var (down, up) = AncestralStep(sigmas[i], sigmas[i + 1], eta);
            var d = Derivative(x, sigmas[i], Denoise(model, x, sigmas[i]));
            var next = x + (down - sigmas[i]) * d;                    // Euler step to σ_down
            if (sigmas[i + 1] > 0 && up > 0)
                next = next + up * randn(x.shape, generator: gen, dtype: x.dtype, device: x.device); // re-noise to σ_{i+1}
            Replace(ref x, next);
            onStep?.Invoke(++done, total);
        }
        return x;
    }

    /// <summary>
    /// k-diffusion's get_ancestral_step: σ_up = min(σ_next, η √(σ_next²(σ² − σ_next²)/σ²)), σ_down = √(σ_next² − σ_up²)
    /// (the DDPM posterior variance in the VE frame, Ho et al. 2020 Eq. 7, scaled by η as DDIM, Song et al. 2021 Eq. 16).
    /// </summary>
    public static (double Down, double Up) AncestralStep(double sigma, double next, double eta = 1)
    {
        if (eta == 0) return (next, 0);
        double up = Math.Min(next, eta * Math.Sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
        return (Math.Sqrt(next * next - up * up), up);
    }

    /// <summary>
    /// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Alg. 2), multistep 2nd order in the data prediction, written as
    /// k-diffusion's sample_dpmpp_2m with t = −log σ; first step and the step to σ = 0 are first order.
    /// </summary>
    public static Tensor DpmSolverPP2M(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null)
    {
        int steps = Validate(sigmas), done = 0, total = FirstOrderEvaluations(sigmas);
        using var _ = no_grad();
        x = x.clone();
        Tensor? oldDenoised = null;
        try
        {
            for (int i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                double sigma = sigmas[i], next = sigmas[i + 1];
                var denoised = Denoise(model, x, sigma);
                onStep?.Invoke(++done, total);
                if (next == 0) { Replace(ref x, denoised); continue; }      // limit h → ∞ of the update below: x ← D
                double h = Math.Log(sigma) - Math.Log(next);        // h = t_{i+1} − t_i with t = −log σ
                var dHat = denoised;
                if (oldDenoised is not null)
                {
                    double r = (Math.Log(sigmas[i - 1]) - Math.Log(sigma)) / h; // r = h_{i−1}/h_i
                    dHat = (1 + 1 / (2 * r)) * denoised - 1 / (2 * r) * oldDenoised; // Lu et al. 2022, Alg. 2: D_i = (1 + 1/2r) x̂_i − (1/2r) x̂_{i−1}
                }
                // Lu et al. 2022, Eq. 9 / Alg. 2: x_{i+1} = (σ_{i+1}/σ_i) x_i − (e^{−h} − 1) D_i
                Replace(ref x, next / sigma * x + (1 - next / sigma) * dHat); // e^{−h} = σ_{i+1}/σ_i
                oldDenoised?.Dispose();
                oldDenoised = denoised.MoveToOuterDisposeScope();
            }
        }
        finally { oldDenoised?.Dispose(); }
        return x;
    }

    /// <summary>D(x, σ) with σ broadcast over the batch (Tweedie, <see cref="ScoreModelExtensions.Denoise"/>).</summary>
    static Tensor Denoise(IScoreModel model, Tensor x, double sigma)
    {
        var s = full([x.shape[0]], sigma, dtype: x.dtype, device: x.device);
        return model.Denoise(x, s);
    }

    /// <summary>dx/dσ = (x − D(x, σ))/σ, k-diffusion's to_d (Karras et al. 2022, Eq. 3 with σ(t) = t, s(t) = 1).</summary>
    static Tensor Derivative(Tensor x, double sigma, Tensor denoised) => (x - denoised) / sigma;

    /// <summary>Keeps <paramref name="next"/> beyond the current dispose scope and disposes the previous state.</summary>
    static void Replace(ref Tensor x, Tensor next)
    {
        var kept = next.MoveToOuterDisposeScope();
        x.Dispose();
        x = kept;
    }

    /// <summary>Checks that σ is descending, finite, positive before a final 0; returns the number of steps.</summary>
    static int Validate(double[] sigmas)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        if (sigmas.Length < 2) throw new ArgumentException("need at least two σ's (σ_max … 0)", nameof(sigmas));
        if (sigmas[^1] != 0) throw new ArgumentException($"the last σ must be 0 (got {sigmas[^1]})", nameof(sigmas));
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            if (!(sigmas[i] > 0) || !double.IsFinite(sigmas[i]))
                throw new ArgumentException($"σ[{i}] must be finite and > 0 (got {sigmas[i]})", nameof(sigmas));
            if (!(sigmas[i + 1] < sigmas[i]))
                throw new ArgumentException($"σ must be strictly descending (σ[{i}] = {sigmas[i]}, σ[{i + 1}] = {sigmas[i + 1]})", nameof(sigmas));
        }
        return sigmas.Length - 1;
    }
}
