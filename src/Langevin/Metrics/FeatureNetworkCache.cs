using Langevin.Data;
using Langevin.Training;

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
    public static string TrainingSpec(string refSpec) => HeldOutSplit.TrainingSplit(refSpec);

    /// <summary>The cached file of the default feature network for a dataset spec and image shape, e.g. <c>features-fashion-mnist-1x28x28.safetensors</c>.</summary>
    public static string DefaultPath(string dataSpec, long[] imageShape)
    {
        string kind = DataSpec.Parse(dataSpec).Kind;
        // A folder argument (fashion-mnist:DIR) is the same dataset; a size (shapes:32) is already in the shape.
        string safe = new(kind.Select(ch => char.IsLetterOrDigit(ch) || ch == '-' ? ch : '-').ToArray());
        return Path.Combine(Directory, $"features-{safe}-{string.Join("x", imageShape)}.safetensors");
    }

    /// <summary>
    /// The feature network for images of <paramref name="itemShape"/> from <paramref name="dataSpec"/>: the explicit
    /// <paramref name="file"/> when given, else the cached default, else the default trained once on the training split
    /// of <paramref name="dataSpec"/> and cached.
    /// </summary>
    /// <param name="log">Says which network is used and when one is trained.</param>
    /// <param name="training">How a missing default is trained; null: <see cref="FeatureTrainSettings"/>' defaults.</param>
    /// <exception cref="DataException">The file is missing, not a feature network, or for another image shape.</exception>
    public static FeatureNetwork Open(string? file, string dataSpec, long[] itemShape, Action<string>? log = null, ProgressRunner? progress = null,
        FeatureTrainSettings? training = null)
    {
        if (file is not null) return FeatureNetwork.Load(file, itemShape);
        string cached = DefaultPath(dataSpec, itemShape);
        if (File.Exists(cached))
        {
            log?.Invoke($"feature network: {cached} (cached)");
            return FeatureNetwork.Load(cached, itemShape);
        }
        var settings = training ?? new FeatureTrainSettings();
        log?.Invoke($"no feature network for {TrainingSpec(dataSpec)} [{string.Join(", ", itemShape)}] yet: training the default one once " +
                    $"({settings.Steps} steps, a few minutes) and caching it in {cached}");
        FeatureNetworkTrainer.TrainAndSave(dataSpec, cached, settings, log, progress);
        return FeatureNetwork.Load(cached, itemShape);
    }
}
