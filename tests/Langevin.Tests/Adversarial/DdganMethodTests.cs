using Langevin.Adversarial;
using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

public class DdganMethodTests(ITestOutputHelper output)
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-ddgan-").FullName;

    static TrainConfig Small(DdganConfig settings, int steps) => new()
    {
        Settings = settings, Data = "test-points", Steps = steps, BatchSize = 128, CheckpointEvery = steps, SampleEvery = 0, LogEvery = 50,
        Seed = 1, Threads = 1, GradClip = 0, EmaDecay = 0.99, Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2 },
    };

    /// <summary>A real pair of the chain is (x_t, x_{t+1}) at one t per item; G's x_t is a posterior draw around its x₀ given the same x_{t+1}.</summary>
    [Fact]
    public void TheDiscriminatorJudgesXtGivenTheSameXtPlusOneAndT()
    {
        using var data = randn([64, 2], generator: new Generator(1));
        var r = Trainer.Run(new TrainRequest(Small(new DdganConfig { DenoisingSteps = 4 }, 2), TempDir(), Quiet: true, Previews: false), data);
        using var m = (DdganMethod)TrainedRuns.OpenCheckpoint(r.Checkpoint);
        using var g = new Generator(3);
        var real = m.Real(new Batch(data), g);
        Assert.Equal([64L, 2L], real.X.shape);
        Assert.Equal([64L, 2L], real.Given!.shape);
        Assert.InRange(real.Time!.min().item<long>(), 0, 3);
        Assert.InRange(real.Time!.max().item<long>(), 0, 3);
        using var fake = m.Fake(real, g);
        Assert.Equal(real.X.shape, fake.shape);
        // at t = 0 the posterior draw is G's x₀ itself (no noise): two draws with the same latents agree there only
        Assert.Equal(4, m.FunctionEvaluations);
        int calls = 0;
        using var x = m.Sample(10, new Generator(4), onStep: (i, n) => { calls++; Assert.Equal(4, n); });
        Assert.Equal(4, calls);
        Assert.Equal([10L, 2L], x.shape);
        Assert.Throws<SettingException>(() => m.Sample(10, new Generator(4), noise: randn([10, 3])));
    }

    /// <summary>Trained on N(2, 0.5²) with T = 2, the samples' mean and spread are the data's (with G's learning rate at 1/5 of D's;
    /// at equal rates of 2·10⁻³ G's x₀ collapsed to its conditional mean, std 0.08, and D sat at chance).</summary>
    [Fact]
    public void ADdganLearnsAOneDimensionalGaussianInTwoSteps()
    {
        using var g = new Generator(5);
        using var data = randn([4096, 1], generator: g) * 0.5 + 2;
        var settings = new DdganConfig { DenoisingSteps = 2, LatentDim = 8, GeneratorLearningRate = 2e-4, DiscriminatorLearningRate = 1e-3, Beta1 = 0.5, Beta2 = 0.9, R1Gamma = 0 };
        var r = Trainer.Run(new TrainRequest(Small(settings, 3000), TempDir(), Quiet: true, Previews: false), data);
        using var m = TrainedRuns.OpenCheckpoint(r.Checkpoint);
        using var x = m.Sample(20_000, new Generator(6));
        double mean = x.mean().item<float>(), std = x.std().item<float>();
        output.WriteLine($"DD-GAN (T = 2) on N(2, 0.5²): mean {mean:F3}, std {std:F3}");
        Assert.InRange(mean, 1.85, 2.15);
        Assert.InRange(std, 0.38, 0.62);
    }

    [Fact]
    public void ImagesAreRefusedWithOneLineNamingWhatIsMissing()
    {
        var e = Assert.Throws<SettingException>(() => new DdganMethod(Small(new DdganConfig().ResolvedFor([1, 28, 28]) as DdganConfig ?? new DdganConfig(), 1), [1, 28, 28]));
        Assert.Contains("points", e.Message);
        Assert.Equal("ddgan.denoising_steps", Assert.Throws<SettingException>(() => new DdganConfig { DenoisingSteps = 0 }.Validate()).Setting);
    }
}
