using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Tests.Cli;

/// <summary>A tiny DDPM image run through every diffusion command: sample with catalog samplers, inpaint, interpolate, likelihood, compare.</summary>
public class DiffusionCliTests
{
    [Fact]
    public void ADdpmRunSamplesInpaintsInterpolatesScoresAndCompares()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ddpm-cli-").FullName;
        string run = TinyRuns.DdpmOnShapes(dir, steps: 3);

        string npy = Path.Combine(dir, "s.npy");
        var s = CliRunner.Run("sample", "--run", run, "--sampler", "unipc", "--steps", "3", "--n", "4", "--out", npy);
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        Assert.Contains("unipc: 3 steps, NFE 3", s.Stdout);
        using (var x = NpyFile.Read(npy))
        {
            Assert.Equal(new long[] { 4, 3, 16, 16 }, x.shape);
            Assert.True((x >= 0).all().item<bool>() && (x <= 1).all().item<bool>());
        }
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "ddpm", "--karras", "--out", npy), 2, "--karras");

        // --batch draws the same noise in chunks: a deterministic sampler gives the same samples at any batch size.
        string whole = Path.Combine(dir, "whole.npy"), chunked = Path.Combine(dir, "chunked.npy");
        Assert.Equal(0, CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--steps", "3", "--n", "5", "--seed", "3", "--out", whole).ExitCode);
        var b = CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--steps", "3", "--n", "5", "--seed", "3", "--batch", "2", "--out", chunked);
        Assert.True(b.ExitCode == 0, b.Stderr + b.Stdout);
        using (var x = NpyFile.Read(whole))
        using (var y = NpyFile.Read(chunked))
        {
            Assert.Equal(new long[] { 5, 3, 16, 16 }, y.shape);
            Assert.True((x - y).abs().max().item<float>() < 1e-5f);
        }
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--batch", "0", "--out", npy), 2, "--batch");

        string inpaint = Path.Combine(dir, "inpaint.png");
        var ip = CliRunner.Run("inpaint", "--run", run, "--n", "2", "--steps", "3", "--grid", inpaint);
        Assert.True(ip.ExitCode == 0, ip.Stderr + ip.Stdout);
        Assert.True(File.Exists(inpaint));

        string interp = Path.Combine(dir, "interp.png");
        var it = CliRunner.Run("interpolate", "--run", run, "--pairs", "1", "--frames", "3", "--steps", "3", "--grid", interp);
        Assert.True(it.ExitCode == 0, it.Stderr + it.Stdout);
        Assert.True(File.Exists(interp));

        string json = Path.Combine(dir, "l.json");
        var l = CliRunner.Run("likelihood", "--run", run, "--data", "shapes:16", "--n", "2", "--rtol", "1e-2", "--atol", "1e-2", "--json", json);
        Assert.True(l.ExitCode == 0, l.Stderr + l.Stdout);
        Assert.Contains("bits/dim", l.Stdout);
        Assert.Contains("bits_per_dim", File.ReadAllText(json));

        var vlb = CliRunner.Run("likelihood", "--run", run, "--data", "shapes:16", "--n", "2", "--vlb", "--vlb-timesteps", "3");
        Assert.True(vlb.ExitCode == 0, vlb.Stderr + vlb.Stdout);
        Assert.Contains("bits/dim ≤", vlb.Stdout);

        var c = CliRunner.Run("compare", "--run", run, "--samplers", "ddim,heun", "--nfe", "2,3", "--n", "8", "--features", "NONE");
        Assert.NotEqual(0, c.ExitCode);   // a missing feature file is a one-line error, not a crash
        Assert.DoesNotContain("   at ", c.Stderr);
    }
}

public class MethodDefaultsCliTests
{
    [Theory]
    [InlineData("ddpm", "checkerboard", 512, 6)]
    [InlineData("ncsn", "checkerboard", 256, 0)]   // the global defaults
    public void DiffusionMethodsOnToy2DStartFromTheirTunedDefaults(string method, string data, int batch, int fourier)
    {
        string run = Path.Combine(Directory.CreateTempSubdirectory("langevin-defaults-").FullName, "run");
        string[] own = method == "ncsn" ? ["--levels", "3", "--steps-per-level", "1"] : ["--sample-steps", "2"];
        var r = CliRunner.Run(["train", "--method", method, "--data", data, "--steps", "1", "--limit", "600", "--out", run,
            "--threads", "1", "--sample-every", "0", "--width", "16", "--depth", "1", .. own]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        Assert.Equal(batch, config.RootElement.GetProperty("batch_size").GetInt32());
        Assert.Equal(fourier, config.RootElement.GetProperty("network").GetProperty("fourier_features").GetInt32());
    }
}
