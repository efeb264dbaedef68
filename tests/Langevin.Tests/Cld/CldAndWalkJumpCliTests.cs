using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using Xunit;

namespace Langevin.Tests.Cld;

public sealed class CldAndWalkJumpCliTests
{
    [Theory]
    [InlineData("--mass", "cld", "--mass", "0")]
    [InlineData("--beta", "cld", "--beta", "-1")]
    [InlineData("--hsm-weighting", "cld", "--hsm-weighting", "foo")]
    [InlineData("--m", "walkjump", "--m", "0")]
    [InlineData("--sigma", "walkjump", "--sigma", "0")]
    public void BadSettingsFailWithOneLineAndExitTwo(string mentions, string method, string option, string value)
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("train", "--method", method, option, value, "--steps", "1", "--threads", "1", "--out", Path.Combine(dir.Path, "run"));
        CliRunner.AssertFails(r, 2, mentions);
    }

    [Theory]
    [InlineData("cld")]
    [InlineData("walkjump")]
    public void TrainsAndSamplesEndToEnd(string method)
    {
        using var dir = new TempDir();
        string run = Path.Combine(dir.Path, "run"), npy = Path.Combine(dir.Path, "s.npy");
        var t = CliRunner.Run("train", "--method", method, "--data", "8gaussians", "--steps", "3", "--batch", "16", "--width", "16",
            "--depth", "1", "--sample-every", "0", "--threads", "1", "--quiet", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var s = CliRunner.Run("sample", "--run", run, "--n", "8", "--out", npy, "--threads", "1", "--quiet");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.True(File.Exists(npy));
        if (method != "cld") return;
        string json = Path.Combine(dir.Path, "ode.json");
        var ode = CliRunner.Run("sample", "--run", run, "--sampler", "ode", "--steps", "3", "--n", "8", "--out", npy, "--threads", "1", "--quiet", "--json", json);
        Assert.True(ode.ExitCode == 0, ode.Stderr + ode.Stdout);
        Assert.Contains("\"nfe\": 12", File.ReadAllText(json));   // RK4: 4 evaluations per step, from --steps, not the config's 100
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--out", npy), 2, "sscs");   // a CLD run given to a VP sampler
    }
}
