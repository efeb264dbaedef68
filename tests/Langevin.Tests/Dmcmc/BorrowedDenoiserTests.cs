using Langevin.Methods;
using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using Langevin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.Dmcmc;
using Langevin.Energy;

namespace Langevin.Tests.Dmcmc;

/// <summary>`--method dmcmc --denoiser RUN`: a trained denoiser borrowed frozen, only the noise-level estimator trains.</summary>
public sealed class BorrowedDenoiserTests
{
    static TrainConfig Ddpm(int width) => new()
    {
        Settings = new DdpmConfig(), Data = "test", Steps = 2, BatchSize = 16, CheckpointEvery = 2, SampleEvery = 0, Threads = 1,
        Network = new NetworkConfig { Kind = "mlp", Width = width, Depth = 1 },
    };

    static TrainConfig Dmcmc(string denoiser) => new()
    {
        Data = "test", Steps = 3, BatchSize = 16, CheckpointEvery = 3, SampleEvery = 0, Threads = 1,
        Settings = new DmcmcConfig { Levels = 10, EstimatorWidth = 8, EstimatorDepth = 1, Chains = 100, GibbsSteps = 1, HeunSteps = 2, BurnIn = 1, Denoiser = new ComponentReference(denoiser) },
    };

    [Fact]
    public void TrainsOnlyTheEstimatorAndSamplesWithTheRunsOwnDenoiser()
    {
        using var dir = new TempDir();
        string ddpmRun = dir.File("ddpm"), dmcmcRun = dir.File("dmcmc");
        using var data = randn(64, 2);
        Trainer.Run(new TrainRequest(Ddpm(16), ddpmRun, Quiet: true), data);
        var result = Trainer.Run(new TrainRequest(Dmcmc(ddpmRun), dmcmcRun, Quiet: true), data);
        var reference = result.Config.SettingsAs<DmcmcConfig>().Denoiser!;
        Assert.Equal(2, reference.Step);
        Assert.Equal(Path.GetFullPath(ddpmRun), reference.Run);
        Assert.Equal(16, reference.Digest.Length);

        using var ckpt = Checkpoint.Load(result.Checkpoint);
        Assert.NotEmpty(ckpt.Model.Keys);
        Assert.All(ckpt.Model.Keys, k => Assert.StartsWith("estimator.", k));          // the denoiser is not trained or stored here
        using var dmcmc = (DmcmcMethod)MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        Checkpoint.LoadInto(dmcmc.Network, ckpt.Ema, ckpt.Path);
        Assert.True(dmcmc.BorrowsDenoiser);

        // the borrowed denoiser is the ddpm run's EMA model, exactly, and frozen
        using (var ddpmCkpt = Checkpoint.Load(new RunFolder(ddpmRun).CheckpointPath(2)))
        using (var ddpm = (DdpmMethod)MethodRegistry.Create(ddpmCkpt.Config, ddpmCkpt.ItemShape))
        using (var _ = no_grad())
        using (var scope = NewDisposeScope())
        {
            Checkpoint.LoadInto(ddpm.Network, ddpmCkpt.Ema, ddpmCkpt.Path);
            ddpm.Network.eval();
            var x = randn(32, 2);
            var sigma = rand(32) * 3 + 0.05;
            Assert.Equal(0, (dmcmc.Denoiser.Score(x, sigma) - ((IDenoisingMethod)ddpm).Denoiser.Score(x, sigma)).abs().max().item<float>());
            var borrowed = Assert.IsType<Langevin.Models.PreconditionedDenoiser>(dmcmc.Denoiser);
            Assert.All(borrowed.Network.parameters(), q => Assert.False(q.requires_grad));
        }
        using var gen = new Generator(3);
        using var samples = dmcmc.Sample(10, gen, sampler: new SamplerSettings("dlg"));
        Assert.Equal([10L, 2L], samples.shape);
        Assert.True(samples.isfinite().all().item<bool>());
        using var heun = dmcmc.Sample(5, gen, sampler: new SamplerSettings("edm", 3));
        Assert.Equal([5L, 2L], heun.shape);

        // the recorded checkpoint replaced by another architecture at the same step, or removed: one-line data errors
        string recorded = new RunFolder(ddpmRun).CheckpointPath(2);
        string other = dir.File("wider");
        Trainer.Run(new TrainRequest(Ddpm(32), other, Quiet: true), data);
        File.Copy(new RunFolder(other).CheckpointPath(2), recorded, overwrite: true);
        Assert.Contains("changed", Assert.Throws<DataException>(() => MethodRegistry.Create(ckpt.Config, ckpt.ItemShape)).Message);
        File.Delete(recorded);
        Assert.Contains("missing", Assert.Throws<DataException>(() => MethodRegistry.Create(ckpt.Config, ckpt.ItemShape)).Message);
    }

    [Fact]
    public void ARunThatIsNotADenoiserOrHasOtherItemsIsRefused()
    {
        using var dir = new TempDir();
        using var data = randn(64, 2);
        var ebm = Ddpm(8) with { Settings = new EbmConfig { SgldSteps = 2, SampleSteps = 2, BufferSize = 64 } };
        Trainer.Run(new TrainRequest(ebm, dir.File("ebm"), Quiet: true), data);
        Assert.Contains("not a denoiser", Assert.ThrowsAny<UsageException>(() => BorrowedRun.Resolve("dmcmc.denoiser", dir.File("ebm"), [2], DmcmcMethod.NotADenoiser)).Message);
        Trainer.Run(new TrainRequest(Ddpm(8), dir.File("ddpm"), Quiet: true), data);
        Assert.Contains("items", Assert.ThrowsAny<UsageException>(() => BorrowedRun.Resolve("dmcmc.denoiser", dir.File("ddpm"), [3], DmcmcMethod.NotADenoiser)).Message);
        Assert.Contains("not a folder", Assert.ThrowsAny<UsageException>(() => BorrowedRun.Resolve("dmcmc.denoiser", dir.File("nowhere"), [2], DmcmcMethod.NotADenoiser)).Message);
        Directory.CreateDirectory(dir.File("empty"));
        Assert.Contains("no checkpoint", Assert.ThrowsAny<UsageException>(() => BorrowedRun.Resolve("dmcmc.denoiser", dir.File("empty"), [2], DmcmcMethod.NotADenoiser)).Message);
    }

    [Fact]
    public void CliTrainsTheEstimatorOnABorrowedDenoiserAndFailsInOneLineWhenItIsGone()
    {
        using var dir = new TempDir();
        string ddpm = dir.File("ddpm"), run = dir.File("dmcmc"), npy = dir.File("s.npy");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "8gaussians", "--steps", "2", "--batch", "16", "--width", "16",
            "--depth", "1", "--sample-every", "0", "--threads", "1", "--quiet", "--out", ddpm);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var d = CliRunner.Run("train", "--method", "dmcmc", "--denoiser", ddpm, "--data", "8gaussians", "--steps", "2", "--batch", "16",
            "--sample-every", "0", "--threads", "1", "--quiet", "--out", run);
        Assert.True(d.ExitCode == 0, d.Stderr + d.Stdout);
        var s = CliRunner.Run("sample", "--run", run, "--sampler", "dlg", "--steps", "2", "--gibbs-steps", "1", "--chains", "4",
            "--init-steps", "4", "--n", "8", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.Contains("4 chains × 2 samples", s.Stdout);
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "dmcmc", "--denoiser", dir.File("nowhere"), "--data", "8gaussians",
            "--steps", "2", "--out", dir.File("x")), 2, "--denoiser");
        Directory.Delete(ddpm, recursive: true);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--n", "4", "--out", npy), 1, "missing");
    }
}
