namespace Langevin.Processes;

/// <summary>
/// NCSN's noise levels: a geometric sequence σ_1 &gt; σ_2 &gt; … &gt; σ_L (Song &amp; Ermon 2019, §4.2),
/// the variance-exploding (VE) family in the σ-space frame.
/// </summary>
public sealed record GeometricSigmas(double SigmaMax, double SigmaMin, int Levels)
{
    public double this[int i] => Levels == 1 ? SigmaMax : SigmaMax * Math.Pow(SigmaMin / SigmaMax, i / (double)(Levels - 1));

    /// <summary>σ_i / σ_{i−1}, the common ratio γ &lt; 1.</summary>
    public double Ratio => Levels == 1 ? 1 : Math.Pow(SigmaMin / SigmaMax, 1.0 / (Levels - 1));

    public double[] ToArray() => Enumerable.Range(0, Levels).Select(i => this[i]).ToArray();

    public void Validate()
    {
        NoiseLevelRange.Check(SigmaMin, SigmaMax);
        if (Levels < 2) throw new SettingException("levels", Levels, "must be ≥ 2");
    }
}
