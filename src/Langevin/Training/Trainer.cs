using System.Diagnostics;
using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

public sealed record TrainRequest(TrainConfig Config, string RunDir, bool Resume = false, bool Quiet = false);

public sealed record TrainResult(string RunDir, long Step, double LastLoss, string Checkpoint, TimeSpan Elapsed, TrainConfig Config);

/// <summary>
/// The one training loop every method uses: Adam/AdamW with linear warm-up, gradient clipping, an EMA of the weights,
/// atomic checkpoints every N steps, exact resume, a stop with a clear message on a NaN/Inf loss, RUN/config.json,
/// RUN/log.jsonl, periodic sample pictures and a loss plot.
///
/// Reproducibility: all randomness of step k (the batch, the noise, dropout) is drawn from generators seeded with
/// f(seed, k), so a resumed run reproduces the uninterrupted one exactly at the same seed and thread count.
/// </summary>
public static class Trainer
{
    public static TrainResult Run(TrainRequest request, Tensor data, Func<TrainConfig, long[], IGenerativeMethod>? create = null)
    {
        create ??= MethodFactory.Create;
        var run = new RunFolder(request.RunDir);
        var config = request.Config;
        Checkpoint? resumeFrom = null;
        if (request.Resume)
        {
            if (!File.Exists(run.ConfigPath)) throw new UsageException($"--resume: {run.ConfigPath} not found; start a new run without --resume");
            var latest = run.LatestCheckpoint() ?? throw new UsageException($"--resume: no checkpoint in {run.CheckpointsDir}; start a new run without --resume");
            resumeFrom = Checkpoint.Load(latest.Path);
            // The stored, resolved config governs; the request may extend the run and change how often it reports.
            config = resumeFrom.Config with
            {
                Steps = config.Steps, CheckpointEvery = config.CheckpointEvery, SampleEvery = config.SampleEvery,
                LogEvery = config.LogEvery, Threads = config.Threads, Bf16 = config.Bf16,
            };
        }
        else if (run.LatestCheckpoint() is not null)
            throw new UsageException($"--out: {run.Root} already holds a run with checkpoints; pass --resume to continue it or choose another --out");
        config.Validate();

        ComputeDevice.SetThreads(config.Threads);
        var device = ComputeDevice.Resolve(config.Device);
        long[] itemShape = data.shape[1..];
        if (resumeFrom is not null && !resumeFrom.ItemShape.SequenceEqual(itemShape))
            throw new UsageException($"--resume: the data's items are [{string.Join(", ", itemShape)}], the run was trained on [{string.Join(", ", resumeFrom.ItemShape)}]");

        Directory.CreateDirectory(run.Root);
        if (resumeFrom is null)
        {
            using var resolveGen = new Generator((ulong)config.Seed);
            config = MethodFactory.Resolve(config, data, resolveGen);
        }
        AtomicFile.WriteAllText(run.ConfigPath, config.ToJson());

        manual_seed(config.Seed);                                   // deterministic initial weights
        using var method = create(config, itemShape);
        method.Network.to(device);
        // --bf16: forward and backward in a bfloat16 working copy; optimizer, EMA and checkpoints on the fp32 master.
        using var working = config.Bf16 ? create(config, itemShape) : null;
        using var bf16 = working is null ? null : new BFloat16WorkingCopy(method.Network, working.Network as nn.Module<Tensor, Tensor, Tensor>
            ?? throw new UsageException($"--bf16: the {config.Method} network cannot run in bfloat16 here"));
        using var optimizer = new AdamOptimizer(method.Network.named_parameters().Select(p => (p.name, p.parameter)),
            beta1: config.AdamBeta1, beta2: config.AdamBeta2, weightDecay: config.WeightDecay, decoupledWeightDecay: config.Optimizer == "adamw");
        using var ema = new ExponentialMovingAverage(method.Network, config.EmaDecay, config.EmaWarmup);
        long start = 0;
        string lastCheckpoint = "";
        if (resumeFrom is not null)
        {
            using (resumeFrom)
            {
                Checkpoint.LoadInto(method.Network, resumeFrom.Model, resumeFrom.Path);
                ema.Load(resumeFrom.Ema, resumeFrom.EmaUpdates, resumeFrom.Path);
                optimizer.LoadState(resumeFrom.Optimizer, resumeFrom.OptimizerSteps, resumeFrom.Path);
                start = resumeFrom.Step;
                lastCheckpoint = resumeFrom.Path;
            }
        }

        using var trainData = data.to(float32).to(device);
        using var log = TrainingLog.Open(run.LogPath, resumeFrom is null ? null : start);
        using var gen = new Generator((ulong)config.Seed, device);
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        long step = start;

        void SaveCheckpoint()
        {
            string path = run.CheckpointPath(step);
            Checkpoint.Save(path, config, itemShape, step, method.Network, ema, optimizer);
            lastCheckpoint = path;
        }

        ProgressDisplay.Run("train", config.Steps, start, request.Quiet, "it", progress =>
        {
            method.Network.train();
            working?.Network.train();
            long stepsThisRun = 0;
            while (step < config.Steps)
            {
                step++;
                using (var scope = NewDisposeScope())
                {
                    ulong stepSeed = StepSeed(config.Seed, step);
                    gen.manual_seed((long)stepSeed);
                    manual_seed((long)(stepSeed >> 1));            // dropout and any other global draws
                    var idx = randint(0, trainData.shape[0], [config.BatchSize], generator: gen, device: device);
                    var batch = trainData.index_select(0, idx);
                    if (config.HorizontalFlip && batch.dim() == 4) batch = Augment.RandomHorizontalFlip(batch, gen);

                    bf16?.PullWeights();
                    var loss = (working ?? method).Loss(batch, gen);
                    lastLoss = loss.item<float>();
                    if (!double.IsFinite(lastLoss))
                        throw new TrainingDivergedException(
                            $"training stopped: the loss became {lastLoss} at step {step}; " +
                            (lastCheckpoint.Length > 0 ? $"the last good checkpoint is {lastCheckpoint} (continue with --resume after lowering --lr or raising --grad-clip)" : "no checkpoint was written yet; lower --lr"));
                    optimizer.ZeroGrad();
                    loss.backward();
                    bf16?.PushGradients();
                    double gradNorm = optimizer.ClipGradNorm(config.GradClip);
                    double lr = config.LearningRateAt(step);
                    optimizer.Step(lr);
                    ema.Update(method.Network);
                    stepsThisRun++;
                    if (step % config.LogEvery == 0 || step == config.Steps)
                        log.Write(step, lastLoss, lr, gradNorm, stepsThisRun / clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds,
                            ((working ?? method) as ITrainingDiagnostics)?.LastDiagnostics);
                }
                if (step % config.CheckpointEvery == 0 || step == config.Steps) SaveCheckpoint();
                if ((config.SampleEvery > 0 && step % config.SampleEvery == 0) || step == config.Steps)
                    WritePreview(run, method, ema, config, step);
                progress.Report(step, $"loss {lastLoss:F4}");
            }
        });

        var losses = TrainingLog.ReadLosses(run.LogPath);
        if (losses.Count > 0) Plots.LossCurve(run.LossPlotPath, losses, $"{config.Method} on {config.Data}: training loss");
        return new TrainResult(run.Root, step, lastLoss, lastCheckpoint, clock.Elapsed, config);
    }

    /// <summary>The seed of step k's generators: SplitMix64 of (seed, k), so steps are independent of history.</summary>
    public static ulong StepSeed(int seed, long step)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL;
    }

    static void WritePreview(RunFolder run, IGenerativeMethod method, ExponentialMovingAverage ema, TrainConfig config, long step)
    {
        int n = method.ItemShape.Length == 1 ? 2000 : 36;
        using var gen = new Generator((ulong)config.Seed + 7919UL, method.Network.parameters().First().device);
        ema.WithAveragedWeights(method.Network, () =>
        {
            using var samples = method.Sample(n, gen);
            SamplePreview.Write(Path.Combine(run.SamplesDir, $"step_{step:D7}.png"), samples, $"{config.Method} samples at step {step} (EMA)");
        });
        method.Network.train();
        NativeHeap.Trim();   // the preview's large temporaries would otherwise stay resident (see NativeHeap)
    }
}
