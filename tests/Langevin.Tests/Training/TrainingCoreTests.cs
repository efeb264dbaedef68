using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Langevin.Energy;
using Langevin.Cld;
using Langevin.Dmcmc;
using Langevin.Adversarial;

namespace Langevin.Tests.Training;

/// <summary>The training core: components with their own optimizers and EMAs, stages, method state, exact resume for every method.</summary>
public class TrainingCoreTests(ITestOutputHelper output)
{
    internal static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    internal static string TempDir() => Directory.CreateTempSubdirectory("langevin-core-").FullName;

    internal static Tensor Points(long n = 256, int dim = 2, double mean = 1, double std = 0.5, ulong seed = 11)
    {
        using var g = new Generator(seed);
        return randn([n, dim], generator: g) * std + mean;
    }

    /// <summary>A few steps of any registered method on 2-D points, with small networks and short chains.</summary>
    internal static TrainConfig Tiny(string method, long steps, string? denoiser = null) => new()
    {
        Settings = MethodRegistry.Get(method).DefaultConfig() switch
        {
            EbmConfig e => e with { BufferSize = 64, SgldSteps = 3, SampleSteps = 2 },
            AdversarialEbmConfig a => a with { AucWindow = 2, AucThreshold = 0.51, PgdMaxSteps = 4, SampleSteps = 2 },
            CldConfig c => c with { SamplerSteps = 2 },
            DmcmcConfig d => d with { Levels = 10, EstimatorWidth = 8, EstimatorDepth = 1 },
            GanConfig g => g with { CriticSteps = 2, R1Every = 2, DiscriminatorWarmup = 2 },
            Langevin.Guidance.NoisyClassifierConfig n => n with { Denoiser = new ComponentReference(denoiser ?? "missing"), Width = 16, Depth = 1 },
            var other => other,
        },
        Data = "test-points", Steps = steps, BatchSize = 16, CheckpointEvery = 100, SampleEvery = 0, LogEvery = 1,
        Seed = 3, Threads = 1, EmaDecay = 0.9,
        Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 },
    };

    public static IEnumerable<object[]> RegisteredMethods => MethodRegistry.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(RegisteredMethods))]
    public void AnInterruptedAndResumedRunEqualsTheUninterruptedOneBitForBit(string method)
    {
        using var data = Points();
        // a classifier learns labels at the noise levels of a (conditional) denoiser trained first
        using var labels = method == "noisy-classifier" ? (data.select(1, 0) > 1).to(ScalarType.Int64) : null;
        string? denoiser = null;
        if (labels is not null)
        {
            denoiser = TempDir();
            var ddpm = Tiny("ddpm", 2) with { Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1, Classes = 2 } };
            Trainer.Run(new TrainRequest(ddpm, denoiser, Quiet: true, Previews: false), data, labels, null);
        }
        string whole = TempDir(), resumed = TempDir();
        Trainer.Run(new TrainRequest(Tiny(method, 7, denoiser), whole, Quiet: true, Previews: false), data, labels, null);
        Trainer.Run(new TrainRequest(Tiny(method, 3, denoiser), resumed, Quiet: true, Previews: false), data, labels, null);
        Trainer.Run(new TrainRequest(Tiny(method, 7, denoiser), resumed, Resume: true, Quiet: true, Previews: false), data, labels, null);

        Assert.Equal(TrainingLog.ReadLosses(Path.Combine(whole, "log.jsonl")), TrainingLog.ReadLosses(Path.Combine(resumed, "log.jsonl")));
        using var a = SafetensorsFile.Read(new RunFolder(whole).CheckpointPath(7));
        using var b = SafetensorsFile.Read(new RunFolder(resumed).CheckpointPath(7));
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        foreach (var (key, t) in a.Tensors)
            Assert.True(Same(t, b.Tensors[key]), $"{method}: '{key}' differs after resume");
        foreach (var key in new[] { "step", "stage", "stage_step", "components", "state_numbers" })
            Assert.Equal(a.Metadata[key], b.Metadata[key]);
        output.WriteLine($"{method}: {a.Tensors.Count} tensors equal; state {a.Metadata["state_numbers"]}");
    }

    [Fact]
    public void TwoComponentsTakeTheirOwnUpdatesEmasAndStages()
    {
        using var data = Points();
        string dir = TempDir();
        var config = Tiny("gan", 5) with { Settings = new GanConfig { CriticSteps = 3, DiscriminatorWarmup = 2, R1Every = 1000 } };
        Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data);
        using var ckpt = Checkpoint.Load(new RunFolder(dir).CheckpointPath(5));
        Assert.Equal(15, ckpt.For("disc").OptimizerSteps);           // 3 critic updates in each of the 5 steps
        Assert.Equal(3, ckpt.For("gen").OptimizerSteps);             // none in the 2 warm-up steps
        Assert.Null(ckpt.For("disc").Ema);                           // EMA on G only
        Assert.Equal(3, ckpt.For("gen").EmaUpdates);
        Assert.Equal(("adversarial", 3L), (ckpt.Stage, ckpt.StageStep!.Value));
        var lines = File.ReadAllLines(Path.Combine(dir, "log.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["disc-warmup", "disc-warmup", "adversarial", "adversarial", "adversarial"], lines.Select(l => (string)l["stage"]!));
        Assert.Null(lines[0]["loss_gen"]);                            // the generator has not been optimised yet
        Assert.NotNull(lines[2]["loss_gen"]);
        Assert.Equal(lines[0]["loss"]!.GetValue<double>(), lines[0]["loss_disc"]!.GetValue<double>());   // the stage's first component is "loss"
        Assert.Equal(lines[4]["loss"]!.GetValue<double>(), lines[4]["loss_gen"]!.GetValue<double>());
        // the EMA differs from the weights, and sampling loads the EMA
        var gen = ckpt.For("gen");
        Assert.Contains(gen.Weights, kv => !Same(kv.Value, gen.Ema![kv.Key]));
        using var m = MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        ckpt.LoadForSampling(m);
        foreach (var (k, t) in m.Component("gen").Module.state_dict()) Assert.True(Same(t, gen.Ema![k]), $"gen {k} is not the EMA");
        foreach (var (k, t) in m.Component("disc").Module.state_dict()) Assert.True(Same(t, ckpt.For("disc").Weights[k]), $"disc {k} is not the weights");
    }

    [Fact]
    public void LazyR1IsAddedEveryKthStepOnly()
    {
        using var data = Points();
        string dir = TempDir();
        Trainer.Run(new TrainRequest(Tiny("gan", 9) with { Settings = new GanConfig { R1Every = 3, R1Gamma = 1 } }, dir, Quiet: true, Previews: false), data);
        var r1 = File.ReadAllLines(Path.Combine(dir, "log.jsonl")).Select(l => JsonNode.Parse(l)!["r1"]!.GetValue<double>()).ToArray();
        Assert.Equal(9, r1.Length);
        for (int step = 1; step <= 9; step++)
            Assert.True(step % 3 == 0 ? r1[step - 1] > 0 : r1[step - 1] == 0, $"r1 at step {step} is {r1[step - 1]}");
    }

    [Fact]
    public void TheGanLearnsAOneDimensionalGaussian()
    {
        using var data = Points(n: 4096, dim: 1, mean: 2, std: 0.5);
        string dir = TempDir();
        var config = Tiny("gan", 1500) with
        {
            BatchSize = 128, EmaDecay = 0.99, CheckpointEvery = 1500, LogEvery = 100, Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2 },
            Settings = new GanConfig { LatentDim = 1, GeneratorLearningRate = 2e-3, DiscriminatorLearningRate = 2e-3, R1Gamma = 0.1 },
        };
        var result = Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data);
        using var ckpt = Checkpoint.Load(result.Checkpoint);
        using var m = MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        ckpt.LoadForSampling(m);
        using var x = m.Sample(20_000, new Generator(5));
        double mean = x.mean().item<float>(), std = x.std().item<float>();
        output.WriteLine($"GAN on N(2, 0.5²): mean {mean:F3}, std {std:F3}");
        Assert.InRange(mean, 1.85, 2.15);
        Assert.InRange(std, 0.38, 0.62);
    }

    [Fact]
    public void UnderBf16EachComponentHasItsWorkingCopyAndTracksTheFp32Run()
    {
        using var data = Points();
        var config = Tiny("gan", 20) with { Settings = new GanConfig { CriticSteps = 2, R1Every = 1000 } };
        string fp32 = TempDir(), bf16 = TempDir();
        Trainer.Run(new TrainRequest(config, fp32, Quiet: true, Previews: false), data);
        Trainer.Run(new TrainRequest(config with { Bf16 = Bf16Mode.On }, bf16, Quiet: true, Previews: false), data);
        double[] Disc(string dir) => [.. File.ReadAllLines(Path.Combine(dir, "log.jsonl")).Select(l => JsonNode.Parse(l)!["loss_disc"]!.GetValue<double>())];
        var (a, b) = (Disc(fp32), Disc(bf16));
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        output.WriteLine($"largest |loss_disc fp32 − bf16| over 20 steps: {worst:G3}");
        Assert.True(worst < 0.002, $"the bf16 run drifts from the fp32 one by {worst}");   // bf16 rounding (6.6e-4 here); D's stale gradients from G's loss gave 4.3e-3
        using var ckpt = Checkpoint.Load(new RunFolder(bf16).CheckpointPath(20));
        Assert.All(ckpt.For("gen").Weights.Values.Concat(ckpt.For("disc").Weights.Values), t => Assert.Equal(ScalarType.Float32, t.dtype));
    }

    /// <summary>A logistic classifier that needs labels: it can learn them only if every batch's labels belong to its items.</summary>
    sealed class LabelledProbe(TrainConfig config, long[] itemShape) : SingleNetworkMethod(config, itemShape)
    {
        readonly nn.Module<Tensor, Tensor> _linear = nn.Linear(2, 2);
        public override nn.Module Network => _linear;
        public override bool NeedsLabels => true;
        public override int FunctionEvaluations => 1;
        public override IReadOnlyList<string> SamplerNames => ["none"];
        public override Tensor Loss(Batch batch, Generator gen) => nn.functional.cross_entropy(_linear.forward(batch.X), batch.Labels!);
        public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
            SamplerSettings? sampler = null) => zeros(n, 2);
        public double Accuracy(Tensor x, Tensor y) { using var _ = no_grad(); return _linear.forward(x).argmax(1).eq(y).to(float32).mean().item<float>(); }
    }

    [Fact]
    public void LabelsReachTheMethodWithTheirItemsAndAreRequiredWhenNeeded()
    {
        using var x = Points(n: 1000, mean: 0, std: 1);
        using var y = x.select(1, 0).gt(0).to(int64);               // the label is the sign of the first coordinate
        var config = Tiny("ncsn", 300) with { BatchSize = 64, LearningRate = 0.05, CheckpointEvery = 300 };
        var result = Trainer.Run(new TrainRequest(config, TempDir(), Quiet: true, Previews: false), x, y, (c, s) => new LabelledProbe(c, s));
        using var probe = new LabelledProbe(config, [2]);
        using (var ckpt = Checkpoint.Load(result.Checkpoint)) ckpt.LoadForSampling(probe, ema: false);
        Assert.True(probe.Accuracy(x, y) > 0.95, $"accuracy {probe.Accuracy(x, y)}");
        var e = Assert.ThrowsAny<UsageException>(() => Trainer.Run(new TrainRequest(config, TempDir(), Quiet: true), x, null, (c, s) => new LabelledProbe(c, s)));
        Assert.Contains("labelled data", e.Message);
    }

    [Fact]
    public void CheckpointsOfFormatOneStillLoadAsTheDefaultComponentWithTheirStateBuffers()
    {
        using var data = Points();
        string dir = TempDir();
        var result = Trainer.Run(new TrainRequest(Tiny("ebm", 4), dir, Quiet: true, Previews: false), data);
        using var ckpt = Checkpoint.Load(result.Checkpoint);
        // rewrite it as the one-network trainer wrote checkpoints: model.*, ema.*, optim.*, the replay buffer a module buffer
        var part = ckpt.Default;
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, t) in part.Weights) tensors["model." + k] = t;
        foreach (var (k, t) in part.Ema!) tensors["ema." + k] = t;
        foreach (var (k, t) in part.Optimizer) tensors["optim." + k] = t;
        tensors["model.replay"] = ckpt.StateTensors["replay"];
        tensors["ema.replay"] = ckpt.StateTensors["replay"];
        string legacy = Path.Combine(TempDir(), "step_0000004.safetensors");
        SafetensorsFile.Write(legacy, tensors, new Dictionary<string, string>
        {
            ["format"] = Checkpoint.LegacyFormat, ["config"] = ckpt.Config.ToJson(), ["item_shape"] = "[2]", ["step"] = "4",
            ["optimizer_steps"] = "4", ["ema_updates"] = "4", ["seed"] = "3",
        });
        using var old = Checkpoint.Load(legacy);
        Assert.True(old.IsLegacy);
        using var m = (EbmMethod)MethodRegistry.Create(old.Config, old.ItemShape);
        old.LoadForSampling(m);
        Assert.True(Same(m.Replay, ckpt.StateTensors["replay"]));
        foreach (var (k, t) in m.Network.state_dict()) Assert.True(Same(t, part.Ema[k]), $"{k} is not the EMA weight");
    }
}
