using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>An energy E: [B, ...] → [B] (low on data). Sums of energies are products of their densities (§3 of IGEBM).</summary>
public delegate Tensor EnergyFunction(Tensor x);

/// <summary>SGLD over an energy: x ← x − α clip(∇E(x), c) + σ z (Du &amp; Mordatch 2019, Eq. 4 and §3.3).</summary>
/// <param name="StepSize">α, the step on −∇E.</param>
/// <param name="Noise">σ, the standard deviation of the noise added per step; the chain's stationary law is ∝ exp(−2αE/σ²).</param>
/// <param name="GradClip">Elementwise clip c of ∇E (0: none).</param>
/// <param name="Box">If given, every state is clamped to [Low, High] after its step (images in [−1, 1], as Lippe's tutorial 8).</param>
/// <param name="FinalStepSize">If given, α decays geometrically from StepSize at the first step to this at the last: SGLD's
/// decreasing step sizes (Welling &amp; Teh 2011), here to let a chain that oscillates by ±α·clip settle; σ stays fixed.</param>
public sealed record SgldSettings(double StepSize, double Noise, double GradClip, (double Low, double High)? Box = null,
    double? FinalStepSize = null)
{
    /// <summary>α at step k (0-based) of a K-step chain.</summary>
    public double StepSizeAt(int k, int steps) => FinalStepSize is { } end && steps > 1
        ? StepSize * Math.Pow(end / StepSize, (double)k / (steps - 1))
        : StepSize;

    /// <summary>Unadjusted Langevin at temperature 1 for step ε: α = ε²/2, σ = ε, no clip (targets exp(−E)).</summary>
    public static SgldSettings Langevin(double epsilon) => new(epsilon * epsilon / 2, epsilon, 0);
}

/// <summary>The samplers that follow −∇E: SGLD (IGEBM) and PGD (adversarially trained EBMs), plus the shared gradient.</summary>
public static class EnergySamplers
{
    /// <summary>∇ₓ Σ_b E(x_b) by autograd (rows independent, so the per-row gradient); weights' gradients are untouched.</summary>
    public static Tensor Gradient(EnergyFunction energy, Tensor x)
    {
        var (e, g) = ValueAndGradient(energy, x);
        e.Dispose();
        return g;
    }

    /// <summary>E(x) [B] and ∇ₓE(x) [B, ...] from one forward and one backward pass (what a Metropolis-adjusted step needs).</summary>
    public static (Tensor Energy, Tensor Gradient) ValueAndGradient(EnergyFunction energy, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var xg = x.detach().requires_grad_(true);
        var e = energy(xg);
        var g = autograd.grad([e.sum()], [xg])[0];
        return (e.detach().MoveToOuterDisposeScope(), g.detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// K steps of SGLD, x ← x − α clip(∇E(x), c) + σ z (Du &amp; Mordatch 2019, Eq. 4). <paramref name="project"/>, if given, is
    /// applied after every step (e.g. to put known pixels back when inpainting).
    /// </summary>
    public static Tensor Sgld(EnergyFunction energy, Tensor x, int steps, SgldSettings s, Generator gen,
        Action<int>? onStep = null, Func<Tensor, Tensor>? project = null)
    {
        for (int k = 0; k < steps; k++)
        {
            using var scope = NewDisposeScope();
            var g = Gradient(energy, x);
            if (s.GradClip > 0) g = g.clamp(-s.GradClip, s.GradClip);
            var next = x - s.StepSizeAt(k, steps) * g;
            if (s.Noise > 0) next += s.Noise * randn(x.shape, generator: gen, device: x.device, dtype: x.dtype);
            if (s.Box is { } box) next = next.clamp(box.Low, box.High);
            if (project is not null) next = project(next);
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(k + 1);
        }
        return x;
    }

    /// <summary>
    /// K steps of L2 PGD descending E (= ascending the classifier's logit): x ← clamp(x − η ∇E/‖∇E‖₂, low, high), the
    /// normalised-gradient step of the L2 attack (Madry et al. 2018) that Yin, Li &amp; Rohde (ECCV 2022) use to make and to
    /// sample negatives; the norm is over each item. Deterministic: the randomness is in the start.
    /// </summary>
    public static Tensor Pgd(EnergyFunction energy, Tensor x, int steps, double stepSize, double low, double high,
        Action<int>? onStep = null, Func<Tensor, Tensor>? project = null)
    {
        long[] perItem = [x.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 1)];
        for (int k = 0; k < steps; k++)
        {
            using var scope = NewDisposeScope();
            var g = Gradient(energy, x);
            var norm = g.flatten(1).square().sum([1]).sqrt().view(perItem) + 1e-10;
            var next = (x - stepSize * g / norm).clamp(low, high);
            if (project is not null) next = project(next);
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(k + 1);
        }
        return x;
    }
}

/// <summary>
/// Composition of energy models (Du, Li &amp; Mordatch 2020, "Compositional visual generation with energy based models",
/// Eq. 3 — the product of experts): p(x) ∝ Π pᵢ(x) = exp(−Σ Eᵢ(x)), so a conjunction is sampled by running the sampler on
/// the sum of the energies.
/// </summary>
public static class EnergyComposition
{
    public static EnergyFunction Product(IReadOnlyList<EnergyFunction> energies)
    {
        if (energies.Count == 0) throw new ArgumentException("compose at least one energy", nameof(energies));
        return x =>
        {
            var total = energies[0](x);
            for (int i = 1; i < energies.Count; i++) total = total + energies[i](x);
            return total;
        };
    }

    /// <summary>E/T: the energy of exp(−E/T), the model's density at temperature T.</summary>
    public static EnergyFunction AtTemperature(EnergyFunction energy, double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new UsageException($"a temperature must be a positive finite number, got {temperature}");
        return x => energy(x) / temperature;
    }
}
