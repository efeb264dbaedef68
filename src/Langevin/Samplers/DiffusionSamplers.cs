using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// Samplers for the probability-flow ODE / reverse SDE in the unscaled (VE) σ-frame, k-diffusion style: each runs over
/// a denoiser D(x, σ) = x + σ² s(x, σ) from an <see cref="IScoreModel"/> on a descending σ array (see
/// <see cref="SamplingSigmas"/> and <see cref="SamplingPlan"/>) whose last entry is the final σ (0, or σ_min for
/// DDIM without set_alpha_to_one), returns the final x and reports network evaluations (NFE) as onStep(done, total) and
/// each step, k-diffusion's callback, as onSample(<see cref="SamplerStep"/>). The input x is not modified or disposed. Each
/// sampler reads like its paper's algorithm; the shared pieces are <see cref="Denoiser"/> (one counted network call),
/// <see cref="Loop"/> and <see cref="Multistep"/> (the step loops), <see cref="AncestralStep"/>, <c>ToD</c> and the
/// exponential-integrator step <see cref="DataPredictionStep"/>.
/// </summary>
public static class DiffusionSamplers
{
    /// <summary>NFE of Euler, Euler ancestral, DDIM, DDPM, LMS, DPM-Solver++(2M), UniPC: one per step.</summary>
    public static int FirstOrderEvaluations(double[] sigmas) => Validate(sigmas);

    /// <summary>NFE of Heun: two per step, except a last step to σ = 0 which is an Euler step.</summary>
    public static int HeunEvaluations(double[] sigmas) => 2 * Validate(sigmas) - (sigmas[^1] == 0 ? 1 : 0);

    /// <summary>
    /// Euler on the probability-flow ODE dx/dσ = (x − D(x, σ))/σ (Karras et al. 2022, Eq. 4 / Alg. 1 without the
    /// correction); in this frame it is DDIM with η = 0 (Song et al. 2021; Karras et al. 2022, §3).
    /// </summary>
    public static Tensor Euler(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null) =>
        EulerAncestral(model, x, sigmas, gen: null, eta: 0, onStep, onSample);

    /// <summary>
    /// EDM's stochastic sampler (Karras et al. 2022, Alg. 2): at each step raise σ_i to σ̂ = σ_i(1 + γ_i) by adding
    /// fresh noise (γ_i = min(S_churn/N, √2 − 1) for σ_i ∈ [S_tmin, S_tmax]), then one Heun step from σ̂ to σ_{i+1},
    /// with a plain Euler step when σ_{i+1} = 0 (Alg. 1 l. 7). With S_churn = 0 it is the deterministic Heun sampler
    /// (Alg. 1), as k-diffusion's sample_heun. A step reports x̂ and σ̂, where the model is first evaluated.
    /// </summary>
    public static Tensor Heun(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null,
        double churn = 0, double tMin = 0, double tMax = double.PositiveInfinity, double sNoise = 1, Generator? gen = null,
        Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.Churn.Check(churn);
        int steps = Validate(sigmas);
        var d = new Denoiser(model, HeunEvaluations(sigmas), onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            double sigma = sigmas[i], next = sigmas[i + 1];
            double gamma = churn > 0 && sigma >= tMin && sigma <= tMax ? Math.Min(churn / steps, Math.Sqrt(2) - 1) : 0;
            double sigmaHat = sigma * (1 + gamma);                                   // Alg. 2 l. 5
            var xHat = gamma > 0                                                      // Alg. 2 l. 6: x̂ = x + √(σ̂² − σ²) ε
                ? x + Math.Sqrt(sigmaHat * sigmaHat - sigma * sigma) * sNoise * SamplerNoise.Like(x, gen)
                : x;
            var denoised = d.AtStep(i, xHat, sigmaHat, next);
            return HeunStep(d, xHat, denoised, tensor(sigmaHat, float64), tensor(next, float64), next == 0); // Alg. 2 l. 7–11
        });
    }

    /// <summary>
    /// Deterministic Heun (Karras et al. 2022, Alg. 1) where every item follows its own σ ladder: row b of
    /// <paramref name="sigmas"/> [B, steps + 1] descends from item b's starting σ (a Markov chain's noise level in
    /// <see cref="Langevin.Dmcmc.DenoisingLangevinGibbs"/>) and all rows end together, in 0 (the last step then an Euler step) or in a
    /// positive σ. The steps are <see cref="Heun"/>'s, with σ per item.
    /// </summary>
    public static Tensor HeunFrom(IScoreModel model, Tensor x, Tensor sigmas, Action<int, int>? onStep = null)
    {
        if (sigmas.dim() != 2 || sigmas.shape[0] != x.shape[0] || sigmas.shape[1] < 2)
            throw new ArgumentException($"σ ladders must be [{x.shape[0]}, steps + 1] (got [{string.Join(", ", sigmas.shape)}])", nameof(sigmas));
        int steps = (int)sigmas.shape[1] - 1;
        bool toZero = sigmas[.., -1].eq(0).all().item<bool>();
        var d = new Denoiser(model, 2 * steps - (toZero ? 1 : 0), onStep);
        var ladder = sigmas.to(x.dtype).to(x.device);
        return Loop(x, steps, (x, i) => HeunStep(d, x, d.At(x, ladder[.., i]), ladder[.., i], ladder[.., i + 1], toZero && i == steps - 1));
    }

    /// <summary>
    /// One Heun step from σ to σ_next (Karras et al. 2022, Alg. 1 l. 4–8 / Alg. 2 l. 7–11): an Euler step, corrected by the
    /// slope at its end unless it goes to σ = 0, from <paramref name="denoised"/> = D(x, σ). σ's are 0-dim (one for the
    /// batch) or [B] (one per item).
    /// </summary>
    static Tensor HeunStep(Denoiser d, Tensor x, Tensor denoised, Tensor sigma, Tensor next, bool toZero)
    {
        var h = (next - sigma).Broadcast(x);
        var di = ToD(x, sigma, denoised);                                           // d_i = (x − D(x, σ))/σ
        var euler = x + h * di;                                                      // Euler step
        if (toZero) return euler;                                                    // no correction at σ = 0
        var d2 = ToD(euler, next, d.At(euler, next));
        return x + h * 0.5 * (di + d2);                                              // trapezoidal correction
    }

    /// <summary>
    /// Euler ancestral (k-diffusion's sample_euler_ancestral): an Euler step down to σ_down followed by fresh noise of
    /// level σ_up, so that σ_down² + σ_up² = σ_{i+1}²; η = 1 is DDPM-like ancestral sampling, η = 0 is <see cref="Euler"/>.
    /// </summary>
    public static Tensor EulerAncestral(IScoreModel model, Tensor x, double[] sigmas, Generator? gen, double eta = 1,
        Action<int, int>? onStep = null, Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.AncestralEta.Check(eta);
        int steps = Validate(sigmas);
        var d = new Denoiser(model, steps, onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            var (down, up) = AncestralStep(sigmas[i], sigmas[i + 1], eta);
            var next = x + (down - sigmas[i]) * ToD(x, sigmas[i], d.AtStep(i, x, sigmas[i], sigmas[i + 1])); // Euler step to σ_down
            return AddNoise(next, up, gen);                                                 // re-noise to σ_{i+1}
        });
    }

    /// <summary>
    /// DDIM (Song et al. 2021, Eq. 12) divided by √ᾱ_{t−1} into the σ-frame: x_{t−1} = x̂₀ + √(σ_{t−1}² − σ_up²) ε̂ + σ_up z
    /// with ε̂ = (x − D)/σ_t and σ_up = η σ_{t−1}√(σ_t² − σ_{t−1}²)/σ_t (Eq. 16). η = 0 is <see cref="Euler"/>; η = 1 is
    /// DDPM's posterior. <paramref name="clipDenoised"/> clamps x̂₀ to [−1, 1] while ε̂ stays the network's, as diffusers'
    /// DDIMScheduler (clip_sample). <paramref name="carry"/>[i] rescales x after step i when the step's target
    /// (diffusers' t − T/N, <paramref name="targets"/>[i]) is not the next evaluated timestep (see <see cref="SamplingPlan.Carry"/>);
    /// a step reports that target as its next σ.
    /// </summary>
    public static Tensor Ddim(IScoreModel model, Tensor x, double[] sigmas, double eta = 0, Generator? gen = null,
        bool clipDenoised = false, double[]? targets = null, double[]? carry = null, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.DdimEta.Check(eta);
        int steps = Validate(sigmas);
        var d = new Denoiser(model, steps, onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            double sigma = sigmas[i], prev = targets?[i] ?? sigmas[i + 1];
            var denoised = d.AtStep(i, x, sigma, prev);
            var eps = (x - denoised) / sigma;                                         // ε̂ = (x_t − √ᾱ x̂₀)/√(1−ᾱ) in the σ-frame
            var x0 = clipDenoised ? denoised.clamp(-1, 1) : denoised;
            var (down, up) = AncestralStep(sigma, prev, eta);
            return AddNoise(x0 + down * eps, up, gen) * (carry?[i] ?? 1);
        });
    }

    /// <summary>
    /// DDPM ancestral sampling (Ho et al. 2020, Alg. 2) over possibly strided timesteps, in the σ-frame: the posterior
    /// q(x_{t−1} | x_t, x̂₀) has mean x̂₀ + (σ_{t−1}²/σ_t²)(x_t − x̂₀) (Eq. 7 divided by √ᾱ_{t−1}) and the variance of
    /// <paramref name="variance"/> (<see cref="DdpmVariances"/>: β̃_t, β_t, or improved DDPM's learned interpolation between
    /// them, which needs an <see cref="IVarianceModel"/>); no noise on the last step unless <paramref name="noiseLastStep"/>
    /// (diffusers adds noise whenever t &gt; 0, so a last timestep above 0 is noised too). With <paramref name="clipDenoised"/>
    /// the mean uses the clamped x̂₀, as diffusers' DDPMScheduler. A step reports the model's x̂₀ before clamping
    /// (progressive generation, Ho et al. 2020, Fig. 6, reads it there).
    /// </summary>
    public static Tensor Ddpm(IScoreModel model, Tensor x, double[] sigmas, Generator? gen, DdpmVariance variance = DdpmVariance.FixedSmall,
        bool clipDenoised = false, bool noiseLastStep = false, Action<int, int>? onStep = null, Action<SamplerStep>? onSample = null)
    {
        int steps = Validate(sigmas);
        var d = new Denoiser(model, steps, onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            double sigma = sigmas[i], prev = sigmas[i + 1];
            var (x0, v) = variance == DdpmVariance.Learned ? d.WithVariance(x, sigma) : (d.At(x, sigma), (Tensor?)null);
            d.Report(i, x, sigma, prev, x0);
            if (clipDenoised) x0 = x0.clamp(-1, 1);
            var mean = x0 + prev * prev / (sigma * sigma) * (x - x0);               // Ho et al. 2020, Eq. 7
            if (i == steps - 1 && !noiseLastStep) return mean;
            var (small, large) = DdpmVariances(sigma, prev);
            return variance switch
            {
                DdpmVariance.FixedLarge => AddNoise(mean, Math.Sqrt(large), gen),
                // Σ = exp(v log β_t + (1 − v) log β̃_t) (Nichol & Dhariwal 2021, Eq. 15); β̃ = 0 at ᾱ_prev = 1 floored at 1e-20 as diffusers
                DdpmVariance.Learned => mean + (0.5 * (v! * Math.Log(large) + (1 - v!) * Math.Log(Math.Max(small, 1e-20)))).exp()
                    * SamplerNoise.Like(x, gen),
                _ => AddNoise(mean, Math.Sqrt(small), gen),
            };
        });
    }

    /// <summary>
    /// The two fixed reverse variances of a DDPM step from σ to σ_prev in the σ-frame (Ho et al. 2020, §3.2), for strided
    /// steps with the β's of the subsequence, β = 1 − ᾱ_t/ᾱ_prev (Nichol &amp; Dhariwal 2021, §4): β̃ = σ_up² =
    /// σ_prev²(σ² − σ_prev²)/σ² (<c>fixed-small</c>, <see cref="AncestralStep"/> with η = 1) and β/ᾱ_prev =
    /// (σ² − σ_prev²)(1 + σ_prev²)/(1 + σ²) (<c>fixed-large</c>); both are the VP-frame variances divided by ᾱ_prev.
    /// </summary>
    public static (double Small, double Large) DdpmVariances(double sigma, double prev)
    {
        double up = AncestralStep(sigma, prev, 1).Up;
        return (up * up, (sigma * sigma - prev * prev) * (1 + prev * prev) / (1 + sigma * sigma));
    }

    /// <summary>
    /// k-diffusion's get_ancestral_step: σ_up = min(σ_next, η √(σ_next²(σ² − σ_next²)/σ²)), σ_down = √(σ_next² − σ_up²)
    /// (the DDPM posterior variance in the VE frame, Ho et al. 2020 Eq. 7, scaled by η as DDIM, Song et al. 2021 Eq. 16).
    /// </summary>
    public static (double Down, double Up) AncestralStep(double sigma, double next, double eta = 1)
    {
        if (eta == 0 || next == 0) return (next, 0);
        double up = Math.Min(next, eta * Math.Sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma)));
        return (Math.Sqrt(next * next - up * up), up);
    }

    /// <summary>
    /// Linear multistep of order <paramref name="order"/> (k-diffusion's sample_lms, diffusers' LMSDiscreteScheduler):
    /// x_{i+1} = x_i + Σ_j c_{ij} d_{i−j}, the c_{ij} being the integrals over [σ_i, σ_{i+1}] of the Lagrange basis
    /// polynomials through the last ≤ order σ's (Adams–Bashforth on a non-uniform grid).
    /// </summary>
    public static Tensor Lms(IScoreModel model, Tensor x, double[] sigmas, int order = 4, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.LmsOrder.Check(order);
        int steps = Validate(sigmas);
        return Multistep(new Denoiser(model, steps, onStep, onSample), x, sigmas, order, (i, x, denoised, history) =>
        {
            history.Remember(ToD(x, sigmas[i], denoised));                          // d_i
            var next = x;
            for (int j = 0; j < history.Count; j++)                                 // x + Σ_j c_ij d_{i−j}
                next = next + LmsCoefficient(sigmas, i, j, history.Count) * history.Back(j);
            return next;
        });
    }

    /// <summary>∫_{σ_i}^{σ_{i+1}} Π_{k≠j} (τ − σ_{i−k})/(σ_{i−j} − σ_{i−k}) dτ over k &lt; order (k-diffusion linear_multistep_coeff), exactly.</summary>
    public static double LmsCoefficient(double[] sigmas, int i, int j, int order)
    {
        var poly = new List<double> { 1 };                 // coefficients, lowest degree first
        for (int k = 0; k < order; k++)
        {
            if (k == j) continue;
            double root = sigmas[i - k], scale = sigmas[i - j] - sigmas[i - k];
            var next = new double[poly.Count + 1];
            for (int p = 0; p < poly.Count; p++) { next[p + 1] += poly[p] / scale; next[p] -= poly[p] * root / scale; }
            poly = [.. next];
        }
        double Antiderivative(double t) { double s = 0, tp = t; for (int p = 0; p < poly.Count; p++, tp *= t) s += poly[p] * tp / (p + 1); return s; }
        return Antiderivative(sigmas[i + 1]) - Antiderivative(sigmas[i]);
    }

    /// <summary>
    /// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Alg. 2), multistep 2nd order in the data prediction, with
    /// λ = −log σ; the first step and a step to σ = 0 are first order (diffusers' lower_order_final with a zero final σ).
    /// </summary>
    public static Tensor DpmSolverPP2M(IScoreModel model, Tensor x, double[] sigmas, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null)
    {
        int steps = Validate(sigmas);
        return Multistep(new Denoiser(model, steps, onStep, onSample), x, sigmas, 1, (i, x, denoised, history) =>
        {
            double sigma = sigmas[i], next = sigmas[i + 1];
            var dHat = denoised;
            if (history.Count > 0 && next > 0)
            {
                double r = Lambda(sigma, sigmas[i - 1]) / Lambda(next, sigma);      // r = h_{i−1}/h_i
                dHat = (1 + 1 / (2 * r)) * denoised - 1 / (2 * r) * history.Back(0); // Alg. 2: D = (1 + 1/2r) x̂_i − (1/2r) x̂_{i−1}
            }
            var stepped = DataPredictionStep(x, sigma, next, dHat);
            history.Remember(denoised);
            return stepped;
        });
    }

    /// <summary>
    /// UniPC (Zhao et al. 2023) with the B(h) = e^h − 1 variant ("bh2"), data prediction, as diffusers'
    /// UniPCMultistepScheduler: at each step the corrector UniC (Alg. 2) refines the previous predictor's output using the
    /// model output at it (no extra evaluation), then the predictor UniP-p (Alg. 1) steps on; orders warm up from 1 and the
    /// last step is first order (lower_order_final).
    /// </summary>
    public static Tensor UniPc(IScoreModel model, Tensor x, double[] sigmas, int order = 2, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.UniPcOrder.Check(order);
        int steps = Validate(sigmas);
        int OrderAt(int i) => Math.Min(Math.Min(order, steps - i), i + 1);           // lower_order_final and warm-up
        return Multistep(new Denoiser(model, steps, onStep, onSample), x, sigmas, order, (i, x, m, history) =>
        {
            if (i > 0)                                                               // UniC: corrector from the last sample
                x = UniStep(history.Carried!, history, sigmas, i - 1, OrderAt(i - 1), corrector: m);
            history.Remember(m);                                                     // x̂₀ at the last ≤ order steps
            history.Carry(x.clone());
            return UniStep(x, history, sigmas, i, OrderAt(i), corrector: null);     // UniP: predictor
        });
    }

    /// <summary>
    /// One UniPC update from σ_s = sigmas[<paramref name="i"/>] to σ_t = sigmas[i + 1] (Zhao et al. 2023, Alg. 1–2 in
    /// data prediction, B(h) = e^h − 1): x_t = (σ_t/σ_s) x − (e^{−h} − 1) m₀ − B(h) Σ_k ρ_k D_k with D_k = (m_k − m₀)/r_k,
    /// r_k = (λ_{s_k} − λ_s)/h, the ρ's solving Σ_k ρ_k r_k^{p−1} = φ_p-terms (Eq. 8); the corrector adds the new model
    /// output at σ_t (r = 1). <paramref name="outputs"/> holds m₀ = x̂₀ at σ_s as its newest.
    /// </summary>
    static Tensor UniStep(Tensor x, MultistepHistory outputs, double[] sigmas, int i, int order, Tensor? corrector)
    {
        double sigmaS = sigmas[i], sigmaT = sigmas[i + 1];
        var m0 = outputs.Back(0);
        if (sigmaT == 0) return m0.clone();               // h → ∞: x_t = x̂₀ (order 1 by lower_order_final)
        double h = Lambda(sigmaT, sigmaS), hh = -h;      // data prediction uses hh = −h
        double hPhi1 = Math.Exp(hh) - 1, bh = hPhi1;      // h φ₁ = e^{hh} − 1; bh2: B(h) = e^{hh} − 1
        var rks = new List<double>();
        var differences = new List<Tensor>();
        for (int k = 1; k < order; k++)
        {
            double rk = Lambda(sigmas[i - k], sigmaS) / h;            // (λ_{s−k} − λ_s)/h ≤ 0 … as diffusers: (λ_si − λ_s0)/h
            rks.Add(rk);
            differences.Add((outputs.Back(k) - m0) / rk);
        }
        rks.Add(1);
        int n = corrector is null ? order - 1 : order;    // unknowns: predictor uses the first order − 1 terms
        var b = new double[order];
        double hPhiK = hPhi1 / hh - 1, factorial = 1;
        for (int p = 1; p <= order; p++)
        {
            b[p - 1] = hPhiK * factorial / bh;
            factorial *= p + 1;
            hPhiK = hPhiK / hh - 1 / factorial;
        }
        double[] rhos = n == 0 ? [] : (corrector is null && order == 2) || (corrector is not null && order == 1)
            ? [0.5]                                        // diffusers' simplified choice for these orders
            : SolveVandermonde(rks.Take(n).ToArray(), b.Take(n).ToArray());
        var result = sigmaT / sigmaS * x - hPhi1 * m0;
        for (int k = 0; k < differences.Count && k < rhos.Length; k++)
            result = result - bh * rhos[k] * differences[k];
        if (corrector is not null) result = result - bh * rhos[^1] * (corrector - m0);
        return result;
    }

    /// <summary>Solves Σ_k a_k r_k^{p} = b_p for p = 0..n−1 (the R ρ = b systems of UniPC, Eq. 8) by Gaussian elimination.</summary>
    static double[] SolveVandermonde(double[] r, double[] b)
    {
        int n = r.Length;
        var a = new double[n, n + 1];
        for (int p = 0; p < n; p++) { for (int k = 0; k < n; k++) a[p, k] = Math.Pow(r[k], p); a[p, n] = b[p]; }
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int rr = c + 1; rr < n; rr++) if (Math.Abs(a[rr, c]) > Math.Abs(a[pivot, c])) pivot = rr;
            for (int k = 0; k <= n; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
            for (int rr = 0; rr < n; rr++)
            {
                if (rr == c) continue;
                double f = a[rr, c] / a[c, c];
                for (int k = c; k <= n; k++) a[rr, k] -= f * a[c, k];
            }
        }
        return Enumerable.Range(0, n).Select(k => a[k, n] / a[k, k]).ToArray();
    }

    /// <summary>
    /// Euler–Maruyama on the reverse-time SDE of the σ-frame process dx = √(2σ) dW in σ (Song et al. 2021, Eq. 6 with
    /// f = 0, g² = dσ²/dσ = 2σ): x_{i+1} = x_i + 2σ_i(σ_i − σ_{i+1}) s(x_i, σ_i) + √(2σ_i(σ_i − σ_{i+1})) z; the step to
    /// σ = 0 is the noise-free denoising step x ← D(x, σ_N) (score_sde's final denoise).
    /// </summary>
    public static Tensor EulerMaruyama(IScoreModel model, Tensor x, double[] sigmas, Generator? gen, Action<int, int>? onStep = null,
        Action<SamplerStep>? onSample = null)
    {
        int steps = Validate(sigmas);
        var d = new Denoiser(model, steps, onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            double sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = d.AtStep(i, x, sigma, next);
            if (next == 0) return denoised;
            double dt = sigma - next;
            var score = (denoised - x) / (sigma * sigma);                           // s = (D − x)/σ²
            return AddNoise(x + 2 * sigma * dt * score, Math.Sqrt(2 * sigma * dt), gen);
        });
    }

    /// <summary>
    /// The probability-flow ODE (Song et al. 2021, Eq. 13) solved adaptively with <see cref="DormandPrince"/> from σ_max =
    /// sigmas[0] to the smallest positive σ of <paramref name="sigmas"/>, in u = ln σ where it reads dx/du = x − D(x, e^u)
    /// (Karras et al. 2022, Eq. 4 with σ(t) = t); then, if the σ's end in 0, the denoising step x ← D(x, σ_min).
    /// Only the ends of <paramref name="sigmas"/> matter; the NFE is decided by the tolerances and reported as it goes. The
    /// steps reported are the solver's accepted steps (D = x − dx/du at their start), then the denoising step.
    /// </summary>
    public static Tensor ProbabilityFlowRk45(IScoreModel model, Tensor x, double[] sigmas, double rtol = 1e-5, double atol = 1e-5,
        Action<int, int>? onStep = null, Action<SamplerStep>? onSample = null)
    {
        Validate(sigmas);
        double sigmaMin = sigmas[^1] > 0 ? sigmas[^1] : sigmas[^2];
        var d = new Denoiser(model, 0, onStep, onSample);
        using var _ = no_grad();
        int accepted = 0;
        var (y, _) = DormandPrince.Solve((u, xu) => xu - d.At(xu, Math.Exp(u)), x, Math.Log(sigmas[0]), Math.Log(sigmaMin), rtol, atol,
            onAccepted: onSample is null ? null : (u, next, xu, slope) => d.Report(accepted++, xu, Math.Exp(u), Math.Exp(next), xu - slope));
        if (sigmas[^1] == 0)
        {
            using var scope = NewDisposeScope();
            Replace(ref y, d.AtStep(accepted, y, sigmaMin, 0));
        }
        return y;
    }

    /// <summary>NFE of <see cref="PredictorCorrector"/>: per level the corrector steps and one predictor step.</summary>
    public static int PredictorCorrectorEvaluations(double[] sigmas, int correctorSteps) =>
        Validate(sigmas) * (1 + correctorSteps) - (sigmas[^1] == 0 ? correctorSteps : 0);

    /// <summary>
    /// Predictor–corrector sampling (Song et al. 2021, Alg. 2–3, score_sde's pc_sampler): at each σ_i, <paramref name="correctorSteps"/>
    /// Langevin corrector steps with step ε = 2 (r ‖z‖/‖s‖)² from the signal-to-noise ratio r (Alg. 4), then the reverse
    /// diffusion predictor x ← x + (σ_i² − σ_{i+1}²) s + √(σ_i² − σ_{i+1}²) z (Eq. 47); the step to σ = 0 is the denoising
    /// step x ← D(x, σ_N).
    /// </summary>
    public static Tensor PredictorCorrector(IScoreModel model, Tensor x, double[] sigmas, Generator? gen, double snr = 0.16,
        int correctorSteps = 1, Action<int, int>? onStep = null, Action<SamplerStep>? onSample = null)
    {
        SamplerOptions.Snr.Check(snr);
        SamplerOptions.CorrectorSteps.Check(correctorSteps);
        int steps = Validate(sigmas);
        var d = new Denoiser(model, PredictorCorrectorEvaluations(sigmas, correctorSteps), onStep, onSample);
        return Loop(x, steps, (x, i) =>
        {
            double sigma = sigmas[i], next = sigmas[i + 1];
            if (next == 0) return d.AtStep(i, x, sigma, next);
            for (int c = 0; c < correctorSteps; c++)
            {
                var score = ((c == 0 ? d.AtStep(i, x, sigma, next) : d.At(x, sigma)) - x) / (sigma * sigma);
                var z = SamplerNoise.Like(x, gen);
                double eps = 2 * Math.Pow(snr * MeanNorm(z) / MeanNorm(score), 2);      // Alg. 4: ε = 2α (r ‖z‖/‖s‖)², α = 1
                x = x + eps * score + Math.Sqrt(2 * eps) * z;
            }
            var s = ((correctorSteps == 0 ? d.AtStep(i, x, sigma, next) : d.At(x, sigma)) - x) / (sigma * sigma);
            double g2 = sigma * sigma - next * next;
            return AddNoise(x + g2 * s, Math.Sqrt(g2), gen);                              // reverse diffusion predictor
        });
    }

    /// <summary>Mean over the batch of the per-sample L2 norms (score_sde's LangevinCorrector).</summary>
    static double MeanNorm(Tensor t) => t.reshape(t.shape[0], -1).square().sum([1]).sqrt().mean().to(float64).item<double>();

    /// <summary>
    /// The exponential-integrator step in the data prediction with λ = −log σ (Lu et al. 2022, DPM-Solver++ Eq. 9 in the
    /// σ-frame): x_next = (σ_next/σ) x − (e^{−h} − 1) D = (σ_next/σ) x + (1 − σ_next/σ) D; at σ_next = 0 it is D.
    /// </summary>
    public static Tensor DataPredictionStep(Tensor x, double sigma, double next, Tensor denoised) =>
        next == 0 ? denoised.clone() : next / sigma * x + (1 - next / sigma) * denoised;

    /// <summary>λ_b − λ_a with λ = −log σ (the half-log-SNR of the VP frame, Lu et al. 2022).</summary>
    static double Lambda(double b, double a) => Math.Log(a) - Math.Log(b);

    /// <summary>dx/dσ = (x − D(x, σ))/σ, k-diffusion's to_d (Karras et al. 2022, Eq. 3 with σ(t) = t, s(t) = 1).</summary>
    public static Tensor ToD(Tensor x, double sigma, Tensor denoised) => (x - denoised) / sigma;

    /// <summary><see cref="ToD(Tensor, double, Tensor)"/> with σ 0-dim or one per item ([B]).</summary>
    public static Tensor ToD(Tensor x, Tensor sigma, Tensor denoised) => (x - denoised) / sigma.Broadcast(x);

    static Tensor AddNoise(Tensor x, double std, Generator? gen) =>
        std > 0 ? x + std * SamplerNoise.Like(x, gen) : x;

    /// <summary>
    /// The loop the one-state samplers share (here and in <see cref="Langevin.Cld.CldSamplers"/>): a copy of x, no_grad, and per step
    /// a dispose scope in which <paramref name="step"/>(x, i) computes the next state, which then replaces x;
    /// <paramref name="after"/>(x, i) sees it (progress, trajectory frames).
    /// </summary>
    internal static Tensor Loop(Tensor x, int steps, Func<Tensor, int, Tensor> step, Action<Tensor, int>? after = null)
    {
        using var _ = no_grad();
        x = x.clone();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            var next = step(x, i);
            if (!ReferenceEquals(next, x)) Replace(ref x, next);
            after?.Invoke(x, i);
        }
        return x;
    }

    /// <summary>
    /// The loop the multistep samplers share (LMS, DPM-Solver++(2M), UniPC; diffusers' model_outputs list): <see cref="Loop"/>
    /// with one evaluation D(x_i, σ_i) per step, reported as the step, and a <see cref="MultistepHistory"/> of what the
    /// sampler remembers from the last <paramref name="keep"/> steps; <paramref name="update"/>(i, x_i, D, history) is the
    /// sampler's own step and returns x_{i+1}.
    /// </summary>
    internal static Tensor Multistep(Denoiser d, Tensor x, double[] sigmas, int keep, Func<int, Tensor, Tensor, MultistepHistory, Tensor> update)
    {
        using var history = new MultistepHistory(keep);
        return Loop(x, sigmas.Length - 1, (x, i) => update(i, x, d.AtStep(i, x, sigmas[i], sigmas[i + 1]), history));
    }

    /// <summary>Keeps <paramref name="next"/> beyond the current dispose scope and disposes the previous state.</summary>
    internal static void Replace(ref Tensor x, Tensor next)
    {
        var kept = next.MoveToOuterDisposeScope();
        x.Dispose();
        x = kept;
    }

    /// <summary>Checks that σ is strictly descending, finite, positive before a final σ ≥ 0 (which may equal the one before); returns the number of steps.</summary>
    internal static int Validate(double[] sigmas)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        if (sigmas.Length < 2) throw new ArgumentException("need at least two σ's (σ_max … σ_final)", nameof(sigmas));
        if (!(sigmas[^1] >= 0)) throw new ArgumentException($"the last σ must be ≥ 0 (got {sigmas[^1]})", nameof(sigmas));
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            if (!(sigmas[i] > 0) || !double.IsFinite(sigmas[i]))
                throw new ArgumentException($"σ[{i}] must be finite and > 0 (got {sigmas[i]})", nameof(sigmas));
            bool final = i == sigmas.Length - 2;   // DDIM without set_alpha_to_one may end where it is (ᾱ_0 → ᾱ_0)
            if (!(sigmas[i + 1] < sigmas[i] || final && sigmas[i + 1] == sigmas[i]))
                throw new ArgumentException($"σ must be strictly descending (σ[{i}] = {sigmas[i]}, σ[{i + 1}] = {sigmas[i + 1]})", nameof(sigmas));
        }
        return sigmas.Length - 1;
    }

    /// <summary>
    /// One network evaluation D(x, σ) with σ broadcast over the batch (Tweedie), counted and reported as progress; a step's
    /// first evaluation (<see cref="AtStep"/>) is also reported as the step, to <paramref name="onSample"/>.
    /// </summary>
    internal sealed class Denoiser(IScoreModel model, int total, Action<int, int>? onStep, Action<SamplerStep>? onSample = null)
    {
        public int Count { get; private set; }

        /// <summary>D(x, σ) at the start of step <paramref name="index"/> (from σ to <paramref name="next"/>), reported as the step.</summary>
        public Tensor AtStep(int index, Tensor x, double sigma, double next)
        {
            var denoised = At(x, sigma);
            Report(index, x, sigma, next, denoised);
            return denoised;
        }

        /// <summary>Reports step <paramref name="index"/>: the model gave <paramref name="denoised"/> = D(x, σ).</summary>
        public void Report(int index, Tensor x, double sigma, double next, Tensor denoised) =>
            onSample?.Invoke(new SamplerStep(index, sigma, next, x, denoised));

        /// <summary>σ 0-dim (one for the batch, as a double) or [B] (one per item).</summary>
        public Tensor At(Tensor x, Tensor sigma)
        {
            if (sigma.dim() == 0) return At(x, sigma.to(float64).item<double>());
            var d = model.Denoise(x, sigma.to(x.dtype));
            onStep?.Invoke(++Count, Math.Max(total, Count));
            return d;
        }

        public Tensor At(Tensor x, double sigma)
        {
            var s = full([x.shape[0]], sigma, dtype: x.dtype, device: x.device);
            var d = model.Denoise(x, s);
            onStep?.Invoke(++Count, Math.Max(total, Count));
            return d;
        }

        /// <summary>D(x, σ) and improved DDPM's variance interpolation v from one counted evaluation of an <see cref="IVarianceModel"/>.</summary>
        public (Tensor Denoised, Tensor V) WithVariance(Tensor x, double sigma)
        {
            if (model is not IVarianceModel learned)
                throw LearnedVarianceModel.Missing("variance");
            var result = learned.DenoiseWithVariance(x, full([x.shape[0]], sigma, dtype: x.dtype, device: x.device));
            onStep?.Invoke(++Count, Math.Max(total, Count));
            return result;
        }
    }
}

/// <summary>DDPM's reverse-process variance: β̃_t (fixed-small), β_t (fixed-large) or learned (Nichol &amp; Dhariwal 2021, Eq. 15).</summary>
public enum DdpmVariance { FixedSmall, FixedLarge, Learned }

/// <summary>
/// One step of a sampler, as k-diffusion's callback sees it ({i, sigma, x, denoised}): step <see cref="Index"/> goes from
/// <see cref="Sigma"/> to <see cref="NextSigma"/>, and the model gave <see cref="Denoised"/> = D(<see cref="X"/>, σ) at its
/// start. The tensors live until the step ends (copy what you keep); progress pictures, trajectories and guidance read them.
/// </summary>
public sealed record SamplerStep(int Index, double Sigma, double NextSigma, Tensor X, Tensor Denoised);

/// <summary>
/// What a multistep sampler remembers across steps (<see cref="DiffusionSamplers.Multistep"/>): its last values, newest
/// last (x̂₀'s or derivatives, at most the capacity), and one carried tensor (UniPC's last corrected sample). Both live
/// beyond the step's dispose scope and are disposed when replaced, evicted or at the end.
/// </summary>
internal sealed class MultistepHistory(int capacity) : IDisposable
{
    readonly List<Tensor> _values = [];

    public int Count => _values.Count;

    /// <summary>The value remembered <paramref name="k"/> steps back (0: the newest).</summary>
    public Tensor Back(int k) => _values[^(k + 1)];

    public Tensor? Carried { get; private set; }

    public void Remember(Tensor value)
    {
        _values.Add(value.MoveToOuterDisposeScope());
        if (_values.Count > capacity) { _values[0].Dispose(); _values.RemoveAt(0); }
    }

    public void Carry(Tensor value)
    {
        var kept = value.MoveToOuterDisposeScope();
        Carried?.Dispose();
        Carried = kept;
    }

    public void Dispose()
    {
        foreach (var v in _values) v.Dispose();
        _values.Clear();
        Carried?.Dispose();
    }
}
