using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, Eq. 6; Dowson &amp; Landau 1982):
/// d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2}, in float64. The trace term is computed from the symmetric
/// form tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} (same eigenvalues as Σ₁Σ₂) with two symmetric eigendecompositions, so no
/// complex square roots appear. Biased in N (the covariance estimates are): quote N with it.
/// </summary>
public static class FrechetDistance
{
    /// <summary>Mean [D] and unbiased covariance [D, D] (divisor N − 1) of features [N, D], float64.</summary>
    public static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        using var x = PairwiseSums.AsPoints(features, "features", "Fréchet distance", 2);
        using var scope = NewDisposeScope();
        var mean = x.mean([0]);
        var centred = x - mean;
        var cov = centred.T.matmul(centred) / (x.shape[0] - 1);
        return (mean.MoveToOuterDisposeScope(), cov.MoveToOuterDisposeScope());
    }

    /// <summary>FD between two feature sets [M, D] and [N, D] (M, N ≥ 2).</summary>
    public static double Compute(Tensor x, Tensor y)
    {
        var (m1, s1) = Moments(x);
        var (m2, s2) = Moments(y);
        using (m1) using (s1) using (m2) using (s2)
            return FromMoments(m1, s1, m2, s2);
    }

    /// <summary>d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2} (Heusel et al. 2017, Eq. 6).</summary>
    public static double FromMoments(Tensor mean1, Tensor cov1, Tensor mean2, Tensor cov2)
    {
        if (mean1.shape[0] != mean2.shape[0]) throw new DataException($"Fréchet distance: feature sizes differ ({mean1.shape[0]} and {mean2.shape[0]})");
        using var scope = NewDisposeScope();
        double meanTerm = (mean1.to(ScalarType.Float64) - mean2.to(ScalarType.Float64)).square().sum().item<double>();
        double traces = cov1.to(ScalarType.Float64).trace().item<double>() + cov2.to(ScalarType.Float64).trace().item<double>();
        return meanTerm + traces - 2 * TraceSqrtProduct(cov1, cov2);
    }

    /// <summary>tr (Σ₁Σ₂)^{1/2} = tr (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2} for symmetric PSD Σ₁, Σ₂; tiny negative eigenvalues from rounding are clamped to 0.</summary>
    public static double TraceSqrtProduct(Tensor cov1, Tensor cov2)
    {
        using var scope = NewDisposeScope();
        var a = Symmetric(cov1.to(ScalarType.Float64));
        var b = Symmetric(cov2.to(ScalarType.Float64));
        var (lambda, v) = linalg.eigh(a);
        var rootA = (v * lambda.clamp_min(0).sqrt().unsqueeze(0)).matmul(v.T);   // Σ₁^{1/2} = V diag(√λ) Vᵀ
        var m = Symmetric(rootA.matmul(b).matmul(rootA));
        return linalg.eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();
    }

    static Tensor Symmetric(Tensor a) => (a + a.T) / 2;
}
