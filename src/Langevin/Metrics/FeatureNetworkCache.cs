namespace Langevin.Metrics;

/// <summary>
/// Where default feature networks live: one file per dataset and image shape in the user's cache folder —
/// <c>$LANGEVIN_CACHE</c> if set (tests), else <c>$XDG_CACHE_HOME/langevin</c>, else <c>~/.cache/langevin</c>
/// (on Windows the local application-data folder).
/// </summary>
public static class FeatureNetworkCache
{
    public static string Directory
    {
        get
        {
            if (Environment.GetEnvironmentVariable("LANGEVIN_CACHE") is { Length: > 0 } own) return own;
            if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "langevin");
            if (OperatingSystem.IsWindows())
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "langevin", "cache");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "langevin");
        }
    }

    /// <summary>The dataset whose training split trains the default feature network for a reference spec: <c>fashion-mnist:test</c> → <c>fashion-mnist</c>.</summary>
    public static string TrainingSpec(string refSpec)
    {
        string s = refSpec.Trim();
        foreach (var suffix in new[] { ":test", ":train" })
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return s[..^suffix.Length];
        return s;
    }

    /// <summary>The cached file of the default feature network for a dataset spec and image shape, e.g. <c>features-fashion-mnist-1x28x28.safetensors</c>.</summary>
    public static string DefaultPath(string dataSpec, long[] imageShape)
    {
        string spec = TrainingSpec(dataSpec);
        int colon = spec.IndexOf(':');
        string kind = (colon < 0 ? spec : spec[..colon]).ToLowerInvariant();
        // A folder argument (fashion-mnist:DIR) is the same dataset; a size (shapes:32) is already in the shape.
        string safe = new(kind.Select(ch => char.IsLetterOrDigit(ch) || ch == '-' ? ch : '-').ToArray());
        return Path.Combine(Directory, $"features-{safe}-{string.Join("x", imageShape)}.safetensors");
    }
}
