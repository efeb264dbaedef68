using System.Globalization;
using Langevin.Data;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Langevin.Metrics;

/// <summary>How <see cref="FeatureNetworkTrainer"/> trains a feature network.</summary>
/// <param name="Steps">Adam steps (batches drawn uniformly with replacement, as the main trainer does).</param>
/// <param name="LearningRate">Peak learning rate; cosine decay to 0 over <paramref name="Steps"/> (Loshchilov &amp; Hutter 2017, Eq. 5).</param>
/// <param name="Flip">Random horizontal flips (right for Fashion-MNIST, CIFAR-10 and shapes).</param>
public sealed record FeatureTrainSettings(int Steps = 1000, int BatchSize = 128, double LearningRate = 2e-3, int Seed = 0,
    int Width = 32, int FeatureDim = 128, bool Flip = true);

/// <summary>Trains a <see cref="FeatureNetwork"/> by cross-entropy on labelled images and measures its accuracy.</summary>
public static class FeatureNetworkTrainer
{
    /// <summary>
    /// Trains on images [N, C, H, W] in [−1, 1] with int64 labels [N]. Randomness of step k comes from generators seeded
    /// with SplitMix64(seed, k) (<see cref="Trainer.StepSeed"/>), so the same seed and thread count give the same network.
    /// </summary>
    /// <param name="report">Called after each step with (step, loss).</param>
    public static FeatureNetwork Train(Tensor images, Tensor labels, FeatureTrainSettings s, Action<long, double>? report = null)
    {
        if (images.dim() != 4) throw new DataException($"feature network: training data must be images [N, C, H, W] (got [{string.Join(", ", images.shape)}])");
        if (labels is null || labels.dim() != 1 || labels.shape[0] != images.shape[0])
            throw new DataException("feature network: the training data has no class labels; use a labelled dataset (fashion-mnist, mnist, cifar10, shapes, images:DIR with one sub-folder per class, npy:FILE,labels=LABELS.npy)");
        if (s.Steps < 1) throw new SettingException("steps", s.Steps, "must be ≥ 1");
        if (s.BatchSize < 1 || !(s.LearningRate > 0))
            throw new UsageException($"feature network training: the batch size and the learning rate must be positive (got {s.BatchSize}, {s.LearningRate})");
        int classes = (int)labels.max().item<long>() + 1;
        manual_seed(s.Seed);   // deterministic initial weights
        var net = new FeatureNetwork(new FeatureNetworkShape(images.shape[1..], classes, s.Width, s.FeatureDim));
        using var optimizer = new AdamOptimizer(net.named_parameters().Select(p => (p.name, p.parameter)));
        using var gen = new Generator((ulong)s.Seed);
        net.train();
        for (long step = 1; step <= s.Steps; step++)
        {
            using var scope = NewDisposeScope();
            ulong seed = Trainer.StepSeed(s.Seed, step);
            gen.manual_seed((long)seed);
            manual_seed((long)(seed >> 1));   // dropout
            var idx = randint(0, images.shape[0], [s.BatchSize], generator: gen);
            var x = images.index_select(0, idx).to(ScalarType.Float32);
            if (s.Flip) x = Augment.RandomHorizontalFlip(x, gen);
            var y = labels.index_select(0, idx);
            var loss = F.cross_entropy(net.forward(x), y);
            double value = loss.item<float>();
            if (!double.IsFinite(value)) throw new TrainingDivergedException($"feature network training stopped: the loss became {value} at step {step}; lower the learning rate");
            optimizer.ZeroGrad();
            loss.backward();
            double lr = 0.5 * s.LearningRate * (1 + Math.Cos(Math.PI * (step - 1) / s.Steps));   // cosine annealing
            optimizer.Step(lr);
            report?.Invoke(step, value);
        }
        net.eval();
        return net;
    }

    /// <summary>Fraction of <paramref name="images"/> whose arg-max logit is the label.</summary>
    public static double Accuracy(FeatureNetwork net, Tensor images, Tensor labels)
    {
        var (features, logits) = net.Embed(images);
        using (features)
        using (logits)
        using (var predicted = logits.argmax(1))
        using (var right = predicted.eq(labels.to(ScalarType.Int64)))
            return right.to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// Trains on the training split of <paramref name="dataSpec"/>, measures accuracy on its first 10,000 images and on
    /// its held-out split (<see cref="HeldOutSplit"/>) when it has one, and saves with that in the metadata.
    /// </summary>
    /// <param name="outPath">Where to save; null: the cache file (<see cref="FeatureNetworkCache.DefaultPath"/>).</param>
    /// <returns>The path written.</returns>
    public static string TrainAndSave(string dataSpec, string? outPath, FeatureTrainSettings settings, Action<string>? log = null, ProgressRunner? progress = null)
    {
        string trainSpec = FeatureNetworkCache.TrainingSpec(dataSpec);
        using var train = DataSources.Load(trainSpec, new DataOptions(Seed: settings.Seed));
        if (!train.IsImage) throw new UsageException($"features train: {trainSpec} holds points, not images; the image metrics need image data");
        if (train.Labels is null) throw new UsageException($"features train: {trainSpec} has no class labels; use a labelled dataset (fashion-mnist, mnist:DIR, cifar10:DIR, shapes:32, images:DIR with one sub-folder per class, npy:FILE,labels=LABELS.npy)");
        outPath ??= FeatureNetworkCache.DefaultPath(trainSpec, train.ItemShape);
        log?.Invoke($"training the feature network on {train} ({settings.Steps} steps of batch {settings.BatchSize}, {get_num_threads()} threads)");
        FeatureNetwork? net = null;
        (progress ?? ProgressRunners.Silent)("features", settings.Steps, "it", p =>
            net = Train(train.X, train.Labels, settings, (step, loss) => p.Report(step, $"loss {loss:F3}")));
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
        if (HeldOutSplit.Of(trainSpec, settings.Seed) is { } heldOut)
        {
            using var test = heldOut.Load();
            double acc = Accuracy(network, test.X, test.Labels!);
            meta["test_accuracy"] = acc.ToString("R", CultureInfo.InvariantCulture);
            accuracy = $"test accuracy {acc:P2} on {test.Count} {heldOut.Spec} images; " + accuracy;
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        network.Save(outPath, meta);
        log?.Invoke(accuracy);
        log?.Invoke($"wrote {outPath}");
        return outPath;
    }

    static double AccuracyOnFirst(FeatureNetwork net, Dataset d, int n)
    {
        long m = Math.Min(n, d.Count);
        using var x = d.X.narrow(0, 0, m);
        using var y = d.Labels!.narrow(0, 0, m);
        return Accuracy(net, x, y);
    }
}
