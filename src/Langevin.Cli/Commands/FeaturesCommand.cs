using Langevin.Metrics;
using Langevin.Training;

namespace Langevin.Cli.Commands;

/// <summary><c>langevin features train</c>: trains the classifier whose features the image metrics use, and reports its test accuracy.</summary>
public sealed class FeaturesTrainCommand : ICommand
{
    public string Name => "features train";
    public string Summary => "train the feature network (a small CNN classifier) that FD, KID, precision/recall and IS use";
    public string Usage => "langevin features train --data fashion-mnist [--out FILE.safetensors] [--steps N] [--seed S] [--threads N] [--quiet]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("data", "SPEC", "labelled images: fashion-mnist, mnist:DIR, cifar10:DIR, shapes:32 (its training split; the test split measures accuracy)"),
        new("out", "FILE.safetensors", "where to write it (default: the cache file eval uses for this dataset, under $LANGEVIN_CACHE, $XDG_CACHE_HOME/langevin or ~/.cache/langevin)"),
        new("steps", "N", $"training steps of batch {new FeatureTrainSettings().BatchSize} (default {new FeatureTrainSettings().Steps})"),
        new("width", "N", $"channels of the first conv stage (default {new FeatureTrainSettings().Width})"),
        new("seed", "S", "random seed (default 0)"),
        new("threads", "N", "CPU threads (default: the core count)"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
    ];

    public int Run(ParsedArgs a)
    {
        string data = a.String("data") ?? throw new UsageException("features train: --data is required (a labelled image dataset, e.g. fashion-mnist)");
        ComputeDevice.SetThreads(a.Int("threads"));
        var defaults = new FeatureTrainSettings();
        var settings = defaults with
        {
            Steps = a.Int("steps") ?? defaults.Steps,
            Width = a.Int("width") ?? defaults.Width,
            Seed = a.Int("seed") ?? defaults.Seed,
        };
        if (settings.Steps < 1) throw new UsageException($"features train: --steps must be ≥ 1 (got {settings.Steps})");
        if (settings.Width < 1) throw new UsageException($"features train: --width must be ≥ 1 (got {settings.Width})");
        string path = FeatureNetworkTrainer.TrainAndSave(data, a.String("out"), settings, Console.WriteLine, ProgressRunners.Display(a.Flag("quiet")));
        a.Result["network"] = Path.GetFullPath(path);
        a.Result["data"] = data;
        a.Result["steps"] = settings.Steps;
        return 0;
    }
}
