using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Energy distance (Székely &amp; Rizzo 2004, 2013): 2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖, estimated with the mean over
/// all cross pairs and unbiased within-set means (the diagonal i = j excluded), so it is ≈ 0, possibly slightly
/// negative, for equal distributions. In float64, chunked. Depends on N: quote N with it.
/// </summary>
public static class EnergyDistance
{
    /// <exception cref="DataException">A set is not [N, D] with at least 2 points, or the dimensions differ.</exception>
    public static double Compute(Tensor x, Tensor y)
    {
        using var a = PairwiseSums.AsPoints(x, "x", "energy distance", 2);
        using var b = PairwiseSums.AsPoints(y, "y", "energy distance", 2);
        var dist = new Action<Tensor>[] { d2 => d2.sqrt_() };
        double m = a.shape[0], n = b.shape[0];
        double xy = PairwiseSums.Sum(a, b, dist)[0] / (m * n);
        double xx = PairwiseSums.Sum(a, a, dist)[0] / (m * (m - 1));   // diagonal distances are exactly 0
        double yy = PairwiseSums.Sum(b, b, dist)[0] / (n * (n - 1));
        return 2 * xy - xx - yy;
    }
}
