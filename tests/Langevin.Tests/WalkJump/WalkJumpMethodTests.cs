using Langevin.Methods;
using Langevin.Models;
using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using Langevin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.WalkJump;

namespace Langevin.Tests.WalkJump;

public sealed class WalkJumpMethodTests
{
    [Theory]
    [InlineData("denoiser")]
    [InlineData("energy")]
    public void BothParameterisationsTrainAndWalkOnImages(string parameterisation)
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(5);
        var config = new TrainConfig
        {
            Network = new NetworkConfig { BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1, AttnResolutions = [] },
            Settings = new WalkJumpConfig { Measurements = 4, Sigma = 1, Parameterisation = parameterisation, WalkSteps = 2 },
        };
        using var method = new WalkJumpMethod(config, [1, 8, 8]);
        Assert.IsType(parameterisation == "energy" ? typeof(MultimeasurementEnergy) : typeof(MultimeasurementDenoiser), method.Estimator);
        var x = rand([4, 1, 8, 8], generator: gen) * 2 - 1;
        var loss = method.Loss(x, gen);
        loss.backward();
        Assert.True(double.IsFinite(loss.item<float>()));
        // the loss reaches every weight (the energy's through ∇f), except the energy head's bias: a constant offset has no gradient
        var untouched = method.Network.named_parameters().Where(p => p.parameter.grad is null).Select(p => p.name).ToArray();
        Assert.True(parameterisation == "energy" ? untouched.All(n => n.StartsWith("head") && n.EndsWith("bias")) : untouched.Length == 0, string.Join(", ", untouched));
        var jumps = method.Sample(3, gen, sampler: new SamplerSettings(Options: new Dictionary<string, string> { ["step-size"] = "0.3", ["friction"] = "2" }));
        Assert.Equal(new long[] { 3, 1, 8, 8 }, jumps.shape);
        Assert.True(jumps.isfinite().all().item<bool>());
        Assert.ThrowsAny<UsageException>(() => method.Sample(1, gen, sampler: new SamplerSettings(Options: new Dictionary<string, string> { ["friction"] = "-1" })));
        Assert.ThrowsAny<UsageException>(() => method.Sample(1, gen, sampler: new SamplerSettings(Options: new Dictionary<string, string> { ["eta"] = "1" })));
    }

    [Fact]
    public void TheEnergyParameterisationTrainsAndSamplesFromTheCli()
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "run"), npy = Path.Combine(dir.Path, "s.npy");
        var t = CliRunner.Run("train", "--method", "walkjump", "--walkjump-param", "energy", "--data", "8gaussians", "--steps", "3", "--batch", "16",
            "--width", "16", "--depth", "1", "--sample-every", "0", "--threads", "1", "--quiet", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        Assert.Contains("\"parameterisation\": \"energy\"", File.ReadAllText(Path.Combine(run, "config.json")));
        var s = CliRunner.Run("sample", "--run", run, "--n", "8", "--steps", "2", "--step-size", "0.2", "--friction", "0.5", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.True(File.Exists(npy));
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--n", "8", "--friction", "0", "--out", npy), 2, "--friction");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "walkjump", "--walkjump-param", "score", "--steps", "1", "--out", Path.Combine(dir.Path, "r2")), 2, "--walkjump-param");
    }
}
