using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// The temperature at which a trained energy is a density of its data. IGEBM's SGLD samples exp(−2αE/σ²) and, cold as it is,
/// only descends into wells, so E itself fixes the wells but not their masses; the density exp(−E/T) of a 2-D energy on its
/// box is normalised by quadrature, and T is the maximum-likelihood fit to the data: ℓ(β) = −β Ē_data − log ∫_box e^{−βE},
/// β = 1/T, concave in β (log Z is convex), maximal where E_{π_β}[E] = Ē_data (the exponential family's moment condition).
/// </summary>
public static class EnergyTemperature
{
    /// <summary>T = 1/β̂ for 2-D points; the integral is a midpoint rule on a <paramref name="gridSize"/>² grid over [low, high]².</summary>
    public static double MaximumLikelihood(EnergyFunction energy, Tensor data, double low, double high, int gridSize = 1000)
    {
        if (data.dim() != 2 || data.shape[1] != 2) throw new UsageException("a temperature fitted by quadrature needs 2-D points; give the temperature instead");
        if (data.shape[0] < 1) throw new DataException("no data to fit a temperature to");
        if (!(high > low)) throw new UsageException($"the box [{low}, {high}] is empty");
        if (gridSize < 2) throw new UsageException($"the quadrature grid needs ≥ 2 points a side (got {gridSize})");
        var device = data.device;
        double[] grid;
        using (var points = GridPoints(low, high, gridSize, device)) grid = Evaluate(energy, points);
        double eData = Evaluate(energy, data).Average();
        if (grid.Any(double.IsNaN) || double.IsNaN(eData)) throw new DataException("the energy is NaN on the data or the box: no temperature fits");
        double min = grid.Min();
        if (!(eData < grid.Average())) throw new DataException($"the energy is not lower on the data (mean {eData:G4}) than over its box (mean {grid.Average():G4}): no temperature fits");
        if (!(eData > min)) throw new DataException($"the data's mean energy {eData:G4} is below every grid value (min {min:G4}): the wells are finer than the quadrature grid");
        // E_{π_β}[E] falls from the box's mean (β → 0) to min E (β → ∞): bisect log β for the moment condition
        double lo = Math.Log(1e-8), hi = Math.Log(1e12);
        for (int i = 0; i < 100; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (TiltedMean(grid, Math.Exp(mid), min) > eData) lo = mid; else hi = mid;
        }
        return Math.Exp(-0.5 * (lo + hi));
    }

    /// <summary>E_{π_β}[E] with π_β ∝ exp(−βE) over the grid values (shifted by their minimum for stability).</summary>
    static double TiltedMean(double[] e, double beta, double min)
    {
        double z = 0, m = 0;
        foreach (double v in e)
        {
            double w = Math.Exp(-beta * (v - min));
            z += w;
            m += w * v;
        }
        return m / z;
    }

    /// <summary>Cell centres of a g × g grid over [low, high]², [g², 2].</summary>
    static Tensor GridPoints(double low, double high, int g, Device device)
    {
        using var scope = NewDisposeScope();
        double h = (high - low) / g;
        var c = arange(g, float32, device) * h + (low + h / 2);
        var mesh = meshgrid([c, c], indexing: "ij");
        return stack([mesh[0].flatten(), mesh[1].flatten()], 1).MoveToOuterDisposeScope();
    }

    /// <summary>E of every row in chunks, as float64 values.</summary>
    static double[] Evaluate(EnergyFunction energy, Tensor x)
    {
        using var _ = no_grad();
        var values = new double[x.shape[0]];
        const long chunk = 65536;
        for (long i = 0; i < x.shape[0]; i += chunk)
        {
            using var scope = NewDisposeScope();
            var e = energy(x.narrow(0, i, Math.Min(chunk, x.shape[0] - i))).to(float64).cpu().data<double>().ToArray();
            e.CopyTo(values, i);
        }
        return values;
    }
}
