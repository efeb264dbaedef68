namespace Langevin.Metrics;

/// <summary>
/// Area under the ROC curve of a score that should be higher on positives than on negatives, computed exactly as the
/// Mann–Whitney statistic: AUROC = U / (n₊ n₋) = P(s₊ &gt; s₋) + ½ P(s₊ = s₋), with U = R₊ − n₊(n₊ + 1)/2 from the
/// positives' rank sum R₊ (ties get their mid-rank). 0.5 is chance, 1 a perfect separation.
/// </summary>
public static class Auroc
{
    /// <exception cref="DataException">Either set is empty or holds a NaN.</exception>
    public static double Compute(IReadOnlyList<double> positives, IReadOnlyList<double> negatives)
    {
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentNullException.ThrowIfNull(negatives);
        int np = positives.Count, nn = negatives.Count;
        if (np == 0 || nn == 0) throw new DataException($"AUROC needs scores on both sides (got {np} positives, {nn} negatives)");
        var all = new (double Score, bool Positive)[np + nn];
        for (int i = 0; i < np; i++) all[i] = (positives[i], true);
        for (int i = 0; i < nn; i++) all[np + i] = (negatives[i], false);
        if (all.Any(s => double.IsNaN(s.Score))) throw new DataException("AUROC: a score is NaN");
        Array.Sort(all, (a, b) => a.Score.CompareTo(b.Score));
        double rankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].Score == all[i].Score) j++;
            double midRank = (i + 1 + j) / 2.0;                      // ranks i+1..j share their mean
            for (int k = i; k < j; k++) if (all[k].Positive) rankSum += midRank;
            i = j;
        }
        // U = R₊ − n₊(n₊+1)/2 (Mann & Whitney 1947); AUROC = U / (n₊ n₋)
        return (rankSum - np * (np + 1.0) / 2) / ((double)np * nn);
    }
}
