namespace Langevin.Mcmc;

/// <summary>Effective sample size of one scalar chain.</summary>
public static class EffectiveSampleSize
{
    /// <summary>
    /// n / τ with τ = −1 + 2 Σ_k (ρ̂_{2k} + ρ̂_{2k+1}), summed while the pair sums stay positive
    /// (Geyer 1992, "Practical Markov chain Monte Carlo", initial positive sequence). NaN for a constant chain.
    /// </summary>
    public static double Compute(double[] chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        int n = chain.Length;
        if (n < 4) throw new ArgumentException("need at least 4 draws for an effective sample size", nameof(chain));
        double mean = chain.Average();
        var c = new double[n];
        for (int i = 0; i < n; i++) c[i] = chain[i] - mean;
        double Acov(int t) { double s = 0; for (int i = 0; i + t < n; i++) s += c[i] * c[i + t]; return s / n; } // biased γ̂_t (Geyer 1992, §3.3)
        double g0 = Acov(0);
        if (!(g0 > 0)) return double.NaN;
        double tau = -1;
        for (int k = 0; 2 * k + 1 < n; k++)
        {
            double pair = (Acov(2 * k) + Acov(2 * k + 1)) / g0;
            if (pair <= 0) break;
            tau += 2 * pair;
        }
        return n / tau;
    }
}

/// <summary>Potential scale reduction across chains.</summary>
public static class RHat
{
    /// <summary>
    /// Split-R̂ (Gelman et al. 2013, BDA3 §11.4; Vehtari et al. 2021, §3 without rank-normalisation): each chain is
    /// halved (an odd middle draw is dropped), then R̂ = √(var̂⁺ / W) with var̂⁺ = (n−1)/n W + B/n.
    /// </summary>
    public static double Compute(double[][] chains)
    {
        ArgumentNullException.ThrowIfNull(chains);
        if (chains.Length == 0) throw new ArgumentException("need at least one chain", nameof(chains));
        int len = chains[0].Length;
        if (chains.Any(ch => ch.Length != len)) throw new ArgumentException("all chains must have the same length", nameof(chains));
        int n = len / 2;
        if (n < 2) throw new ArgumentException("need at least 4 draws per chain", nameof(chains));
        var halves = new List<double[]>();
        foreach (var ch in chains)
        {
            halves.Add(ch[..n]);
            halves.Add(ch[(len - n)..]);
        }
        int m = halves.Count;
        var means = halves.Select(h => h.Average()).ToArray();
        // s_j² with n−1 denominator; W = mean s_j²; B = n/(m−1) Σ (θ̄_j − θ̄)² (BDA3 Eq. 11.2–11.3)
        double w = halves.Select((h, j) => h.Sum(v => (v - means[j]) * (v - means[j])) / (n - 1)).Average();
        double grand = means.Average();
        double b = n * means.Sum(mu => (mu - grand) * (mu - grand)) / (m - 1);
        double varPlus = (n - 1.0) / n * w + b / n;
        return Math.Sqrt(varPlus / w);
    }
}
