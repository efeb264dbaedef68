using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using Xunit;

namespace Langevin.Tests.Dmcmc;

public sealed class DmcmcCliTests
{
    [Fact]
    public void TrainsAndSamplesWithDlgAndTheCatalogSamplers()
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "run"), npy = Path.Combine(dir.Path, "s.npy");
        var t = CliRunner.Run("train", "--method", "dmcmc", "--data", "8gaussians", "--steps", "3", "--batch", "16", "--width", "16",
            "--depth", "1", "--sample-every", "0", "--threads", "1", "--quiet", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var s = CliRunner.Run("sample", "--run", run, "--n", "8", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.Contains("NFE per sample", s.Stdout);
        var dlg = CliRunner.Run("sample", "--run", run, "--sampler", "dlg", "--steps", "2", "--gibbs-steps", "2", "--chains", "4",
            "--step-size", "0.05", "--n", "8", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(dlg.ExitCode == 0, dlg.Stderr + dlg.Stdout);
        Assert.Contains("4 chains × 2 samples", dlg.Stdout);
        var edm = CliRunner.Run("sample", "--run", run, "--sampler", "edm", "--steps", "3", "--n", "8", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(edm.ExitCode == 0, edm.Stderr + edm.Stdout);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "dlg", "--steps", "0", "--out", npy), 2, "--steps");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "dlg", "--step-size", "0", "--out", npy), 2, "--step-size");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "edm", "--gibbs-steps", "3", "--out", npy), 2, "--gibbs-steps");
    }
}
