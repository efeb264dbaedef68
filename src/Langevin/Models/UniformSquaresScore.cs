using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// The exact score of a uniform density on a union of disjoint axis-aligned boxes (e.g. the checkerboard) blurred by
/// N(0, σ²I): p_σ(x) ∝ Σ_k Π_d [Φ((hi_kd − x_d)/σ) − Φ((lo_kd − x_d)/σ)] / vol_k, differentiated in closed form.
/// Each factor is evaluated in log space from the tail that keeps it accurate, so far-away points stay finite.
/// A test oracle for samplers on sharp-edged 2-D data.
/// </summary>
public sealed class UniformSquaresScore(double[][] lower, double[][] upper) : IScoreModel
{
    public Tensor Score(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var xd = x.to(float64);
        var s = sigma.to(float64);
        s = s.dim() == 0 ? s.expand(x.shape[0]) : s;
        var lo = tensor(lower.SelectMany(v => v).ToArray(), [lower.Length, lower[0].Length], float64);
        var hi = tensor(upper.SelectMany(v => v).ToArray(), [upper.Length, upper[0].Length], float64);
        var sig = s.reshape(-1, 1, 1);
        var a = (lo.unsqueeze(0) - xd.unsqueeze(1)) / sig;                    // [B, K, D]
        var b = (hi.unsqueeze(0) - xd.unsqueeze(1)) / sig;
        var logM = LogNormalIntervalMass(a, b);                               // log M_kd = log(Φ(b) − Φ(a))
        // ∂/∂x_d log M_kd = (φ(a) − φ(b)) / (σ M_kd), each term formed in log space.
        const double halfLog2Pi = 0.91893853320467274;
        var dLogM = ((-a.square() / 2 - halfLog2Pi - logM).exp() - (-b.square() / 2 - halfLog2Pi - logM).exp()) / sig;
        var r = softmax(logM.sum(2) - (hi - lo).log().sum(1), 1);             // responsibilities of the boxes
        return (r.unsqueeze(2) * dLogM).sum(1).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>log(Φ(b) − Φ(a)) for a &lt; b, from whichever tail is accurate.</summary>
    static Tensor LogNormalIntervalMass(Tensor a, Tensor b)
    {
        // Upper tail (a > 0): Φ(b) − Φ(a) = Φ(−a) − Φ(−b).
        var flip = a > 0;
        var hiArg = where(flip, -a, b);
        var loArg = where(flip, -b, a);
        var logHi = LogNdtr(hiArg);
        var logLo = LogNdtr(loArg);
        return logHi + (-(logLo - logHi).exp()).clamp_min(-1 + 1e-16).log1p();
    }

    /// <summary>
    /// log Φ(z): direct in float64 where erfc is still representable (z &gt; −37), else the asymptotic series
    /// log Φ(z) ≈ −z²/2 − log(−z) − ½ log 2π − 1/z² (Abramowitz &amp; Stegun 26.2.12).
    /// </summary>
    static Tensor LogNdtr(Tensor z)
    {
        var near = ((z.clamp_min(-37) * -Math.Sqrt(0.5)).erfc() * 0.5).log();
        var far = z.clamp_max(-37);
        var tail = -far.square() / 2 - (-far).log() - 0.5 * Math.Log(2 * Math.PI) - far.square().reciprocal();
        return where(z > -37, near, tail);
    }

    /// <summary>The FFJORD checkerboard's 8 squares of side 2 on [−4, 4]² (a square where col + row is even).</summary>
    public static UniformSquaresScore Checkerboard()
    {
        var lo = new List<double[]>(); var hi = new List<double[]>();
        for (int col = 0; col < 4; col++)
            for (int row = 0; row < 4; row++)
                if ((col + row) % 2 == 0)
                {
                    lo.Add([2 * col - 4, 2 * row - 4]);
                    hi.Add([2 * col - 2, 2 * row - 2]);
                }
        return new UniformSquaresScore(lo.ToArray(), hi.ToArray());
    }
}
