using System.Diagnostics;
using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <param name="Previews">Whether sample pictures are drawn (every --sample-every steps and at the end); off for tests and scripts that sample themselves.</param>
/// <param name="World">data-parallel ranks (<see cref="Distributed.DataParallel.FromEnvironment"/>); null: one process. Each rank
/// trains on the config's batch size, so N ranks train at N times it; rank 0 alone writes the run folder.</param>
/// <param name="Notice">receives lines worth telling the user before training starts (what <c>bf16: auto</c> chose).</param>
public sealed record TrainRequest(TrainConfig Config, string RunDir, bool Resume = false, bool Quiet = false, bool Previews = true,
    Distributed.DataParallel? World = null, Action<string>? Notice = null);

/// <param name="StepsTrained">steps taken by this call (0 when a resumed run had none left).</param>
public sealed record TrainResult(string RunDir, long Step, double LastLoss, string Checkpoint, TimeSpan Elapsed, TrainConfig Config, long StepsTrained = 0);

/// <summary>
/// The one training loop every method uses. The method declares its components and stages and drives them in its
/// <see cref="IGenerativeMethod.Step"/>; the trainer gives each trainable component an Adam/AdamW optimizer (own settings,
/// linear warm-up, gradient clipping), an EMA and (under --bf16) a bfloat16 working copy, and owns the rest: atomic
/// checkpoints every N steps keyed by component plus the method state, exact resume (mid-stage too), a stop with a clear
/// message on a NaN/Inf loss, RUN/config.json, RUN/log.jsonl, periodic sample pictures and a loss plot.
///
/// Reproducibility: all randomness of step k (the batches, the noise, dropout) is drawn from generators seeded with
/// f(seed, k), so a resumed run reproduces the uninterrupted one exactly at the same seed and thread count.
/// </summary>
public static class Trainer
{
    public static TrainResult Run(TrainRequest request, Tensor data, Func<TrainConfig, long[], IGenerativeMethod>? create = null) =>
        Run(request, data, null, create);

    /// <summary>Trains on a dataset, with its labels when it has them (a method that needs labels refuses data without).</summary>
    public static TrainResult Run(TrainRequest request, Dataset data, Func<TrainConfig, long[], IGenerativeMethod>? create = null) =>
        Run(request, data.X, data.Labels, create);

    public static TrainResult Run(TrainRequest request, Tensor data, Tensor? labels, Func<TrainConfig, long[], IGenerativeMethod>? create)
    {
        create ??= MethodRegistry.Create;
        var run = new RunFolder(request.RunDir);
        var config = request.Config;
        Checkpoint? resumeFrom = null;
        long? resumedSteps = null;   // the step count the resumed run was asked for (its last preview is owed at that step)
        if (request.Resume)
        {
            if (!File.Exists(run.ConfigPath)) throw SettingException.About("resume", true, $"{run.ConfigPath} not found; start a new run instead");
            var latest = run.LatestCheckpoint() ?? throw SettingException.About("resume", true, $"no checkpoint in {run.CheckpointsDir}; start a new run instead");
            resumeFrom = Checkpoint.Load(latest.Path);
            if (config.Steps < resumeFrom.Step)
            {
                long trained = resumeFrom.Step;
                resumeFrom.Dispose();
                throw SettingException.Sentence("steps", config.Steps, $"{config.Steps} is below the {trained} steps {run.Root} has trained; give at least that many to continue it");
            }
            resumedSteps = resumeFrom.Config.Steps;
            // The stored, resolved config governs; the request may extend the run and change how often it reports.
            config = resumeFrom.Config with
            {
                Steps = config.Steps, CheckpointEvery = config.CheckpointEvery, SampleEvery = config.SampleEvery,
                LogEvery = config.LogEvery, Threads = config.Threads, Bf16 = config.Bf16,
                // auto keeps the decision it made when the run started: the same arithmetic as before the stop
                Bf16Probe = config.Bf16 == Bf16Mode.Auto ? resumeFrom.Config.Bf16Probe : null,
            };
        }
        else if (run.LatestCheckpoint() is not null)
            throw SettingException.About("out", run.Root, $"{run.Root} already holds a run with checkpoints; continue it (langevin train --out {run.Root} --resume) or choose another folder");
        config.Validate();

        ComputeDevice.SetThreads(config.Threads);
        var device = ComputeDevice.Resolve(config.Device);
        long[] itemShape = data.shape[1..];
        if (resumeFrom is not null && !resumeFrom.ItemShape.SequenceEqual(itemShape))
            throw SettingException.About("resume", true, $"the data's items are [{string.Join(", ", itemShape)}], the run was trained on [{string.Join(", ", resumeFrom.ItemShape)}]");

        if (resumeFrom is null)
        {
            using var resolveGen = new Generator((ulong)config.Seed);
            config = MethodRegistry.Resolve(config, data, resolveGen);
        }

        manual_seed(config.Seed);                                   // deterministic initial weights
        using var method = create(config, itemShape);
        if (method.NeedsLabels && labels is null)
            throw new UsageException($"method {config.Method} trains on labelled data; {config.Data} has no class labels (use e.g. fashion-mnist, shapes:32, images:DIR with one sub-folder per class, or npy:FILE,labels=LABELS.npy)");
        CheckClasses(config, method, labels);
        var world = request.World is { Size: > 1 } w ? w : null;
        bool root = world is null || world.IsRoot;
        method.To(device);
        using var trainData = data.to(float32).to(device);
        using var trainLabels = labels?.to(int64).to(device);
        var plan = new StagePlan(method.Stages, method.Components.Where(c => c.Trainable).Select(c => c.Name).ToHashSet());
        if (config.Bf16 == Bf16Mode.Auto && config.Bf16Probe is null)
        {
            config = config with { Bf16Probe = ProbeBf16(method, create, config, itemShape, device, trainData, trainLabels, plan, world) };
            if (root) request.Notice?.Invoke(config.Bf16Probe.Describe());
        }
        // everything is checked: only now does the run folder appear (a refused command leaves nothing behind)
        if (root)
        {
            Directory.CreateDirectory(run.Root);
            AtomicFile.WriteAllText(run.ConfigPath, config.ToJson());
        }
        // bf16: forward and backward in a bfloat16 working instance; optimizers, EMAs and checkpoints on the fp32 masters.
        using var working = config.TrainsInBf16 ? create(config, itemShape) : null;
        working?.To(device);
        var parts = TrainedComponent.AllOf(method, working, config, world);
        using var disposeParts = new DisposeAll(parts);
        long start = 0;
        string lastCheckpoint = "";
        if (resumeFrom is not null)
        {
            using (resumeFrom)
            {
                foreach (var p in parts) p.Restore(resumeFrom.For(p.Name), resumeFrom, method.State);
                resumeFrom.LoadState(method);
                working?.State.CopyFrom(method.State);
                start = resumeFrom.Step;
                if (resumeFrom.Stage is { } stage && (plan.At(start) is var at) && (at.Stage.Name != stage || at.StageStep != resumeFrom.StageStep))
                    throw new DataException($"{resumeFrom.Path}: written at step {start} of stage {stage}, but this method places step {start} in stage {at.Stage.Name}; it was written by another version of the method");
                lastCheckpoint = resumeFrom.Path;
            }
        }

        if (world is not null)
            foreach (var p in parts) p.BroadcastFromRoot(world);   // every rank starts from rank 0's weights (fresh or resumed)
        // the per-item draws of a method that makes them all through ItemDraws are sliced by rank (exactly one process at N·B);
        // any other method's ranks draw independently, from a generator seeded by (seed, step, rank)
        bool sliced = world is not null && method is IItemSlicedDraws;
        using var log = root ? TrainingLog.Open(run.LogPath, resumeFrom is null ? null : start) : null;
        using var gen = new Generator((ulong)config.Seed, device);
        var context = new Context(config, parts, trainData, trainLabels, gen, () => lastCheckpoint, world);
        var stepper = working ?? method;
        var clock = Stopwatch.StartNew();
        long step = start;

        void SaveCheckpoint()
        {
            if (!root) return;
            string path = run.CheckpointPath(step);
            if (working is not null) method.State.CopyFrom(working.State);
            Checkpoint.Save(path, config, itemShape, step, plan.At(Math.Max(step, 1)), parts.Select(p => p.Snapshot), method.State);
            lastCheckpoint = path;
        }

        bool previews = root && request.Previews && method is not Guidance.IClassifierMethod;
        // a stop between a checkpoint and its preview (kill -9 while it sampled): the resumed run draws the picture it owes
        if (previews && resumedSteps is { } owedAt && start > 0 && ((config.SampleEvery > 0 && start % config.SampleEvery == 0) || start == owedAt)
            && !File.Exists(PreviewPath(run, start)))
        {
            if (working is not null) method.State.CopyFrom(working.State);
            WritePreview(run, method, parts, config, start);
        }

        Action<Action<IProgressSink>> display = root ? work => ProgressDisplay.Run("train", config.Steps, start, request.Quiet, "it", work) : work => work(ProgressDisplay.None);
        display(progress =>
        {
            foreach (var p in parts) p.Train();
            long stepsThisRun = 0;
            while (step < config.Steps)
            {
                step++;
                using (var scope = NewDisposeScope())
                {
                    ulong stepSeed = StepSeed(config.Seed, step);
                    if (world is not null && !sliced) stepSeed = Seeds.Of((long)stepSeed, world.Rank, Seeds.Ranks);
                    gen.manual_seed((long)stepSeed);
                    manual_seed((long)(stepSeed >> 1));            // dropout and any other global draws
                    context.Begin(step, plan.At(step));
                    using (sliced ? ItemDraws.Use(new ItemSlice(world!.Rank, world.Size)) : null)
                        stepper.Step(context, context.NextBatch());
                    stepsThisRun++;
                    if (log is not null && (step % config.LogEvery == 0 || step == config.Steps))
                        log.Write(step, context.LoggedLoss, context.LoggedLearningRate, context.LoggedGradNorm, stepsThisRun / clock.Elapsed.TotalSeconds,
                            clock.Elapsed.TotalSeconds, context.Diagnostics((stepper as ITrainingDiagnostics)?.LastDiagnostics),
                            plan.Stages.Count > 1 ? context.Position.Stage.Name : null);
                }
                if (step % config.CheckpointEvery == 0 || step == config.Steps) SaveCheckpoint();
                if (previews && ((config.SampleEvery > 0 && step % config.SampleEvery == 0) || step == config.Steps))
                {
                    if (working is not null) method.State.CopyFrom(working.State);
                    WritePreview(run, method, parts, config, step);
                }
                progress.Report(step, context.Status);
            }
        });

        world?.Barrier();   // the last checkpoint is written before any rank reports the run done
        if (!root) return new TrainResult(run.Root, step, context.LoggedLoss, lastCheckpoint, clock.Elapsed, config, step - start);
        var losses = TrainingLog.ReadLosses(run.LogPath);
        if (losses.Count > 0) Plots.LossCurve(run.LossPlotPath, losses, $"{config.Method} on {config.Data}: training loss");
        // a resumed run with no steps left trained nothing this time: its last loss is the log's
        double lastLoss = step == start && losses.Count > 0 ? losses[^1].Loss : context.LoggedLoss;
        return new TrainResult(run.Root, step, lastLoss, lastCheckpoint, clock.Elapsed, config, step - start);
    }

    /// <summary>
    /// <c>bf16: auto</c>: times the method's first step in fp32 and in bf16 mixed precision (<see cref="Bf16Probe.Measure"/>) on a
    /// bf16 working instance of its own, with gradients computed and dropped — no optimizer step, no EMA — and the networks'
    /// buffers (e.g. spectral-norm vectors) and the method state put back, so the run that follows is the one it would have
    /// been with the chosen precision given from the start.
    /// </summary>
    static Bf16Probe ProbeBf16(IGenerativeMethod method, Func<TrainConfig, long[], IGenerativeMethod> create, TrainConfig config, long[] itemShape,
        Device device, Tensor data, Tensor? labels, StagePlan plan, Distributed.DataParallel? world)
    {
        if (MethodRegistry.Of(config.Settings).Bf16Refusal is { } why) return Bf16Probe.Refused($"the {config.Method} method does not train in bf16: {why}");
        if (method.Components.FirstOrDefault(c => c.Trainable && !BFloat16WorkingCopy.CanWrap(c.Module)) is { } other)
            return Bf16Probe.Refused($"the {config.Method} method's '{other.Name}' network has no bf16 working copy");
        using var working = create(config, itemShape);
        working.To(device);
        working.State.CopyFrom(method.State);
        var saved = method.Components.Select(c => (c.Module, State: c.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone()))).ToList();
        using var savedState = method.State.Clone();
        var parts = TrainedComponent.AllOf(method, working, config, null);
        using var disposeParts = new DisposeAll(parts);
        using var gen = new Generator((ulong)config.Seed, device);
        var context = new Context(config, parts, data, labels, gen, () => "", null, probing: true);
        foreach (var p in parts) p.Train();
        void Step(bool bf16)
        {
            using var scope = NewDisposeScope();
            ulong seed = StepSeed(config.Seed, 1);
            gen.manual_seed((long)seed);
            manual_seed((long)(seed >> 1));
            context.Begin(1, plan.At(1));
            (bf16 ? working : method).Step(context, context.NextBatch());
        }
        var probe = Bf16Probe.Measure(Step, agree: world is null ? null : world.Mean);
        using (no_grad())
        {
            foreach (var (module, state) in saved)
                foreach (var (name, t) in module.state_dict())
                {
                    t.copy_(state[name]);
                    state[name].Dispose();
                }
        }
        method.State.CopyFrom(savedState);
        return probe;
    }

    /// <summary>The seed of step k's generators: SplitMix64 of (seed, k), so steps are independent of history.</summary>
    public static ulong StepSeed(int seed, long step) => Seeds.Of(seed, step, Seeds.Steps);

    static string PreviewPath(RunFolder run, long step) => Path.Combine(run.SamplesDir, $"step_{step:D7}.png");

    static void WritePreview(RunFolder run, IGenerativeMethod method, IReadOnlyList<TrainedComponent> parts, TrainConfig config, long step)
    {
        int n = method.ItemShape.Length == 1 ? 2000 : 36;
        using var gen = new Generator((ulong)config.Seed + 7919UL, method.Device());
        void Sample()
        {
            using var samples = method.Sample(n, gen);
            SamplePreview.Write(PreviewPath(run, step), samples, $"{config.Method} samples at step {step} (EMA)");
        }
        // every component with an EMA samples with its averaged weights
        Action action = Sample;
        foreach (var p in parts.Where(p => p.Ema is not null).Reverse())
        {
            var inner = action;
            action = () => p.Ema!.WithAveragedWeights(p.Master, inner);
        }
        action();
        foreach (var p in parts) p.Train();
        NativeHeap.Trim();   // the preview's large temporaries would otherwise stay resident (see NativeHeap)
    }

    /// <summary>A trainable component at run time: its fp32 master module, optimizer, EMA and optional bf16 working copy; a
    /// component that shares another's weights (<see cref="Component.SharesWeightsOf"/>) has the optimizer alone and uses its
    /// owner's working copy.</summary>
    sealed class TrainedComponent : IDisposable
    {
        readonly BFloat16WorkingCopy? _bf16;
        readonly nn.Module? _working;
        readonly bool _sharesWeights;

        readonly Distributed.DataParallel? _world;

        /// <summary>Every trainable component of <paramref name="method"/> in declared order (owners are built before the components that
        /// share their weights, which take the owner's working copy).</summary>
        public static List<TrainedComponent> AllOf(IGenerativeMethod method, IGenerativeMethod? working, TrainConfig config, Distributed.DataParallel? world)
        {
            var parts = new List<TrainedComponent>();
            try
            {
                foreach (var c in method.Components.Where(c => c.HoldsWeights))
                    parts.Add(new TrainedComponent(c, working?.Component(c.Name), config, world, null));
                foreach (var c in method.Components.Where(c => c.Trainable && c.SharesWeightsOf is not null))
                {
                    var owner = parts.FirstOrDefault(p => p.Name == c.SharesWeightsOf && !p._sharesWeights)
                        ?? throw new InvalidOperationException($"the {config.Method} method's '{c.Name}' shares the weights of '{c.SharesWeightsOf}', which is no trainable component holding its own");
                    if (!ReferenceEquals(owner.Master, c.Module) || c.Ema)
                        throw new InvalidOperationException($"the {config.Method} method's '{c.Name}' must be the very network of '{owner.Name}', without an EMA of its own");
                    parts.Add(new TrainedComponent(c, null, config, world, owner));
                }
                // declared order: the first declared component's loss is the run's logged loss
                var order = method.Components.Select(c => c.Name).ToList();
                parts.Sort((a, b) => order.IndexOf(a.Name).CompareTo(order.IndexOf(b.Name)));
                return parts;
            }
            catch
            {
                foreach (var p in parts) p.Dispose();
                throw;
            }
        }

        TrainedComponent(Component spec, Component? working, TrainConfig config, Distributed.DataParallel? world, TrainedComponent? owner)
        {
            _world = world;
            Name = spec.Name;
            Master = spec.Module;
            Settings = spec.Optimizer ?? OptimizerSettings.From(config);
            Settings.Validate(Name);
            if (owner is not null)
                (_sharesWeights, _bf16, _working) = (true, owner._bf16, owner._working);
            else if (working is not null)
            {
                _working = working.Module;
                _bf16 = BFloat16WorkingCopy.CanWrap(working.Module)
                    ? new BFloat16WorkingCopy(Master, working.Module)
                    : throw new SettingException("bf16", true, $"is not available for the {config.Method} method's '{Name}' network");
            }
            Optimizer = Settings.Create(Master.named_parameters().Select(p => (p.name, p.parameter)));
            Ema = spec.Ema && owner is null ? new ExponentialMovingAverage(Master, spec.EmaDecay ?? config.EmaDecay, config.EmaWarmup) : null;
        }

        public string Name { get; }
        public nn.Module Master { get; }
        public OptimizerSettings Settings { get; }
        public AdamOptimizer Optimizer { get; }
        public ExponentialMovingAverage? Ema { get; }
        public double LastLoss { get; private set; } = double.NaN;
        public double LastGradNorm { get; private set; } = double.NaN;
        public double LastLearningRate { get; private set; } = double.NaN;
        public ComponentSnapshot Snapshot => new(Name, Master, Ema, Optimizer, _sharesWeights);

        /// <summary>Rank 0's weights to every rank (their EMAs and optimizer moments start equal: from the same seed or checkpoint).</summary>
        public void BroadcastFromRoot(Distributed.DataParallel world)
        {
            if (_sharesWeights) return;   // the owner's broadcast carries them
            world.Broadcast(Master);
            _bf16?.PullWeights();
        }

        public void Train()
        {
            Master.train();
            _working?.train();
        }

        public void Restore(ComponentCheckpoint part, Checkpoint from, MethodState state)
        {
            if (!_sharesWeights) Checkpoint.LoadInto(Master, from.WithoutLegacyState(part.Weights, Master, state), from.Path);
            if (Ema is not null)
                Ema.Load(part.Ema ?? throw new DataException($"{from.Path}: component '{Name}' has no EMA in the checkpoint, but the method keeps one"), part.EmaUpdates, from.Path);
            Optimizer.LoadState(part.Optimizer, part.OptimizerSteps, from.Path);
            _bf16?.PullWeights();
        }

        /// <summary>The gradients of <paramref name="loss"/> computed (through the working copy under bf16) and dropped: a step's cost without its update.</summary>
        public void BackwardOnly(Tensor loss)
        {
            Optimizer.ZeroGrad();
            _bf16?.ZeroWorkingGradients();
            loss.backward();
            _bf16?.PushGradients();
            Optimizer.ZeroGrad();
        }

        /// <summary>Zero, backward, (bf16: push), clip, step, EMA, (bf16: pull). Returns the gradient norm.</summary>
        public double Update(Tensor loss, double lossValue)
        {
            Optimizer.ZeroGrad();
            _bf16?.ZeroWorkingGradients();          // a GAN's G loss also reaches D's working copy
            loss.backward();
            _bf16?.PushGradients();
            _world?.AverageGradients(Master.parameters());     // one flat allreduce: every rank steps with the same mean gradient
            double gradNorm = Optimizer.ClipGradNorm(Settings.GradClip);
            double lr = Settings.LearningRateAt(Optimizer.StepCount + 1);
            Optimizer.Step(lr);
            Ema?.Update(Master);
            _bf16?.PullWeights();
            (LastLoss, LastGradNorm, LastLearningRate) = (lossValue, gradNorm, lr);
            return gradNorm;
        }

        public void Dispose()
        {
            if (!_sharesWeights) _bf16?.Dispose();
            Optimizer.Dispose();
            Ema?.Dispose();
        }
    }

    sealed class DisposeAll(List<TrainedComponent> parts) : IDisposable
    {
        public void Dispose() { foreach (var p in parts) p.Dispose(); }
    }

    /// <summary>The trainer's side of <see cref="ITrainingContext"/>; <paramref name="probing"/>: updates only compute gradients (<see cref="ProbeBf16"/>).</summary>
    sealed class Context(TrainConfig config, IReadOnlyList<TrainedComponent> parts, Tensor data, Tensor? labels, Generator gen, Func<string> lastCheckpoint,
        Distributed.DataParallel? world, bool probing = false) : ITrainingContext
    {
        readonly Dictionary<string, TrainedComponent> _byName = parts.ToDictionary(p => p.Name);

        public long Step { get; private set; }
        public StagePosition Position { get; private set; } = new(0, TrainingStage.Whole, 0);
        public TrainingStage Stage => Position.Stage;
        public long StageStep => Position.StageStep;
        public Generator Generator => gen;

        public void Begin(long step, StagePosition position) => (Step, Position) = (step, position);

        public Batch NextBatch()
        {
            var idx = ItemDraws.Randint(0, data.shape[0], config.BatchSize, gen, data.device);
            var x = data.index_select(0, idx);
            if (config.HorizontalFlip && x.dim() == 4) x = Augment.RandomHorizontalFlip(x, gen);
            return new Batch(x, labels?.index_select(0, idx));
        }

        public double Optimize(string component, Tensor loss)
        {
            if (!_byName.TryGetValue(component, out var part))
                throw new InvalidOperationException($"the {config.Method} method optimised '{component}', which is no trainable component of it ({string.Join(", ", _byName.Keys)})");
            if (!Stage.TrainsComponent(component))
                throw new InvalidOperationException($"the {config.Method} method optimised '{component}' in stage {Stage.Name}, which does not train it");
            double value = loss.item<float>();
            if (world is not null) value = world.Mean(value);   // the logged loss is the whole batch's; a NaN on any rank stops all
            if (!double.IsFinite(value))
                Stop($"{(parts.Count == 1 ? "the loss" : $"the loss of {component}")} became {value} at step {Step}", "lowering the learning rate or raising the gradient clip");
            if (probing)
            {
                part.BackwardOnly(loss);
                return double.NaN;
            }
            return part.Update(loss, value);
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        public void Stop(string reason) => Stop(reason, null);

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        void Stop(string reason, string? remedy)
        {
            string last = lastCheckpoint();
            throw new TrainingDivergedException($"training stopped: {reason}; " + (last.Length > 0
                ? $"the last good checkpoint is {last}" + (remedy is null ? "" : $" (resume it after {remedy})")
                : "no checkpoint was written yet" + (remedy is null ? "" : "; lower the learning rate")));
        }

        /// <summary>The component whose loss is the run's "loss": the first declared that trains in the current stage.</summary>
        TrainedComponent Primary => parts.FirstOrDefault(p => Stage.TrainsComponent(p.Name)) ?? parts[0];

        public double LoggedLoss => Primary.LastLoss;
        public double LoggedLearningRate => Primary.LastLearningRate;
        public double LoggedGradNorm => Primary.LastGradNorm;

        /// <summary>The method's diagnostics, plus each component's loss, lr and gradient norm when there are several.</summary>
        public IReadOnlyDictionary<string, double>? Diagnostics(IReadOnlyDictionary<string, double>? method)
        {
            if (parts.Count == 1) return method;
            var d = new Dictionary<string, double>(method ?? new Dictionary<string, double>());
            foreach (var p in parts)
            {
                d[$"loss_{p.Name}"] = p.LastLoss;
                d[$"lr_{p.Name}"] = p.LastLearningRate;
                d[$"grad_norm_{p.Name}"] = p.LastGradNorm;
            }
            return d;
        }

        public string Status => parts.Count == 1
            ? $"loss {LoggedLoss:F4}"
            : string.Join(" ", parts.Select(p => $"{p.Name} {p.LastLoss:F4}")) + (Position.Index > 0 || Stage != TrainingStage.Whole ? $" [{Stage.Name}]" : "");
    }

    /// <summary>A class-conditional run: a method that can be conditioned, and labels in 0..K−1.</summary>
    static void CheckClasses(TrainConfig config, IGenerativeMethod method, Tensor? labels)
    {
        int k = config.Network.Classes;
        if (k == 0) return;
        if (method is not (IClassConditionalMethod or Guidance.IClassifierMethod))
            throw SettingException.About("network.classes", k, $"class-conditional networks are trained by ddpm, edm, sde and noisy-classifier, not by {config.Method}");
        long max = labels!.max().item<long>(), min = labels.min().item<long>();
        if (min < 0 || max >= k)
            throw SettingException.About("network.classes", k, $"{config.Data} has labels {min}..{max}: the network needs at least {max + 1} classes");
    }
}
