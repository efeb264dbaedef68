namespace Langevin.Tests.Cli;

/// <summary>Runs the CLI tests train for themselves: small enough to take seconds.</summary>
public static class TinyRuns
{
    /// <summary>A DDPM U-Net (8/16 channels, one res-block) on 64 shapes:16 images, one checkpoint at the last step.</summary>
    public static string DdpmOnShapes(string dir, int steps)
    {
        string run = Path.Combine(dir, "run");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "shapes:16", "--limit", "64", "--out", run, "--steps", $"{steps}", "--batch", "8",
            "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--checkpoint-every", $"{steps}", "--sample-every", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        return run;
    }
}
