using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Training;

public class TrainerTests
{
    static TrainConfig Tiny(long steps) => new()
    {
        Data = "test-gaussian",
        Steps = steps,
        BatchSize = 64,
        LearningRate = 1e-3,
        CheckpointEvery = 20,
        SampleEvery = 0,
        LogEvery = 1,
        Seed = 5,
        Threads = 1,
        Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2, Dropout = 0 },
        Settings = new NcsnConfig { SigmaMax = 3, SigmaMin = 0.05, Levels = 6, StepsPerLevel = 2, StepSize = 1e-4 },
    };

    static Tensor Data() { using var g = new Generator(11); return randn([500, 2], generator: g) * 0.5 + 1; }

    static string TempDir() => Directory.CreateTempSubdirectory("langevin-test-").FullName;

    [Fact]
    public void ResumedRunReproducesTheUninterruptedRunExactly()
    {
        using var data = Data();
        string a = TempDir(), b = TempDir();
        Trainer.Run(new TrainRequest(Tiny(40), a, Quiet: true), data);
        Trainer.Run(new TrainRequest(Tiny(20), b, Quiet: true), data);
        Trainer.Run(new TrainRequest(Tiny(40), b, Resume: true, Quiet: true), data);

        var la = TrainingLog.ReadLosses(Path.Combine(a, "log.jsonl"));
        var lb = TrainingLog.ReadLosses(Path.Combine(b, "log.jsonl"));
        Assert.Equal(40, la.Count);
        Assert.Equal(la, lb);
        using var ca = Checkpoint.Load(new RunFolder(a).CheckpointPath(40));
        using var cb = Checkpoint.Load(new RunFolder(b).CheckpointPath(40));
        foreach (var (k, t) in ca.Ema) Assert.True(t.eq(cb.Ema[k]).all().item<bool>(), $"EMA weight {k} differs after resume");
        foreach (var (k, t) in ca.Optimizer) Assert.True(t.eq(cb.Optimizer[k]).all().item<bool>(), $"optimizer state {k} differs after resume");
        Assert.Equal(40, cb.OptimizerSteps);
        Assert.True(File.Exists(Path.Combine(b, "loss.png")));
        Assert.True(File.Exists(Path.Combine(b, "samples", "step_0000040.png")));
    }

    [Fact]
    public void ANewRunRefusesAFolderThatHoldsCheckpoints()
    {
        using var data = Data();
        string dir = TempDir();
        Trainer.Run(new TrainRequest(Tiny(20), dir, Quiet: true), data);
        var e = Assert.ThrowsAny<UsageException>(() => Trainer.Run(new TrainRequest(Tiny(20), dir, Quiet: true), data));
        Assert.Equal("out", Assert.IsType<SettingException>(e).Setting);
        Assert.Contains("--resume", e.Message);       // the advice quotes the command that continues it
    }

    [Fact]
    public void NanLossStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint()
    {
        using var data = Data();
        string dir = TempDir();
        var config = Tiny(30) with { CheckpointEvery = 5 };
        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.Run(new TrainRequest(config, dir, Quiet: true), data,
            (c, shape) => new NanAfter(new NcsnMethod(c, shape), 7)));
        Assert.Contains("step 7", e.Message);
        Assert.Contains("step_0000005.safetensors", e.Message);
        var run = new RunFolder(dir);
        Assert.Equal(5, run.LatestCheckpoint()!.Value.Step);
        using var ckpt = Checkpoint.Load(run.LatestCheckpoint()!.Value.Path);   // intact and loadable
        Assert.Empty(Directory.GetFiles(run.CheckpointsDir, "*.tmp"));
    }

    sealed class NanAfter(NcsnMethod inner, long badStep) : SingleNetworkMethod(inner.Config, inner.ItemShape)
    {
        long _calls;
        public override nn.Module Network => inner.Network;
        public override int FunctionEvaluations => inner.FunctionEvaluations;
        public override Tensor Loss(Batch batch, Generator gen) => ++_calls >= badStep ? inner.Loss(batch, gen) * double.NaN : inner.Loss(batch, gen);
        public override IReadOnlyList<string> SamplerNames => inner.SamplerNames;
        public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
            SamplerSettings? sampler = null) => inner.Sample(n, gen, noise, onStep, onFrame, sampler);
    }

    [Fact]
    public void AdamMatchesTorchSharpsAdam()
    {
        manual_seed(0);
        var a = nn.Linear(4, 3);
        var b = nn.Linear(4, 3);
        b.load_state_dict(a.state_dict());
        using var ours = new AdamOptimizer(a.named_parameters().Select(p => (p.name, p.parameter)), weightDecay: 0.01);
        var theirs = optim.Adam(b.parameters(), lr: 0.01, weight_decay: 0.01);
        for (int i = 0; i < 5; i++)
        {
            using var x = randn(8, 4);
            ours.ZeroGrad();
            a.call(x).square().sum().backward();
            ours.Step(0.01);
            theirs.zero_grad();
            b.call(x).square().sum().backward();
            theirs.step();
        }
        foreach (var (name, p) in a.named_parameters())
            Assert.True(p.allclose(b.get_parameter(name)!, rtol: 1e-5, atol: 1e-6), $"{name} differs from torch's Adam");
    }

    [Fact]
    public void EmaWarmupFollowsTheFormula()
    {
        var m = nn.Linear(1, 1, hasBias: false);
        using var ema = new ExponentialMovingAverage(m, 0.999, warmup: true);
        Assert.Equal(0.1, ema.CurrentDecay, 12);            // (1 + 0)/(10 + 0)
        using (no_grad()) m.weight!.fill_(1);
        double before = ema.Shadow["weight"].item<float>();
        ema.Update(m);
        Assert.Equal(0.1 * before + 0.9, ema.Shadow["weight"].item<float>(), 5);
        Assert.Equal(2.0 / 11.0, ema.CurrentDecay, 12);
    }

    [Fact]
    public void EmaAveragesParametersAndCopiesBuffers()
    {
        var m = nn.BatchNorm1d(2);                          // parameters weight, bias; buffers running_mean, running_var, …
        using var ema = new ExponentialMovingAverage(m, 0.9, warmup: false);
        using (no_grad()) { m.weight!.fill_(3); m.running_mean!.fill_(5); }
        ema.Update(m);
        Assert.Equal(0.9 * 1 + 0.1 * 3, ema.Shadow["weight"][0].item<float>(), 5);   // averaged from its initial 1
        Assert.Equal(5f, ema.Shadow["running_mean"][0].item<float>());               // copied (a replay buffer must be)
    }

    [Fact]
    public void StepSeedsDifferAcrossStepsAndSeeds()
    {
        var seeds = Enumerable.Range(0, 1000).Select(k => Trainer.StepSeed(0, k)).Concat(Enumerable.Range(0, 1000).Select(k => Trainer.StepSeed(1, k)));
        Assert.Equal(2000, seeds.Distinct().Count());
    }
}
