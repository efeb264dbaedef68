using Langevin.Adversarial;
using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

public class GanMethodTests(ITestOutputHelper output)
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-gan-").FullName;

    static Tensor Points(double mean, long n = 512)
    {
        using var g = new Generator(11);
        return randn([n, 2], generator: g) * 0.1 + mean;
    }

    static TrainConfig Small(GanConfig settings, long steps) => new()
    {
        Settings = settings, Data = "test-points", Steps = steps, BatchSize = 32, CheckpointEvery = 10, SampleEvery = 0, LogEvery = 1,
        Seed = 1, Threads = 1, GradClip = 0, Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2 },
    };

    [Theory]
    [InlineData("ns", 1, false, 0.5, 0.9, 2e-4, 1e-3)]
    [InlineData("hinge", 1, true, 0.5, 0.9, 2e-4, 1e-3)]
    [InlineData("wgan-gp", 5, false, 0, 0.9, 1e-4, 1e-4)]
    public void EachLossResolvesItsUsualSettingsIntoTheRunsConfig(string loss, int critic, bool sn, double b1, double b2, double lrG, double lrD)
    {
        using var data = Points(1);
        string dir = TempDir();
        var r = Trainer.Run(new TrainRequest(Small(new GanConfig { Loss = loss }, 2), dir, Quiet: true, Previews: false), data);
        var g = TrainConfig.FromJson(File.ReadAllText(Path.Combine(dir, "config.json")), "config.json").SettingsAs<GanConfig>();
        Assert.Equal((critic, sn, b1, b2, lrG, lrD, 8), (g.CriticSteps!.Value, g.SpectralNorm!.Value, g.Beta1!.Value, g.Beta2!.Value,
            g.GeneratorLearningRate!.Value, g.DiscriminatorLearningRate!.Value, g.LatentDim!.Value));
        using var ckpt = Checkpoint.Load(r.Checkpoint);
        Assert.Equal(2 * critic, ckpt.For("disc").OptimizerSteps);
        Assert.Equal(2, ckpt.For("gen").OptimizerSteps);
        var log = File.ReadAllLines(Path.Combine(dir, "log.jsonl"));
        Assert.Contains(loss == "wgan-gp" ? "\"gp\"" : "\"r1\"", log[0]);
    }

    /// <summary>Data far from where G starts and a fast D: D separates them perfectly within a few steps, and training stops with one line.</summary>
    [Fact]
    public void ADiscriminatorThatHasWonStopsTrainingWithOneLine()
    {
        using var data = Points(25);
        string dir = TempDir();
        var settings = new GanConfig { R1Gamma = 0, DiscriminatorLearningRate = 0.05, GeneratorLearningRate = 1e-7, CollapsePatience = 15 };
        var e = Assert.Throws<TrainingDivergedException>(() => Trainer.Run(new TrainRequest(Small(settings, 400), dir, Quiet: true, Previews: false), data));
        output.WriteLine(e.Message);
        Assert.Contains("the discriminator won", e.Message);
        Assert.Contains("for 15 steps", e.Message);
        Assert.Contains("last good checkpoint is", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        // the same run with the watch off trains on, and so does a D-only warm-up (G has not started: D may win there)
        var off = settings with { CollapsePatience = 0 };
        Assert.Equal(60, Trainer.Run(new TrainRequest(Small(off, 60), TempDir(), Quiet: true, Previews: false), data).Step);
        var warmup = settings with { DiscriminatorWarmup = 100 };
        Assert.Equal(60, Trainer.Run(new TrainRequest(Small(warmup, 60), TempDir(), Quiet: true, Previews: false), data).Step);
    }

    [Fact]
    public void SamplingIsOneGeneratorCallOnTheGivenLatents()
    {
        using var data = Points(1);
        var r = Trainer.Run(new TrainRequest(Small(new GanConfig(), 3), TempDir(), Quiet: true, Previews: false), data);
        using var m = TrainedRuns.OpenCheckpoint(r.Checkpoint);
        Assert.Equal(1, m.FunctionEvaluationsWith(null));
        using var z = randn([5, 8], generator: new Generator(1));
        using var a = m.Sample(5, new Generator(2), noise: z);
        using var b = m.Sample(5, new Generator(3), noise: z);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.Equal([5L, 2L], a.shape);
        Assert.Throws<SettingException>(() => m.Sample(5, new Generator(2), noise: randn([5, 3])));
        Assert.Equal("sampler", Assert.Throws<SettingException>(() => m.Sample(5, new Generator(2), sampler: new SamplerSettings("ddim"))).Setting);
        Assert.Throws<UsageException>(() => m.Sample(5, new Generator(2), sampler: new SamplerSettings(Steps: 4)));
    }

    [Theory]
    [InlineData("lsgan", "gan.loss")]
    [InlineData("-1", "gan.r1_gamma")]
    public void BadSettingsAreRefusedNamingTheSetting(string value, string setting)
    {
        var s = setting == "gan.loss" ? new GanConfig { Loss = value } : new GanConfig { R1Gamma = double.Parse(value) };
        Assert.Equal(setting, Assert.Throws<SettingException>(s.Validate).Setting);
    }
}
