namespace Langevin.Tests.Cli;

public class Bf16CliTests
{
    [Fact]
    public void TrainWithBf16RecordsItInTheConfigAndTrains()
    {
        string run = Path.Combine(Directory.CreateTempSubdirectory("langevin-bf16-cli-").FullName, "run");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "shapes:16", "--limit", "64", "--out", run, "--steps", "2", "--batch", "8",
            "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--checkpoint-every", "2", "--sample-every", "0", "--sample-steps", "2",
            "--threads", "1", "--bf16");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal("on", config.RootElement.GetProperty("bf16").GetString());
    }

    [Fact]
    public void Bf16AutoSaysWhatItChoseAndRecordsTheMeasurement()
    {
        string run = Path.Combine(Directory.CreateTempSubdirectory("langevin-bf16-cli-").FullName, "run");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "8gaussians", "--out", run, "--steps", "3", "--batch", "16",
            "--width", "16", "--depth", "1", "--checkpoint-every", "3", "--sample-every", "0", "--threads", "1", "--bf16", "auto", "--quiet");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        Assert.Contains("bf16 auto: ", t.Stdout);
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal("auto", config.RootElement.GetProperty("bf16").GetString());
        var probe = config.RootElement.GetProperty("bf16_probe");
        Assert.True(probe.GetProperty("fp32_ms").GetDouble() > 0);
        Assert.Equal(probe.GetProperty("ratio").GetDouble() <= 0.95, probe.GetProperty("uses_bf16").GetBoolean());
        // the same command with --resume keeps the run's decision (bf16_probe may differ from a new measurement: it is not one)
        var r = CliRunner.Run("train", "--method", "ddpm", "--data", "8gaussians", "--out", run, "--steps", "4", "--batch", "16",
            "--width", "16", "--depth", "1", "--checkpoint-every", "3", "--sample-every", "0", "--threads", "1", "--bf16", "auto", "--quiet", "--resume");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.DoesNotContain("bf16 auto: ", r.Stdout);
    }

    [Theory]
    [InlineData("--bf16=sometimes")]
    [InlineData("--bf16", "sometimes")]
    public void AnUnknownBf16WordIsAOneLineUsageError(params string[] option)
    {
        var t = CliRunner.Run(["train", "--method", "ddpm", "--data", "8gaussians", "--steps", "1", .. option]);
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("sometimes", t.Stderr);
        Assert.Single(t.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Bf16AutoWithAnEbmTrainsInFp32AndSaysWhy()
    {
        string run = Path.Combine(Directory.CreateTempSubdirectory("langevin-bf16-cli-").FullName, "run");
        var t = CliRunner.Run("train", "--method", "ebm", "--data", "checkerboard", "--out", run, "--steps", "1", "--batch", "16", "--width", "16",
            "--depth", "1", "--sample-every", "0", "--threads", "1", "--bf16", "auto", "--quiet");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        Assert.Contains("bf16 auto: fp32 (the ebm method does not train in bf16", t.Stdout);
    }

    [Fact]
    public void Bf16WithAnEbmIsAOneLineUsageError()
    {
        var t = CliRunner.Run("train", "--method", "ebm", "--data", "checkerboard", "--steps", "1", "--bf16");
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("--bf16", t.Stderr);
        Assert.Single(t.Stderr.Trim().Split('\n'));
    }
}
