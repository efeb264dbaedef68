using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// What a denoiser does beyond sampling: DDIM inversion (data → latent), spherical interpolation of latents,
/// progressive generation (x̂₀ along a DDPM chain) and inpainting by replacement — all in the σ-frame over a plan's σ's, reusing the samplers' steps.
/// </summary>
public static class DiffusionTasks
{
    /// <summary>
    /// DDIM inversion (Song et al. 2021, §4.3; Dhariwal &amp; Nichol 2021, App. F): Euler on the probability-flow ODE run
    /// upwards, x_{i+1} = x_i + (σ_{i+1} − σ_i)(x_i − D(x_i, σ_i))/σ_i, from the data at the smallest positive σ of
    /// <paramref name="sigmas"/> (a descending plan, as the samplers take it) to σ_max; returns the unit-noise latent
    /// x(σ_max)/<paramref name="initialScale"/>, which <see cref="DiffusionSamplers.Euler"/> maps back.
    /// </summary>
    public static Tensor Invert(IScoreModel model, Tensor x0, double[] sigmas, double initialScale, Action<int, int>? onStep = null)
    {
        var up = sigmas.Where(s => s > 0).Reverse().ToArray();   // ascending positive σ's
        var d = new DiffusionSamplers.Denoiser(model, up.Length - 1, onStep);
        using var _ = no_grad();
        var x = x0.clone();
        for (int i = 0; i < up.Length - 1; i++)
        {
            using var scope = NewDisposeScope();
            DiffusionSamplers.Replace(ref x, x + (up[i + 1] - up[i]) * DiffusionSamplers.ToD(x, up[i], d.At(x, up[i])));
        }
        using (x) return x / initialScale;
    }

    /// <summary>
    /// Spherical linear interpolation of two latents (Shoemake 1985; as DDIM §5.3 interpolates x_T): slerp(z₀, z₁; t) =
    /// sin((1−t)θ)/sin θ · z₀ + sin(tθ)/sin θ · z₁, θ the angle between them (per item), for each t of <paramref name="ts"/>.
    /// Returns [T·B, …] ordered by t, then item.
    /// </summary>
    public static Tensor Slerp(Tensor z0, Tensor z1, IReadOnlyList<double> ts)
    {
        using var scope = NewDisposeScope();
        long b = z0.shape[0];
        var a = z0.reshape(b, -1);
        var c = z1.reshape(b, -1);
        var cos = (a * c).sum(1) / ((a * a).sum(1).sqrt() * (c * c).sum(1).sqrt());
        var theta = cos.clamp(-1, 1).acos().unsqueeze(1);
        var sin = theta.sin();
        var frames = ts.Select(t =>
        {
            var linear = (1 - t) * a + t * c;                            // θ → 0: slerp → lerp
            var spherical = ((1 - t) * theta).sin() / sin * a + (t * theta).sin() / sin * c;
            return where(sin.abs() < 1e-6, linear, spherical);
        }).ToArray();
        return cat(frames, 0).reshape([ts.Count * b, .. z0.shape.Skip(1)]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Progressive generation (Ho et al. 2020, §4.3, Fig. 6): DDPM ancestral sampling (<see cref="DiffusionSamplers.Ddpm"/>)
    /// that keeps the prediction x̂₀ of step i for each i in <paramref name="keepSteps"/>; returns the final sample and those
    /// x̂₀'s in the order of the steps (the caller disposes them).
    /// </summary>
    public static (Tensor Sample, Tensor[] Predictions) ProgressiveGeneration(IScoreModel model, Tensor x, double[] sigmas, Generator? gen,
        DdpmVariance variance, IReadOnlyCollection<int> keepSteps, Action<int, int>? onStep = null)
    {
        var kept = new List<Tensor>();
        void Keep(SamplerStep s) { if (keepSteps.Contains(s.Index)) kept.Add(s.Denoised.detach().clone().DetachFromDisposeScope()); }
        try
        {
            var sample = DiffusionSamplers.Ddpm(model, x, sigmas, gen, variance, onStep: onStep, onSample: Keep);
            return (sample, [.. kept]);
        }
        catch
        {
            foreach (var k in kept) k.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Inpainting by replacement (Song et al. 2021, App. I.2; Lugmayr et al. 2022 without resampling): ancestral steps
    /// (<see cref="DiffusionSamplers.AncestralStep"/>, η = 1) on the unknown part, and after every step the known part
    /// (<paramref name="mask"/> = 1) replaced by the observation noised to the new σ; the last step to 0 keeps it exactly.
    /// </summary>
    public static Tensor Inpaint(IScoreModel model, Tensor observed, Tensor mask, Tensor init, double[] sigmas, Generator? gen,
        Action<int, int>? onStep = null)
    {
        int steps = DiffusionSamplers.Validate(sigmas);
        var d = new DiffusionSamplers.Denoiser(model, steps, onStep);
        using var _ = no_grad();
        var keep = mask.to(observed.dtype);
        var x = (init * (1 - keep) + (observed + sigmas[0] * randn(observed.shape, generator: gen, dtype: observed.dtype, device: observed.device)) * keep)
            .DetachFromDisposeScope();
        for (int i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            double sigma = sigmas[i], next = sigmas[i + 1];
            var (down, upStd) = DiffusionSamplers.AncestralStep(sigma, next, 1);
            var stepped = x + (down - sigma) * DiffusionSamplers.ToD(x, sigma, d.At(x, sigma));
            if (upStd > 0) stepped = stepped + upStd * randn(x.shape, generator: gen, dtype: x.dtype, device: x.device);
            var known = next > 0 ? observed + next * randn(observed.shape, generator: gen, dtype: observed.dtype, device: observed.device) : observed;
            DiffusionSamplers.Replace(ref x, stepped * (1 - keep) + known * keep);
        }
        return x;
    }
}
