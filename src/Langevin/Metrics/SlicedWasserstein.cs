using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Sliced 2-Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015):
/// SW₂(P, Q) = (E_θ W₂²(θᵀP, θᵀQ))^{1/2} over directions θ uniform on the sphere, each 1-D W₂ computed exactly
/// from sorted projections. Both sets must hold the same number of points N (quote N with the result).
/// </summary>
public static class SlicedWasserstein
{
    public static double Distance(Tensor a, Tensor b, int projections, Generator gen)
    {
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1])
            throw new DataException($"sliced Wasserstein: point sets must both be [N, D] (got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}])");
        if (a.shape[0] != b.shape[0])
            throw new DataException($"sliced Wasserstein: point sets must have the same size (got {a.shape[0]} and {b.shape[0]})");
        using var scope = NewDisposeScope();
        var theta = randn([a.shape[1], projections], generator: gen, dtype: ScalarType.Float64);
        theta = theta / theta.norm(0, keepdim: true);
        var pa = a.to(ScalarType.Float64).matmul(theta).sort(0).Values;
        var pb = b.to(ScalarType.Float64).matmul(theta).sort(0).Values;
        return Math.Sqrt((pa - pb).square().mean().item<double>());
    }
}
