using Langevin.Metrics;
using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class DenoisingErrorTests
{
    /// <summary>
    /// The exact denoiser of data N(μ, s² I) has error s²σ²/(s² + σ²) per dimension (the Gaussian MMSE): measured on 20,000 draws
    /// at five σ's it lands within 4 standard errors; a denoiser that returns its input has error σ² instead; equal seeds give
    /// equal results and the σ's are log-spaced end to end.
    /// </summary>
    [Fact]
    public void TheExactDenoiserOfAGaussianHasTheMmseAtEveryLevel()
    {
        const double s = 0.7;
        using var exact = new GaussianMixtureScore([1.0], [[0.5, -1.0]], s);
        using var data = (randn([20_000, 2], dtype: float64, generator: new Generator(1)) * s + tensor(new[] { 0.5, -1.0 })).to(float32);
        var sigmas = DenoisingError.LogSpaced(0.05, 5, 5);
        Assert.Equal(0.05, sigmas[0], 12);
        Assert.Equal(5, sigmas[^1], 12);
        Assert.Equal(0.5, sigmas[2], 12);                              // √(0.05 · 5)
        var points = DenoisingError.Measure(exact, data, sigmas, seed: 3, batch: 4096);
        foreach (var q in points)
        {
            double mmse = s * s * q.Sigma * q.Sigma / (s * s + q.Sigma * q.Sigma);
            Assert.True(Math.Abs(q.Mse - mmse) < 4 * q.StandardError, $"σ {q.Sigma}: {q.Mse} against {mmse} ± {q.StandardError}");
        }
        var identity = DenoisingError.Measure(new Identity(), data, sigmas, seed: 3, batch: 4096);
        foreach (var q in identity) Assert.Equal(q.Sigma * q.Sigma, q.Mse, q.Sigma * q.Sigma * 0.05);
        Assert.Equal(points.Select(q => q.Mse), DenoisingError.Measure(exact, data, sigmas, seed: 3, batch: 1000).Select(q => q.Mse),
            new ToleranceComparer(1e-9));
    }

    /// <summary>s = 0: D(x, σ) = x.</summary>
    sealed class Identity : IScoreModel
    {
        public Tensor Score(Tensor x, Tensor sigma) => zeros_like(x);
    }

    sealed class ToleranceComparer(double relative) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= relative * Math.Max(Math.Abs(a), Math.Abs(b));
        public int GetHashCode(double v) => 0;
    }
}
