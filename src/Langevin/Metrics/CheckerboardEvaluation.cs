using System.Text.Json.Nodes;
using Langevin.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// What the demo reports about samples of the checkerboard: their sliced Wasserstein distance to fresh data beside the floor (a
/// second fresh set) and the ceiling (a Gaussian fitted to the data), the share on the squares and each square's share.
/// </summary>
public static class CheckerboardEvaluation
{
    /// <summary>SWD of samples, of fresh data (floor) and of a fitted Gaussian (ceiling) against fresh data; support and coverage.</summary>
    public static JsonObject Evaluate(Tensor samples, Tensor trainData, int seed)
    {
        var toy = Toy2D.Get("checkerboard");
        using var gen = new Generator((ulong)seed + 1000);
        int n = (int)samples.shape[0];
        using var reference = toy.Sample(n, gen);
        using var floorSet = toy.Sample(n, gen);
        using var gaussian = GaussianFit.Sample(trainData, n, gen);
        const int projections = 500;
        double Swd(Tensor x) { using var g = new Generator((ulong)seed + 2000); return SlicedWasserstein.Distance(x, reference, projections, g); }

        var pts = samples.to(float32).data<float>().ToArray();
        var counts = new int[8];
        int on = 0;
        for (int i = 0; i < n; i++)
        {
            int sq = Toy2D.CheckerboardSquare(pts[2 * i], pts[2 * i + 1]);
            if (sq >= 0) { counts[sq]++; on++; }
        }
        return new JsonObject
        {
            ["n"] = n,
            ["projections"] = projections,
            ["swd_samples"] = Math.Round(Swd(samples.to(float32)), 5),
            ["swd_floor"] = Math.Round(Swd(floorSet), 5),
            ["swd_ceiling"] = Math.Round(Swd(gaussian), 5),
            ["on_support"] = Math.Round(on / (double)n, 4),
            ["square_shares"] = new JsonArray(counts.Select(c => (JsonNode)Math.Round(c / (double)n, 4)).ToArray()),
            ["square_min_share"] = Math.Round(counts.Min() / (double)n, 4),
            ["square_max_share"] = Math.Round(counts.Max() / (double)n, 4),
        };
    }
}
