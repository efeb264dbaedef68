using Langevin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// Compares 2-D samples with a reference distribution, and gives the same numbers for a second, independent reference
/// set of the same size (the floor: what a perfect sampler would score at this N). Used by <c>langevin eval</c>.
/// <list type="bullet">
/// <item><c>swd</c>: sliced 2-Wasserstein distance, <see cref="Projections"/> random directions (<see cref="SlicedWasserstein"/>).</item>
/// <item><c>mmd</c> → row <c>mmd2</c>: unbiased MMD² with RBF bandwidths = the reference's median pairwise distance × {0.5, 1, 2} (<see cref="MaximumMeanDiscrepancy"/>).</item>
/// <item><c>energy</c>: energy distance (<see cref="EnergyDistance"/>).</item>
/// <item><c>modes</c> (Gaussian-mixture toys only) → rows <c>modes_near</c> (fraction within 3·std of a mode), <c>modes_covered</c> (count) and <c>modes_kl</c> (reverse KL of the mode histogram against uniform; see <see cref="ModeCoverage"/>).</item>
/// <item><c>support</c> (checkerboard only): fraction of points on the checkerboard's 8 data squares.</item>
/// <item><c>loglik</c> (8gaussians, 25gaussians, rings; checkerboard on request): mean exact log-density of the points in nats (<see cref="Toy2DLogDensity"/>); the floor's is minus the entropy up to Monte-Carlo error. On the checkerboard it is −log 32 or −∞ (see <c>support</c>).</item>
/// </list>
/// </summary>
public static class PointSetEvaluation
{
    /// <summary>Random directions used for the sliced Wasserstein distance.</summary>
    public const int Projections = 500;

    /// <summary>The metric names accepted by <see cref="Evaluate"/>.</summary>
    public static IReadOnlyList<string> KnownMetrics { get; } = ["swd", "mmd", "energy", "modes", "support", "loglik"];

    /// <summary>The metrics that apply to a reference spec: swd, mmd, energy, plus modes for mixtures and support for the checkerboard.</summary>
    public static IReadOnlyList<string> DefaultMetrics(string refSpec)
    {
        ArgumentNullException.ThrowIfNull(refSpec);
        var toy = Toy2D.TryGet(refSpec.Trim());
        var list = new List<string> { "swd", "mmd", "energy" };
        if (toy?.Modes is not null) list.Add("modes");
        if (toy?.Name == "checkerboard") list.Add("support");
        if (toy is not null && toy.Name != "checkerboard" && Toy2DLogDensity.Has(toy.Name)) list.Add("loglik");
        return list;
    }

    /// <summary>
    /// Evaluates <paramref name="samples"/> [N, 2] against N fresh reference points drawn from <paramref name="refSpec"/>
    /// (a built-in 2-D dataset, or any data spec whose points are [M, 2] with M ≥ 2N, subsampled without replacement),
    /// and a second fresh set of N reference points against the same reference (the floor).
    /// </summary>
    /// <param name="metrics">Names from <see cref="KnownMetrics"/>; null or empty means <see cref="DefaultMetrics"/>.</param>
    /// <param name="seed">Seeds the reference draws and the SWD directions.</param>
    /// <param name="chainWindow">If given (Gaussian-mixture toys only), the samples are one chain in emission order: adds the
    /// <see cref="ChainMixing"/> rows over windows of this many samples, labelled by nearest mode (the floor: independent draws).</param>
    /// <returns>One row per number, in the order requested: (metric, value for the samples, value for the floor set).</returns>
    /// <exception cref="UsageException">An unknown or inapplicable metric, or a reference spec that is not 2-D points.</exception>
    /// <exception cref="DataException">Samples not [N, 2] with N ≥ 2, non-finite values, or too few reference points.</exception>
    public static IReadOnlyList<(string Metric, double Samples, double Floor)> Evaluate(Tensor samples, string refSpec, string[]? metrics, int seed,
        int? chainWindow = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(refSpec);
        if (samples.dim() != 2 || samples.shape[1] != 2 || samples.shape[0] < 2)
            throw new DataException($"samples must be [N, 2] points with N ≥ 2 (got [{string.Join(", ", samples.shape)}])");
        var requested = Normalize(metrics, refSpec);
        var toy = Toy2D.TryGet(refSpec.Trim());
        if (requested.Contains("modes") && toy?.Modes is null)
            throw SettingException.About("metrics", "modes", $"'modes' needs a Gaussian-mixture reference (8gaussians, 25gaussians), not '{refSpec}'");
        if (requested.Contains("loglik") && (toy is null || !Toy2DLogDensity.Has(toy.Name)))
            throw SettingException.About("metrics", "loglik", $"'loglik' needs a reference with a closed-form density ({string.Join(", ", Toy2DLogDensity.Names)}), not '{refSpec}'");
        if (chainWindow is not null && toy?.Modes is null)
            throw SettingException.About("chain_window", chainWindow, $"labelling points by their nearest mode needs a Gaussian-mixture reference (8gaussians, 25gaussians), not '{refSpec}'");
        if (requested.Contains("support") && toy?.Name != "checkerboard")
            throw SettingException.About("metrics", "support", $"'support' needs the checkerboard reference, not '{refSpec}'");

        using var scope = NewDisposeScope();
        var x = samples.to(ScalarType.Float32).contiguous();
        if (!x.isfinite().all().item<bool>()) throw new DataException("samples contain NaN or infinite values");
        int n = (int)x.shape[0];
        var (reference, floor) = ReferenceSets(refSpec, toy, n, seed);

        var rows = new List<(string, double, double)>();
        foreach (string metric in requested)
        {
            switch (metric)
            {
                case "swd":
                    rows.Add(("swd", Swd(x, reference, seed), Swd(floor, reference, seed)));
                    break;
                case "mmd":
                {
                    var h = MaximumMeanDiscrepancy.DefaultBandwidths(reference);
                    rows.Add(("mmd2", MaximumMeanDiscrepancy.Squared(x, reference, h), MaximumMeanDiscrepancy.Squared(floor, reference, h)));
                    break;
                }
                case "energy":
                    rows.Add(("energy", EnergyDistance.Compute(x, reference), EnergyDistance.Compute(floor, reference)));
                    break;
                case "modes":
                {
                    var s = ModeCoverage.Compute(x, toy!.Modes!, toy.ComponentStd!.Value);
                    var f = ModeCoverage.Compute(floor, toy.Modes!, toy.ComponentStd!.Value);
                    rows.Add(("modes_near", s.NearFraction, f.NearFraction));
                    rows.Add(("modes_covered", s.Covered, f.Covered));
                    rows.Add(("modes_kl", s.ReverseKl, f.ReverseKl));
                    break;
                }
                case "support":
                    rows.Add(("support", OnSquares(x), OnSquares(floor)));
                    break;
                case "loglik":
                    rows.Add(("loglik", Toy2DLogDensity.Mean(toy!.Name, x), Toy2DLogDensity.Mean(toy.Name, floor)));
                    break;
            }
        }
        if (chainWindow is int window)
        {
            var modes = tensor(toy!.Modes!.SelectMany(m => new[] { (double)m.X, m.Y }).ToArray(), [toy.Modes!.Count, 2]);
            var s = ChainMixing.Compute(ChainMixing.NearestMode(x, modes), window).Rows();
            var f = ChainMixing.Compute(ChainMixing.NearestMode(floor, modes), window).Rows();
            rows.AddRange(s.Select((r, i) => (r.Metric, r.Value, f[i].Value)));
        }
        return rows;
    }

    static List<string> Normalize(string[]? metrics, string refSpec)
    {
        if (metrics is null || metrics.Length == 0) return [.. DefaultMetrics(refSpec)];
        var list = new List<string>();
        foreach (string raw in metrics)
        {
            string m = raw.Trim().ToLowerInvariant();
            if (!KnownMetrics.Contains(m))
                throw SettingException.About("metrics", raw.Trim(), $"unknown metric '{raw.Trim()}'; use a comma-separated list of: {string.Join(", ", KnownMetrics)}");
            if (!list.Contains(m)) list.Add(m);
        }
        return list;
    }

    static (Tensor Reference, Tensor Floor) ReferenceSets(string refSpec, Toy2D? toy, int n, int seed)
    {
        using var gen = new Generator(unchecked((ulong)seed));
        if (toy is not null) return (toy.Sample(n, gen), toy.Sample(n, gen));
        using var data = DataSources.Load(refSpec, new DataOptions(Seed: seed));
        if (data.X.dim() != 2 || data.X.shape[1] != 2)
            throw SettingException.Sentence("ref", refSpec, $"'{refSpec}': eval compares 2-D points, but this data is [{string.Join(", ", data.X.shape)}]; give a 2-D dataset or an npy:FILE of [N, 2] points");
        long m = data.X.shape[0];
        if (m < 2L * n)
            throw new DataException($"the reference '{refSpec}' holds {m} points, but the reference and floor sets need 2·N = {2L * n}; score at most {m / 2} samples");
        var perm = randperm(m, generator: gen);
        var x = data.X.to(ScalarType.Float32);
        if (!x.isfinite().all().item<bool>()) throw new DataException($"the reference '{refSpec}' has NaN or infinite values");
        return (x.index_select(0, perm.narrow(0, 0, n)), x.index_select(0, perm.narrow(0, n, n)));
    }

    static double Swd(Tensor a, Tensor reference, int seed)
    {
        using var g = new Generator(unchecked((ulong)seed) + 1);   // the same directions for samples and floor
        return SlicedWasserstein.Distance(a, reference, Projections, g);
    }

    static double OnSquares(Tensor points)
    {
        var p = points.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        int n = p.Length / 2, on = 0;
        for (int i = 0; i < n; i++) if (Toy2D.CheckerboardSquare(p[2 * i], p[2 * i + 1]) >= 0) on++;
        return on / (double)n;
    }
}
