using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.WalkJump;

/// <summary>
/// The energy parameterisation of <see cref="MultimeasurementEstimator"/> (Saremi &amp; Srivastava 2022, §3: learn the
/// M-density's energy, p(y) ∝ exp(−f(y)), and take x̂ from its gradient). For the Gaussian MNM the M-density factorises,
/// p(y) ∝ exp(−Σ_m ‖y_m − ȳ‖²/(2σ²)) · p_{σ/√M}(ȳ), where p_{σ/√M} is the data density blurred at σ/√M: only the second
/// factor is unknown, so the network is a scalar energy of the mean, f_θ(ȳ) ≈ −log p_{σ/√M}(ȳ). Then
/// ∇_{y_m} f(y) = (y_m − ȳ)/σ² + ∇f_θ(ȳ)/M, and the Bayes estimator x̂ = y_m − σ² ∇_{y_m} f(y) becomes
/// x̂(y) = ȳ − (σ²/M) ∇_ȳ f_θ(ȳ) — Tweedie's formula at noise σ/√M. The gradient is taken by autograd, with a graph when
/// gradients are on (training: the least-squares loss then differentiates through it), without one otherwise (sampling).
/// </summary>
public sealed class MultimeasurementEnergy(nn.Module<Tensor, Tensor> energy, int measurements, double sigma)
    : MultimeasurementEstimator(measurements, sigma)
{
    /// <summary>f_θ: [B, …item] → [B].</summary>
    public override nn.Module<Tensor, Tensor> Network { get; } = energy;

    /// <summary>∇_ȳ f_θ(ȳ) by autograd, for ȳ of [B, …item].</summary>
    public Tensor EnergyGradient(Tensor mean)
    {
        bool graph = is_grad_enabled();
        using var _ = enable_grad();
        var m = mean.detach().requires_grad_(true);
        var g = autograd.grad([Network.call(m).sum()], [m], retain_graph: graph, create_graph: graph)[0];   // TorchSharp does not default retain_graph to create_graph
        return graph ? g : g.detach();
    }

    public override Tensor Estimate(Tensor y)
    {
        var mean = y.mean([1]);
        return mean - Sigma * Sigma / Measurements * EnergyGradient(mean);   // x̂ = ȳ − (σ²/M) ∇f_θ(ȳ)
    }
}
