using System.Text.Json.Nodes;

namespace Langevin.Tests.Cli;

/// <summary>
/// A tiny improved-DDPM run (hybrid loss, ADM U-Net with a variance output) through <c>sample --sampler ddpm --variance learned</c>,
/// <c>likelihood --vlb</c> and <c>rate-distortion</c>; and the one-line errors for a run without a learned variance.
/// </summary>
public class LearnedVarianceCliTests
{
    [Fact]
    public void AHybridRunSamplesWithItsLearnedVarianceAndDrawsItsRateDistortionCurve()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-hybrid-cli-").FullName;
        string run = Path.Combine(dir, "run");
        var t = CliRunner.Run("train", "--method", "ddpm", "--loss", "hybrid", "--net", "adm", "--data", "shapes:16", "--limit", "32",
            "--out", run, "--steps", "2", "--batch", "4", "--channels", "8", "--mults", "1,2", "--res-blocks", "1",
            "--checkpoint-every", "2", "--sample-every", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);

        string npy = Path.Combine(dir, "s.npy");
        var s = CliRunner.Run("sample", "--run", run, "--sampler", "ddpm", "--variance", "learned", "--steps", "4", "--n", "2", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.Contains("ddpm: 4 steps, NFE 4", s.Stdout);

        var vlb = CliRunner.Run("likelihood", "--run", run, "--data", "shapes:16", "--n", "2", "--vlb", "--vlb-timesteps", "2", "--threads", "1");
        Assert.True(vlb.ExitCode == 0, vlb.Stderr + vlb.Stdout);
        Assert.Contains("reverse variance learned", vlb.Stdout);

        string outDir = Path.Combine(dir, "rd");
        var rd = CliRunner.Run("rate-distortion", "--run", run, "--data", "shapes:16", "--n", "3", "--every", "250", "--rows", "2",
            "--columns", "3", "--gen-steps", "3", "--out", outDir, "--threads", "1");
        Assert.True(rd.ExitCode == 0, rd.Stderr + rd.Stdout);
        foreach (var file in new[] { "rd.json", "rd.png", "decompression.png", "generation.png" })
            Assert.True(File.Exists(Path.Combine(outDir, file)), file);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "rd.json")))!;
        Assert.Equal("learned", (string?)json["variance"]);
        var points = json["points"]!.AsArray();
        Assert.Equal(999, (int)points[0]!["t"]!);
        Assert.Equal(0, (int)points[^1]!["t"]!);
        Assert.Equal((double)json["total_rate"]!, (double)points[^1]!["rate"]!, 1e-12);

        CliRunner.AssertFails(CliRunner.Run("rate-distortion", "--run", run, "--every", "0", "--out", outDir), 2, "--every");
        CliRunner.AssertFails(CliRunner.Run("rate-distortion", "--run", run, "--variance", "wide", "--out", outDir), 2, "--variance");
        CliRunner.AssertFails(CliRunner.Run("rate-distortion", "--run", run), 2, "--out");
        CliRunner.AssertFails(CliRunner.Run("rate-distortion", "--run", run, "--data", "checkerboard", "--out", outDir), 2, "--data");
    }

    [Fact]
    public void ARunWithoutAVarianceOutputRefusesLearnedVarianceInOneLine()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-simple-cli-").FullName;
        string run = Path.Combine(dir, "run");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "checkerboard", "--limit", "64", "--out", run, "--steps", "2",
            "--batch", "8", "--checkpoint-every", "2", "--sample-every", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "ddpm", "--variance", "learned", "--n", "2", "--out",
            Path.Combine(dir, "s.npy")), 2, "--loss hybrid");
        CliRunner.AssertFails(CliRunner.Run("likelihood", "--run", run, "--data", "checkerboard", "--n", "2", "--vlb", "--vlb-variance", "learned"), 2, "--loss hybrid");
        CliRunner.AssertFails(CliRunner.Run("rate-distortion", "--run", run, "--variance", "learned", "--out", Path.Combine(dir, "rd")), 2, "--loss hybrid");

        // points work: rd.json and rd.png, no image grids
        string outDir = Path.Combine(dir, "rd");
        var rd = CliRunner.Run("rate-distortion", "--run", run, "--n", "20", "--every", "100", "--out", outDir, "--threads", "1");
        Assert.True(rd.ExitCode == 0, rd.Stderr + rd.Stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "rd.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "decompression.png")));
    }
}
