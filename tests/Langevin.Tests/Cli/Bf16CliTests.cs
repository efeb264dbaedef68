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
        Assert.True(config.RootElement.GetProperty("bf16").GetBoolean());
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
