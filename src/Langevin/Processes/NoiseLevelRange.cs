namespace Langevin.Processes;

/// <summary>The check every σ ladder shares: 0 &lt; σ_min &lt; σ_max, finite; errors name the settings sigma_min and sigma_max.</summary>
public static class NoiseLevelRange
{
    public static void Check(double sigmaMin, double sigmaMax)
    {
        if (!(sigmaMin > 0) || !double.IsFinite(sigmaMin)) throw new SettingException("sigma_min", sigmaMin, "must be > 0");
        if (!(sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw SettingException.Sentence("sigma_max", sigmaMax, $"must be > σ_min (got {sigmaMax} ≤ {sigmaMin})");
    }
}
