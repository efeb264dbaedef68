using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Tests.Cli;

public class CliTests
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-cli-").FullName;

    [Fact]
    public void HelpListsTheCommands()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var c in new[] { "demo", "train", "sample", "inpaint", "datasets" }) Assert.Contains(c, r.Stdout);
        var t = CliRunner.Run("train", "--help");
        Assert.Equal(0, t.ExitCode);
        Assert.Contains("--resume", t.Stdout);
    }

    [Fact]
    public void DatasetsListsTheSpecs()
    {
        var r = CliRunner.Run("datasets");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("checkerboard", r.Stdout);
        Assert.Contains("fashion-mnist", r.Stdout);
    }

    [Theory]
    [InlineData(2, "nosuchcommand", new[] { "frobnicate" })]
    [InlineData(2, "--bogus", new[] { "train", "--bogus", "1" })]
    [InlineData(2, "--steps", new[] { "train", "--steps", "ten" })]
    [InlineData(2, "--steps", new[] { "train", "--steps", "0" })]
    [InlineData(2, "nosuch", new[] { "train", "--data", "nosuch", "--steps", "1" })]
    [InlineData(2, "--device cuda", new[] { "train", "--device", "cuda", "--steps", "1" })]
    [InlineData(2, "--method", new[] { "train", "--method", "vae", "--steps", "1" })]
    [InlineData(2, "--device cuda", new[] { "sample", "--device", "cuda", "--checkpoint", "x.safetensors", "--out", "x.npy" })]
    [InlineData(2, "--device must be cpu or cuda", new[] { "train", "--device", "tpu", "--steps", "1" })]
    [InlineData(1, "/nonexistent/fmnist", new[] { "train", "--data", "fashion-mnist:/nonexistent/fmnist", "--steps", "1" })]
    [InlineData(2, "--checkpoint", new[] { "sample", "--out", "x.npy" })]
    public void BadInputFailsWithOneLineAndTheRightExitCode(int code, string mentions, string[] args)
    {
        string dir = TempDir();
        var r = CliRunner.RunIn(dir, args.Select(a => a == "frobnicate" ? "nosuchcommand" : a).ToArray());
        CliRunner.AssertFails(r, code, mentions);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")) && Directory.EnumerateFiles(Path.Combine(dir, "runs"), "*.safetensors", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void CorruptFilesFailWithExitCodeOne()
    {
        string dir = TempDir();
        string ckpt = Path.Combine(dir, "bad.safetensors");
        File.WriteAllBytes(ckpt, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        CliRunner.AssertFails(CliRunner.Run("sample", "--checkpoint", ckpt, "--out", Path.Combine(dir, "s.npy")), 1, "bad.safetensors");
        string npy = Path.Combine(dir, "bad.npy");
        File.WriteAllBytes(npy, "\x93NUMPY garbage"u8.ToArray());
        CliRunner.AssertFails(CliRunner.Run("train", "--data", $"npy:{npy}", "--steps", "1", "--out", Path.Combine(dir, "run")), 1, "bad.npy");
        Assert.False(File.Exists(Path.Combine(dir, "s.npy")));
    }

    [Fact]
    public void TrainSampleAndResumeEndToEndOnPoints()
    {
        string dir = TempDir();
        string run = Path.Combine(dir, "run");
        string[] common = ["--data", "8gaussians", "--width", "32", "--depth", "2", "--batch", "64", "--sigma-max", "6",
            "--levels", "5", "--steps-per-level", "3", "--checkpoint-every", "10", "--sample-every", "0", "--threads", "1", "--limit", "2000"];
        var t = CliRunner.Run(["train", "--out", run, "--steps", "10", .. common]);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        foreach (var f in new[] { "config.json", "log.jsonl", "loss.png", "checkpoints/step_0000010.safetensors", "samples/step_0000010.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), $"{f} written");

        var again = CliRunner.Run(["train", "--out", run, "--steps", "10", .. common]);
        CliRunner.AssertFails(again, 2, "--resume");
        CliRunner.AssertFails(CliRunner.Run(["train", "--out", run, "--steps", "20", "--resume", "--lr", "0.1"]), 2, "--lr");
        var resumed = CliRunner.Run(["train", "--out", run, "--steps", "20", "--resume", "--threads", "1"]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "step_0000020.safetensors")));

        string npy = Path.Combine(dir, "s.npy"), png = Path.Combine(dir, "s.png");
        var s = CliRunner.Run("sample", "--run", run, "--n", "50", "--seed", "3", "--out", npy, "--grid", png);
        Assert.True(s.ExitCode == 0, s.Stderr);
        using var samples = NpyFile.Read(npy);
        Assert.Equal(new long[] { 50, 2 }, samples.shape);
        Assert.True(samples.isfinite().all().item<bool>());
        Assert.True(File.Exists(png));

        // The same seed gives the same samples; a --noise file of the wrong shape is refused.
        string npy2 = Path.Combine(dir, "s2.npy");
        Assert.Equal(0, CliRunner.Run("sample", "--run", run, "--n", "50", "--seed", "3", "--out", npy2).ExitCode);
        using var samples2 = NpyFile.Read(npy2);
        Assert.True(samples.eq(samples2).all().item<bool>());
        string noise = Path.Combine(dir, "noise.npy");
        NpyFile.Write(noise, randn(50, 3));
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--noise", noise, "--out", npy2), 2, "--noise");
    }
}

public class CliImageTests
{
    [Fact]
    public void TrainSampleGifAndInpaintOnGeneratedShapes()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-cli-img-").FullName;
        string run = Path.Combine(dir, "run");
        var t = CliRunner.Run("train", "--data", "shapes:16", "--limit", "64", "--out", run, "--steps", "4", "--batch", "8",
            "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--sigma-max", "5", "--levels", "4", "--steps-per-level", "2",
            "--checkpoint-every", "4", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        Assert.True(File.Exists(Path.Combine(run, "samples", "step_0000004.png")));

        string npy = Path.Combine(dir, "s.npy"), gif = Path.Combine(dir, "s.gif");
        var s = CliRunner.Run("sample", "--run", run, "--n", "4", "--out", npy, "--gif", gif);
        Assert.True(s.ExitCode == 0, s.Stderr);
        using var samples = NpyFile.Read(npy);
        Assert.Equal(new long[] { 4, 3, 16, 16 }, samples.shape);
        Assert.True((samples >= 0).all().item<bool>() && (samples <= 1).all().item<bool>(), "image samples are written in [0, 1]");
        using var codec = SkiaSharp.SKCodec.Create(gif);
        Assert.Equal(4 + 2, codec.FrameCount);                 // the initial noise, one frame per level, the final sample
        foreach (string batch in new[] { "4", "3" })
        {
            var c = CliRunner.Run("sample", "--run", run, "--n", "4", "--sampler", "euler", "--steps", "3", "--batch", batch, "--out", npy, "--gif", gif);
            Assert.True(c.ExitCode == 0, c.Stderr);
            using var catalogGif = SkiaSharp.SKCodec.Create(gif);
            Assert.Equal(3 + 1, catalogGif.FrameCount);        // a catalog sampler's steps (of the first batch), the final sample
        }

        string grid = Path.Combine(dir, "inpaint.png");
        var i = CliRunner.Run("inpaint", "--run", run, "--n", "3", "--mask", "center", "--grid", grid);
        Assert.True(i.ExitCode == 0, i.Stderr);
        Assert.True(File.Exists(grid));
        CliRunner.AssertFails(CliRunner.Run("inpaint", "--run", run, "--mask", "diagonal", "--grid", grid), 2, "--mask");
    }
}

public class CliEvalTests
{
    [Fact]
    public void EvalPrintsATableWithNAndWritesJson()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-eval-").FullName;
        string npy = Path.Combine(dir, "s.npy"), json = Path.Combine(dir, "m.json");
        using (var gen = new TorchSharp.torch.Generator(1))
        using (var pts = Langevin.Data.Toy2D.Get("8gaussians").Sample(400, gen))
            NpyFile.Write(npy, pts);
        var r = CliRunner.Run("eval", "--samples", npy, "--ref", "8gaussians", "--json", json);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("N = 400", r.Stdout);
        Assert.Contains("modes_covered", File.ReadAllText(json));
        CliRunner.AssertFails(CliRunner.Run("eval", "--samples", npy, "--ref", "8gaussians", "--metrics", "fid"), 2, "--metrics");
        CliRunner.AssertFails(CliRunner.Run("eval", "--samples", Path.Combine(dir, "none.npy"), "--ref", "8gaussians"), 1, "none.npy");
    }
}
