using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Processes;

/// <summary>
/// The noise-schedule and step-size techniques of "Improved Techniques for Training Score-Based Generative
/// Models" (Song &amp; Ermon 2020, NCSNv2). Technique 3 (score = s(x)/σ) lives in the score model and
/// Technique 5 (EMA) in the trainer.
/// </summary>
public static class NcsnV2Techniques
{
    /// <summary>
    /// Technique 1: σ_1 = the maximum Euclidean distance between any two training points. For large datasets the
    /// maximum is taken over a random subset of <paramref name="maxPoints"/> points (an underestimate by at most the
    /// subset's coverage; we say so in the run's config).
    /// </summary>
    public static double SigmaMax(Tensor data, Generator gen, int maxPoints = 3000)
    {
        using var scope = NewDisposeScope();
        var x = data.reshape(data.shape[0], -1).to(ScalarType.Float64);
        if (x.shape[0] > maxPoints)
            x = x.index_select(0, randperm(x.shape[0], generator: gen).narrow(0, 0, maxPoints));
        double max = 0;
        const int chunk = 512;
        for (long i = 0; i < x.shape[0]; i += chunk)
        {
            var d = cdist(x.narrow(0, i, Math.Min(chunk, x.shape[0] - i)), x);
            max = Math.Max(max, d.max().item<double>());
        }
        return max;
    }

    /// <summary>
    /// Technique 2: the ratio γ = σ_i/σ_{i−1} (&lt; 1) that makes
    /// Φ(√(2D)(γ−1) + 3γ) − Φ(√(2D)(γ−1) − 3γ) ≈ 1/2 (NCSNv2 §3.2), found by bisection.
    /// </summary>
    public static double Ratio(long dimension)
    {
        double s = Math.Sqrt(2.0 * dimension);
        double F(double g) => NormalCdf(s * (g - 1) + 3 * g) - NormalCdf(s * (g - 1) - 3 * g) - 0.5;
        double lo = 1e-3, hi = 1 - 1e-12; // F(lo) < 0 < F(hi)
        for (int i = 0; i < 200; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (F(mid) > 0) hi = mid; else lo = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>Technique 2 applied: the number of geometric levels from σ_max to σ_min at ratio <see cref="Ratio"/>.</summary>
    public static int Levels(double sigmaMax, double sigmaMin, long dimension) =>
        Math.Max(2, (int)Math.Ceiling(Math.Log(sigmaMin / sigmaMax) / Math.Log(Ratio(dimension))) + 1);

    /// <summary>
    /// Technique 4: given T steps per level, the ε whose Langevin step α_i = ε σ_i²/σ_L² makes
    /// s_T²/σ_i² = (1 − ε/σ_L²)^{2T} (γ² − 2ε/(σ_L² − σ_L²(1 − ε/σ_L²)²)) + 2ε/(σ_L² − σ_L²(1 − ε/σ_L²)²)
    /// closest to 1 (NCSNv2 Eq. 4, Proposition 3; γ here is σ_{i−1}/σ_i &gt; 1).
    /// </summary>
    public static double StepSize(GeometricSigmas sigmas, int stepsPerLevel)
    {
        double sl2 = sigmas.SigmaMin * sigmas.SigmaMin;
        double gamma = 1 / sigmas.Ratio;
        double Objective(double eps)
        {
            double a = 1 - eps / sl2;
            double b = 2 * eps / (sl2 - sl2 * a * a);
            double v = Math.Pow(a, 2.0 * stepsPerLevel) * (gamma * gamma - b) + b;
            return Math.Abs(v - 1);
        }
        // Golden-section search on log ε over (σ_L² · 1e-12, σ_L²); the objective is unimodal in practice.
        double lo = Math.Log(sl2 * 1e-12), hi = Math.Log(sl2 * (1 - 1e-9));
        double best = lo, bestValue = double.MaxValue;
        for (int i = 0; i <= 400; i++) // coarse scan, then refine around the best point
        {
            double l = lo + (hi - lo) * i / 400.0, v = Objective(Math.Exp(l));
            if (v < bestValue) { bestValue = v; best = l; }
        }
        double step = (hi - lo) / 400.0, a0 = best - step, b0 = best + step;
        for (int i = 0; i < 100; i++)
        {
            double m1 = a0 + (b0 - a0) / 3, m2 = b0 - (b0 - a0) / 3;
            if (Objective(Math.Exp(m1)) < Objective(Math.Exp(m2))) b0 = m2; else a0 = m1;
        }
        return Math.Exp(0.5 * (a0 + b0));
    }

    /// <summary>Standard normal CDF Φ(x) = erfc(−x/√2)/2.</summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>Complementary error function, Chebyshev fit with fractional error &lt; 1.2e-7 (Numerical Recipes §6.2, erfcc).</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                   t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                   t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
