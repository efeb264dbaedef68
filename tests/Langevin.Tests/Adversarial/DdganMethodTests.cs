using Langevin.Adversarial;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Models;
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

    /// <summary>Images: G is a U-Net with z in its adaptive group norms, D a time-conditioned conv net on (x_t, x_{t+1});
    /// a short run trains, resumes to the same weights as an uninterrupted run, and samples [n, 1, 28, 28] in [−1, 1] in T calls.</summary>
    [Fact]
    public void OnImagesAUNetGeneratorTrainsResumesExactlyAndSamplesInTCalls()
    {
        using var data = (rand([32, 1, 28, 28], generator: new Generator(2)) * 2 - 1);
        var config = Small(new DdganConfig { DenoisingSteps = 2, MappingLayers = 1, DiscriminatorChannels = 8 }.ResolvedFor([1, 28, 28]) as DdganConfig ?? throw new InvalidOperationException(), 4) with
        {
            BatchSize = 8, CheckpointEvery = 2,
            Network = new NetworkConfig { Kind = "adm", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1, Adm = new AdmNetworkConfig { Heads = 1 } },
        };
        string whole = TempDir(), split = TempDir();
        var a = Trainer.Run(new TrainRequest(config, whole, Quiet: true, Previews: false), data);
        Trainer.Run(new TrainRequest(config with { Steps = 2 }, split, Quiet: true, Previews: false), data);
        Trainer.Run(new TrainRequest(config, split, Quiet: true, Previews: false, Resume: true), data);
        using (var fa = SafetensorsFile.Read(new RunFolder(whole).CheckpointPath(4)))
        using (var fb = SafetensorsFile.Read(new RunFolder(split).CheckpointPath(4)))
        {
            Assert.Equal(fa.Tensors.Keys.Order(), fb.Tensors.Keys.Order());
            foreach (var (key, t) in fa.Tensors)
                Assert.True(t.eq(fb.Tensors[key]).all().item<bool>(), $"'{key}' differs after resume");
        }
        using var ma = (DdganMethod)TrainedRuns.OpenCheckpoint(a.Checkpoint);
        Assert.IsType<DdganUNetGenerator>(ma.Components[0].Module);
        int calls = 0;
        using var x = ma.Sample(3, new Generator(4), onStep: (_, n) => { calls++; Assert.Equal(2, n); });
        Assert.Equal(2, calls);
        Assert.Equal([3L, 1L, 28L, 28L], x.shape);
        Assert.True(x.abs().max().item<float>() <= 1f);
    }

    /// <summary>z reaches the output through the mapping network and the adaptive norms; PixelNorm makes only its direction count.</summary>
    [Fact]
    public void TheImageGeneratorDependsOnZsDirectionOnly()
    {
        torch.manual_seed(3);
        var unet = new AdmUNet(new AdmUNetConfig(1, 1, 28, 8, [1, 2], 1, [], NumHeads: 1, GroupNormGroups: 8));
        using var g = new DdganUNetGenerator(unet, 16, 2);
        using (no_grad())
            foreach (var p in g.parameters().Where(p => p.abs().max().item<float>() == 0)) p.normal_(0, 0.05);   // zero-started output convs: open every path
        g.eval();
        using var x = randn([2, 1, 28, 28], generator: new Generator(5));
        using var t = tensor(new float[] { 250, 750 });
        using var z = randn([2, 16], generator: new Generator(6));
        using var z2 = randn([2, 16], generator: new Generator(7));
        using var _ = no_grad();
        using var y = g.call(x, t, z);
        Assert.True(y.allclose(g.call(x, t, z * 3), rtol: 1e-4, atol: 1e-5), "PixelNorm: z and 3z are the same latent");
        Assert.True((y - g.call(x, t, z2)).abs().max().item<float>() > 1e-3, "another z must give another x₀");
        Assert.Throws<ArgumentException>(() => unet.Forward(x, t, randn([2, 5])));
    }

    [Fact]
    public void UnsupportedShapesAndSettingsAreRefusedWithOneLine()
    {
        var e = Assert.Throws<SettingException>(() => new DdganMethod(Small(new DdganConfig().ResolvedFor([1, 64, 64]) as DdganConfig ?? new DdganConfig(), 1), [1, 64, 64]));
        Assert.Contains("28×28", e.Message);
        Assert.Equal("ddgan.denoising_steps", Assert.Throws<SettingException>(() => new DdganConfig { DenoisingSteps = 0 }.Validate()).Setting);
        Assert.Equal("ddgan.discriminator_channels", Assert.Throws<SettingException>(() => new DdganConfig { DiscriminatorChannels = 12 }.Validate()).Setting);
        var classes = Small(new DdganConfig().ResolvedFor([1, 28, 28]) as DdganConfig ?? new DdganConfig(), 1) with { Network = new NetworkConfig { Kind = "adm", Classes = 10 } };
        Assert.Equal("network.classes", Assert.Throws<SettingException>(() => new DdganMethod(classes, [1, 28, 28])).Setting);
    }
}
