using System.Globalization;
using Langevin.Data;
using Langevin.Metrics;
using Langevin.Training;
using static TorchSharp.torch;

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
        string path = FeatureTraining.TrainAndSave(data, a.String("out"), settings, a.Flag("quiet"));
        a.Result["network"] = Path.GetFullPath(path);
        a.Result["data"] = data;
        a.Result["steps"] = settings.Steps;
        return 0;
    }
}

/// <summary>Training a feature network with a progress bar and saving it: shared by <c>features train</c> and <c>eval</c>.</summary>
public static class FeatureTraining
{
    /// <summary>Trains on the training split of <paramref name="dataSpec"/>, measures test accuracy when a test split exists, saves; returns the path.</summary>
    public static string TrainAndSave(string dataSpec, string? outPath, FeatureTrainSettings settings, bool quiet)
    {
        string trainSpec = FeatureNetworkCache.TrainingSpec(dataSpec);
        using var train = DataSources.Load(trainSpec, new DataOptions(Seed: settings.Seed));
        if (!train.IsImage) throw new UsageException($"features train: {trainSpec} holds points, not images; the image metrics need image data");
        if (train.Labels is null) throw new UsageException($"features train: {trainSpec} has no class labels; use a labelled dataset (fashion-mnist, mnist:DIR, cifar10:DIR, shapes:32, images:DIR with one sub-folder per class, npy:FILE,labels=LABELS.npy)");
        outPath ??= FeatureNetworkCache.DefaultPath(trainSpec, train.ItemShape);
        Console.WriteLine($"training the feature network on {train} ({settings.Steps} steps of batch {settings.BatchSize}, {get_num_threads()} threads)");
        FeatureNetwork? net = null;
        ProgressDisplay.Run("features", settings.Steps, 0, quiet, "it", p =>
            net = FeatureNetworkTrainer.Train(train.X, train.Labels, settings, (step, loss) => p.Report(step, $"loss {loss:F3}")));
        using var network = net!;
        var meta = new Dictionary<string, string>
        {
            ["data"] = trainSpec,
            ["steps"] = settings.Steps.ToString(CultureInfo.InvariantCulture),
            ["seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
        };
        double trainAcc = AccuracyOnFirst(network, train, 10_000);
        meta["train_accuracy"] = trainAcc.ToString("R", CultureInfo.InvariantCulture);
        string accuracy = $"training accuracy {trainAcc:P1} (first 10,000)";
        if (TestSpec(trainSpec) is { } testSpec)
        {
            using var test = DataSources.Load(testSpec, new DataOptions(Seed: settings.Seed + 1));
            double acc = FeatureNetworkTrainer.Accuracy(network, test.X, test.Labels!);
            meta["test_accuracy"] = acc.ToString("R", CultureInfo.InvariantCulture);
            accuracy = $"test accuracy {acc:P2} on {test.Count} {testSpec} images; " + accuracy;
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        network.Save(outPath, meta);
        Console.WriteLine(accuracy);
        Console.WriteLine($"wrote {outPath}");
        return outPath;
    }

    static double AccuracyOnFirst(FeatureNetwork net, Dataset d, int n)
    {
        long m = Math.Min(n, d.Count);
        using var x = d.X.narrow(0, 0, m);
        using var y = d.Labels!.narrow(0, 0, m);
        return FeatureNetworkTrainer.Accuracy(net, x, y);
    }

    /// <summary>The held-out split of a dataset spec: <c>fashion-mnist</c> → <c>fashion-mnist:test</c>; generated shapes → a fresh draw (another seed).</summary>
    static string? TestSpec(string trainSpec)
    {
        string kind = trainSpec.Split(':')[0].ToLowerInvariant();
        return kind switch
        {
            "fashion-mnist" or "mnist" or "cifar10" => trainSpec + ":test",
            "shapes" => trainSpec,   // loaded with seed + 1: fresh images
            _ => null,
        };
    }
}
