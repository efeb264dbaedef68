using System.Text.Json.Nodes;

namespace Langevin.Tests.Cli;

/// <summary><c>langevin denoising</c> on a tiny DDPM run: one row per log-spaced σ (written to --json), and one-line refusals
/// for bad options and for a run without a denoiser.</summary>
public class DenoisingCliTests
{
    [Fact]
    public void ADiffusionRunsErrorIsTabulatedPerSigmaAndOtherRunsAreRefused()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-denoising-cli-").FullName;
        string run = Path.Combine(dir, "ddpm"), gan = Path.Combine(dir, "gan");
        foreach (var (method, output) in new[] { ("ddpm", run), ("gan", gan) })
        {
            var t = CliRunner.Run("train", "--method", method, "--data", "8gaussians", "--out", output, "--steps", "2", "--batch", "16",
                "--checkpoint-every", "2", "--sample-every", "0", "--threads", "1");
            Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        }
        string json = Path.Combine(dir, "d.json");
        var d = CliRunner.Run("denoising", "--run", run, "--data", "8gaussians", "--n", "40", "--sigma-min", "0.1", "--sigma-max", "10",
            "--levels", "3", "--json", json, "--threads", "1");
        Assert.True(d.ExitCode == 0, d.Stderr + d.Stdout);
        var levels = JsonNode.Parse(File.ReadAllText(json))!["levels"]!.AsArray();
        Assert.Equal([0.1, 1.0, 10.0], levels.Select(l => Math.Round((double)l!["sigma"]!, 12)));
        Assert.All(levels, l => Assert.True((double)l!["mse"]! > 0));

        CliRunner.AssertFails(CliRunner.Run("denoising", "--run", run, "--levels", "0"), 2, "--levels");
        CliRunner.AssertFails(CliRunner.Run("denoising", "--run", run, "--sigma-min", "5", "--sigma-max", "1"), 2, "--sigma-min");
        CliRunner.AssertFails(CliRunner.Run("denoising", "--run", gan, "--data", "8gaussians"), 2, "no denoiser");
    }
}
