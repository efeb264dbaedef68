using Langevin.Data;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Exact log-densities of the built-in 2-D datasets that have one in closed form:
/// <list type="bullet">
/// <item><c>8gaussians</c>, <c>25gaussians</c>: log Σₖ (1/K) N(x; μₖ, s² I).</item>
/// <item><c>rings</c>: a uniform circle of radius r blurred by N(0, σ² I) has density
/// exp(−(ρ² + r²)/(2σ²)) I₀(ρr/σ²) / (2πσ²) at distance ρ from the centre (integrate the Gaussian over the angle;
/// I₀ is the modified Bessel function), computed as −(ρ − r)²/(2σ²) + log i0e(ρr/σ²) − log 2πσ²; four rings, equal mass.</item>
/// <item><c>checkerboard</c>: 1/32 on the 8 squares of area 4, 0 elsewhere (log 0 = −∞).</item>
/// </list>
/// Moons, Swiss roll and pinwheel have no closed form here (they need a 1-D integral or a change of variables).
/// </summary>
public static class Toy2DLogDensity
{
    /// <summary>The datasets with an exact density.</summary>
    public static IReadOnlyList<string> Names { get; } = ["8gaussians", "25gaussians", "rings", "checkerboard"];

    public static bool Has(string name) => Names.Contains(name.ToLowerInvariant());

    /// <summary>log p(x) in nats for points [N, 2]: float64 [N].</summary>
    /// <exception cref="UsageException">The dataset has no closed-form density.</exception>
    public static Tensor Evaluate(string name, Tensor points)
    {
        if (points.dim() != 2 || points.shape[1] != 2) throw new DataException($"log-likelihood: points must be [N, 2] (got [{string.Join(", ", points.shape)}])");
        var toy = Toy2D.Get(name);
        using var scope = NewDisposeScope();
        var x = points.to(ScalarType.Float64);
        Tensor result;
        switch (toy.Name)
        {
            case "8gaussians" or "25gaussians":
            {
                var modes = toy.Modes!;
                double s = toy.ComponentStd!.Value;
                var centres = tensor(modes.SelectMany(m => new[] { (double)m.X, m.Y }).ToArray(), [modes.Count, 2]);
                var d2 = (x.unsqueeze(1) - centres.unsqueeze(0)).square().sum(2);                 // [N, K]
                result = (-d2 / (2 * s * s)).logsumexp(1) - Math.Log(modes.Count) - Math.Log(2 * Math.PI * s * s);
                break;
            }
            case "rings":
            {
                const double sigma = 0.08;                                                         // Toy2D rings: N(0, 0.08²) noise
                var radii = tensor(new[] { 0.75, 1.5, 2.25, 3.0 }).unsqueeze(0);                   // (ring + 1) · 0.75
                var rho = x.square().sum(1, keepdim: true).sqrt();                                 // [N, 1]
                double v = sigma * sigma;
                // log[exp(−(ρ²+r²)/(2σ²)) I₀(ρr/σ²)/(2πσ²)] with I₀(z) = i0e(z)·e^z: −(ρ−r)²/(2σ²) + log i0e(ρr/σ²) − log 2πσ².
                var perRing = -(rho - radii).square() / (2 * v) + special.i0e(rho * radii / v).log() - Math.Log(2 * Math.PI * v);
                result = perRing.logsumexp(1) - Math.Log(4);
                break;
            }
            case "checkerboard":
            {
                var p = points.to(ScalarType.Float32).contiguous().data<float>().ToArray();
                var lp = new double[p.Length / 2];
                for (int i = 0; i < lp.Length; i++)
                    lp[i] = Toy2D.CheckerboardSquare(p[2 * i], p[2 * i + 1]) >= 0 ? -Math.Log(32) : double.NegativeInfinity;
                result = tensor(lp);
                break;
            }
            default:
                throw new UsageException($"log-likelihood: {toy.Name} has no closed-form density here; use one of {string.Join(", ", Names)}");
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Mean log p(x) over the points (nats per point).</summary>
    public static double Mean(string name, Tensor points)
    {
        using var lp = Evaluate(name, points);
        return lp.mean().item<double>();
    }
}
