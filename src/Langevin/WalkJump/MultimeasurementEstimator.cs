using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.WalkJump;

/// <summary>
/// The empirical Bayes estimator x̂(y) = E[x | y] of a Gaussian multimeasurement model (Saremi &amp; Srivastava 2022,
/// "Multimeasurement generative models", §3): y = (y_1 … y_M), y_m = x + σ ε_m, stacked along a new dimension 1 as
/// [B, M, …item]. The M-density's score follows from it, ∇_{y_m} log p(y) = (x̂(y) − y_m)/σ² (their Bayes estimator for the
/// Gaussian MNM, x̂(y) = y_m + σ² ∇_{y_m} log p(y); Miyasawa 1961 / Robbins 1956). As a function of x the likelihood
/// Π_m N(y_m; x, σ²) ∝ N(ȳ; x, σ²/M), so x̂ depends on y only through the mean ȳ, observed at noise σ/√M.
/// Two parameterisations of the same estimator: <see cref="MultimeasurementDenoiser"/> (x̂ from a network) and
/// <see cref="MultimeasurementEnergy"/> (x̂ from the gradient of a scalar energy).
/// </summary>
public abstract class MultimeasurementEstimator(int measurements, double sigma)
{
    public int Measurements { get; } = measurements;
    public double Sigma { get; } = sigma;

    /// <summary>σ/√M: the noise level of ȳ.</summary>
    public double MeanNoise => Sigma / Math.Sqrt(Measurements);

    /// <summary>The trained network.</summary>
    public abstract nn.Module Network { get; }

    /// <summary>x̂(y) for y of [B, M, …item] → [B, …item].</summary>
    public abstract Tensor Estimate(Tensor y);

    /// <summary>∇_y log p(y) = (x̂(y) − y_m)/σ² for every m: [B, M, …item].</summary>
    public Tensor Score(Tensor y) => (Estimate(y).unsqueeze(1) - y) / (Sigma * Sigma);

    /// <summary>
    /// The closed form for Gaussian data x ~ N(μ, s² I): x̂(y) = (s² Σ_m y_m + σ² μ) / (M s² + σ²) per coordinate
    /// (the posterior mean of a Gaussian prior under M Gaussian measurements).
    /// </summary>
    public static Tensor GaussianEstimate(Tensor y, double mu, double s, double sigma)
    {
        long m = y.shape[1];
        return (s * s * y.sum([1]) + sigma * sigma * mu) / (m * s * s + sigma * sigma);
    }
}
