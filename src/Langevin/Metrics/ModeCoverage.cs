using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>Result of <see cref="ModeCoverage.Compute"/>.</summary>
/// <param name="N">Number of samples.</param>
/// <param name="NearFraction">Fraction of samples within 3·std of some mode.</param>
/// <param name="Covered">Number of modes holding at least <paramref name="Threshold"/> near samples.</param>
/// <param name="Counts">Near samples per mode (each near sample counted once, at its nearest mode), in mode order.</param>
/// <param name="Threshold">Near samples a mode needs to count as covered: max(1, ⌈N / (4K)⌉).</param>
public sealed record ModeCoverageResult(int N, double NearFraction, int Covered, IReadOnlyList<int> Counts, int Threshold)
{
    /// <summary>Number of modes K.</summary>
    public int Modes => Counts.Count;

    /// <summary>
    /// The reverse KL of the mode histogram, KL(q̂ ‖ p) = Σ_k q̂_k log(q̂_k / p_k) with q̂ the near samples' shares per mode and
    /// p uniform (every mixture here weighs its modes equally): 0 when the samples spread evenly, log K when they all sit
    /// in one mode (the measure of mode collapse in Srivastava et al. 2017, VEEGAN, and Lin et al. 2018, PacGAN). NaN
    /// without near samples.
    /// </summary>
    public double ReverseKl
    {
        get
        {
            double total = Counts.Sum();
            if (total == 0) return double.NaN;
            return Counts.Where(c => c > 0).Sum(c => c / total * Math.Log(c / total * Modes));
        }
    }
}

/// <summary>
/// Mode coverage of 2-D samples against a Gaussian mixture's centres. A sample is near a mode when its Euclidean
/// distance to that mode is at most 3·std (for an exact isotropic 2-D Gaussian component that holds 1 − e^{−4.5} ≈ 98.9%
/// of its samples). Each near sample is assigned to its nearest mode. A mode is covered when it holds at least
/// max(1, ⌈N / (4K)⌉) near samples — a quarter of its fair share N/K — so a few stray samples do not count as a mode.
/// </summary>
public static class ModeCoverage
{
    /// <summary>How many standard deviations from a centre still count as near it.</summary>
    public const double Radius = 3.0;

    /// <exception cref="DataException">The samples are not [N, 2], there are no modes, or std is not positive.</exception>
    public static ModeCoverageResult Compute(Tensor samples, IReadOnlyList<(float X, float Y)> modes, double std)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(modes);
        if (samples.dim() != 2 || samples.shape[1] != 2)
            throw new DataException($"mode coverage: samples must be [N, 2] (got [{string.Join(", ", samples.shape)}])");
        if (modes.Count == 0) throw new DataException("mode coverage: the mixture has no modes");
        if (!(std > 0) || !double.IsFinite(std)) throw new DataException($"mode coverage: the component std must be positive (got {std})");
        int n = (int)samples.shape[0], k = modes.Count;
        using var scope = NewDisposeScope();
        var x = samples.to(ScalarType.Float64);
        var centres = tensor(modes.SelectMany(m => new[] { (double)m.X, m.Y }).ToArray(), [k, 2]);
        var counts = new int[k];
        int near = 0;
        if (n > 0)
        {
            var d = (x.unsqueeze(1) - centres.unsqueeze(0)).square().sum(2).sqrt();   // [N, K], exact (no matmul trick)
            var (dmin, which) = d.min(1);
            var isNear = dmin.le(Radius * std);
            near = (int)isNear.sum().item<long>();
            var nearWhich = which.masked_select(isNear);
            var binned = nearWhich.bincount(null, k).data<long>().ToArray();
            for (int i = 0; i < k; i++) counts[i] = (int)binned[i];
        }
        int threshold = Math.Max(1, (int)Math.Ceiling(n / (4.0 * k)));
        return new ModeCoverageResult(n, n == 0 ? 0 : near / (double)n, counts.Count(c => c >= threshold), counts, threshold);
    }
}
