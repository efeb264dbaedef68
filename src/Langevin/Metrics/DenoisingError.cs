using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>One noise level's result: the mean squared error per dimension of D(x + σz, σ) against x, and its standard error
/// over the items.</summary>
public sealed record DenoisingErrorPoint(double Sigma, double Mse, double StandardError);

/// <summary>
/// Where a denoiser errs: E‖D(x + σz, σ) − x‖²/d on held-out data at each σ, with the same z for every model given the same
/// seed. Every model of the family is a denoiser in the σ-frame (NCSN's score through Tweedie's formula, D = x + σ² s; DDPM's
/// ε-network through its preconditioning), so two runs of different objectives compare level by level: the lower error is the
/// better estimate of E[x | x_σ] there, which is exactly what the training losses target (Vincent 2011; Karras et al. 2022,
/// Eq. 2). The ideal denoiser's error is the MMSE, e.g. s²σ²/(s² + σ²) per dimension for data N(μ, s² I).
/// </summary>
public static class DenoisingError
{
    /// <summary>σ's spaced evenly in log σ from <paramref name="min"/> to <paramref name="max"/> (inclusive).</summary>
    public static double[] LogSpaced(double min, double max, int count)
    {
        if (!(min > 0) || !(max >= min)) throw new ArgumentOutOfRangeException(nameof(min), $"need 0 < min ≤ max (got {min}, {max})");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "must be ≥ 1");
        return count == 1 ? [min] : [.. Enumerable.Range(0, count).Select(i => Math.Exp(Math.Log(min) + (Math.Log(max) - Math.Log(min)) * i / (count - 1)))];
    }

    /// <param name="data">x [N, …] in the model's data space ([−1, 1] for images).</param>
    /// <param name="seed">z for item i at level k comes from a generator seeded by (seed, k): equal seeds, equal noise.</param>
    /// <param name="onLevel">called after each level with the levels done.</param>
    public static IReadOnlyList<DenoisingErrorPoint> Measure(IScoreModel model, Tensor data, IReadOnlyList<double> sigmas, long seed, int batch = 250,
        Action<int>? onLevel = null)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "must be ≥ 1");
        if (sigmas.Any(s => !(s > 0) || double.IsInfinity(s))) throw new ArgumentOutOfRangeException(nameof(sigmas), "every σ must be finite and > 0");
        long n = data.shape[0];
        double dims = data[0].numel();
        var points = new List<DenoisingErrorPoint>();
        using var _ = no_grad();
        for (int k = 0; k < sigmas.Count; k++)
        {
            double sigma = sigmas[k];
            using var gen = new Generator(Training.Seeds.Of(seed, k, Training.Seeds.DenoisingLevels), data.device);
            using var noise = randn(data.shape, generator: gen, device: data.device);    // drawn at once: any batch sees the same z
            var perItem = new double[n];
            for (long start = 0; start < n; start += batch)
            {
                using var scope = NewDisposeScope();
                long b = Math.Min(batch, n - start);
                var x = data.narrow(0, start, b).to(float32);
                var z = noise.narrow(0, start, b);
                var d = model.Denoise(x + z * sigma, full([b], sigma, device: x.device));
                var err = (d - x).square().flatten(1).sum(1).div(dims).to(float64).cpu();
                err.data<double>().CopyTo(perItem, (int)start);
            }
            double mean = perItem.Average();
            double sd = n > 1 ? Math.Sqrt(perItem.Sum(e => (e - mean) * (e - mean)) / (n - 1)) : 0;
            points.Add(new DenoisingErrorPoint(sigma, mean, sd / Math.Sqrt(n)));
            onLevel?.Invoke(k + 1);
        }
        return points;
    }
}
