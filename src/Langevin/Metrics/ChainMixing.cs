using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>Result of <see cref="ChainMixing.Compute"/>: how a chain's labels move, per window of consecutive samples.</summary>
/// <param name="Window">Samples per window.</param>
/// <param name="Windows">Complete, non-overlapping windows (a shorter tail is ignored).</param>
/// <param name="Visited">Distinct labels in each window.</param>
/// <param name="Changes">Label changes between consecutive samples inside each window (at most Window − 1).</param>
/// <param name="TotalChanges">Label changes over the whole sequence.</param>
/// <param name="Transitions">Consecutive pairs in the whole sequence (N − 1).</param>
/// <param name="VisitedOverall">Distinct labels in the whole sequence.</param>
public sealed record ChainMixingResult(int Window, int Windows, IReadOnlyList<int> Visited, IReadOnlyList<int> Changes,
    int TotalChanges, int Transitions, int VisitedOverall)
{
    public double MeanVisited => Visited.Average();
    public int MinVisited => Visited.Min();
    public int MaxVisited => Visited.Max();
    public double MeanChanges => Changes.Average();
    public int MinChanges => Changes.Min();
    public int MaxChanges => Changes.Max();

    /// <summary>Rows for a metrics table: chain_visited (mean, min, max), chain_changes (mean, min, max), chain_change_rate.</summary>
    public IReadOnlyList<(string Metric, double Value)> Rows() =>
    [
        ("chain_visited_mean", MeanVisited), ("chain_visited_min", MinVisited), ("chain_visited_max", MaxVisited),
        ("chain_changes_mean", MeanChanges), ("chain_changes_min", MinChanges), ("chain_changes_max", MaxChanges),
        ("chain_change_rate", Transitions == 0 ? 0 : TotalChanges / (double)Transitions),
    ];
}

/// <summary>
/// Mixing of one chain across classes or modes (the claim of walk-jump sampling, Saremi &amp; Srivastava 2022): the
/// samples, in the order the chain emitted them, get a label each — the feature classifier's class for images, the nearest
/// mode for 2-D mixtures — and each non-overlapping window of consecutive samples is scored by the distinct labels it
/// visits and the label changes between neighbours. Independent samples are the ceiling a chain can reach.
/// </summary>
public static class ChainMixing
{
    /// <exception cref="UsageException">The window is below 2 or longer than the sequence.</exception>
    public static ChainMixingResult Compute(IReadOnlyList<int> labels, int window)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (window < 2) throw new UsageException($"chain mixing: the window must hold at least 2 samples (got {window})");
        if (labels.Count < window)
            throw new UsageException($"chain mixing: a window of {window} needs at least {window} samples in chain order (got {labels.Count})");
        int windows = labels.Count / window;
        var visited = new int[windows];
        var changes = new int[windows];
        for (int w = 0; w < windows; w++)
        {
            int start = w * window;
            visited[w] = Enumerable.Range(start, window).Select(i => labels[i]).Distinct().Count();
            changes[w] = Enumerable.Range(start + 1, window - 1).Count(i => labels[i] != labels[i - 1]);
        }
        int total = Enumerable.Range(1, labels.Count - 1).Count(i => labels[i] != labels[i - 1]);
        return new ChainMixingResult(window, windows, visited, changes, total, labels.Count - 1, labels.Distinct().Count());
    }

    /// <summary>The index of each point's nearest mode (Euclidean), for points [N, D] and modes [K, D].</summary>
    public static int[] NearestMode(Tensor points, Tensor modes)
    {
        using var scope = NewDisposeScope();
        var d = (points.to(ScalarType.Float64).unsqueeze(1) - modes.to(ScalarType.Float64).unsqueeze(0)).square().sum(2);   // [N, K]
        return d.argmin(1).to(ScalarType.Int32).data<int>().ToArray();
    }

    /// <summary>The predicted class of each sample from classifier logits [N, K].</summary>
    public static int[] PredictedClass(Tensor logits)
    {
        using var scope = NewDisposeScope();
        return logits.argmax(1).to(ScalarType.Int32).data<int>().ToArray();
    }
}
