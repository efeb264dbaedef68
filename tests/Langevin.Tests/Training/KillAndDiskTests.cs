using Langevin.IO;
using Langevin.Tests.Cli;
using Langevin.Training;

namespace Langevin.Tests.Training;

/// <summary>A training process killed at a random moment, and a run folder that fills up: nothing written is lost or half-written.</summary>
public class KillAndDiskTests
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-kill-").FullName;

    static string[] Training(string run, long steps) =>
    [
        "train", "--method", "ddpm", "--data", "8gaussians", "--steps", $"{steps}", "--width", "32", "--depth", "2", "--batch", "64",
        "--checkpoint-every", "50", "--sample-every", "0", "--log-every", "10", "--threads", "1", "--seed", "3", "--quiet", "--out", run,
    ];

    static bool SameTensors(string a, string b)
    {
        using var x = SafetensorsFile.Read(a);
        using var y = SafetensorsFile.Read(b);
        return x.Tensors.Count == y.Tensors.Count && x.Tensors.All(kv => y.Tensors.TryGetValue(kv.Key, out var t)
            && kv.Value.shape.SequenceEqual(t.shape) && kv.Value.eq(t).all().item<bool>());
    }

    [Fact]
    public void KillNineLosesAtMostOneCheckpointIntervalAndTheResumedRunContinuesBitForBit()
    {
        const long steps = 4000;
        string dir = TempDir(), whole = Path.Combine(dir, "whole"), killed = Path.Combine(dir, "killed");
        var w = CliRunner.Run(Training(whole, steps));
        Assert.True(w.ExitCode == 0, w.Stderr + w.Stdout);

        using (var p = CliRunner.Start(Training(killed, steps)))
        {
            var checkpoints = Path.Combine(killed, "checkpoints");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((!Directory.Exists(checkpoints) || Directory.GetFiles(checkpoints, "*.safetensors").Length < 2) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(5);
            Thread.Sleep(Random.Shared.Next(0, 200));   // somewhere in the middle of a step, a log line or a checkpoint write
            Assert.False(p.HasExited, "the training finished before it could be killed: give it more steps");
            p.Kill();                                   // SIGKILL: no handler runs
            p.WaitForExit();
        }
        // what the kill left: a config that parses, checkpoints that all load, at most one interval behind the log
        TrainConfig.FromJson(File.ReadAllText(Path.Combine(killed, "config.json")), "config.json").Validate();
        var files = Directory.GetFiles(Path.Combine(killed, "checkpoints"), "*.safetensors");
        foreach (var f in files) Checkpoint.Load(f).Dispose();
        long lastCheckpoint = files.Select(f => long.Parse(Path.GetFileNameWithoutExtension(f)["step_".Length..])).Max();
        long lastLogged = TrainingLog.ReadLosses(Path.Combine(killed, "log.jsonl")).Select(l => l.Step).DefaultIfEmpty(0).Max();
        Assert.True(lastLogged - lastCheckpoint <= 50, $"logged step {lastLogged}, last checkpoint {lastCheckpoint}: more than one interval lost");
        Assert.True(lastCheckpoint < steps, "killed after the end");

        var r = CliRunner.Run([.. Training(killed, steps), "--resume"]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        string final = $"step_{steps:D7}.safetensors";
        Assert.True(SameTensors(Path.Combine(whole, "checkpoints", final), Path.Combine(killed, "checkpoints", final)),
            $"killed at ≈ step {lastLogged} and resumed from {lastCheckpoint}: the final weights differ from an uninterrupted run's");
        Assert.Equal(TrainingLog.ReadLosses(Path.Combine(whole, "log.jsonl")), TrainingLog.ReadLosses(Path.Combine(killed, "log.jsonl")));
    }

    static int Sh(string command)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>Needs root (tests/system.sh): the run folder is a 400 KB tmpfs that 40 KB checkpoints fill.</summary>
    [Fact]
    [Trait("Category", "System")]
    public void AFullDiskIsOneLineAndKeepsTheCheckpointsAlreadyWritten()
    {
        string mount = TempDir(), run = Path.Combine(mount, "run");
        Assert.True(Sh($"mount -t tmpfs -o size=400k tmpfs '{mount}'") == 0, "cannot mount a tmpfs: run the System tests as root (tests/system.sh)");
        try
        {
            var r = CliRunner.Run(Training(run, 4000));
            CliRunner.AssertFails(r, 1, "cannot write it (No space left on device)");
            Assert.Contains(Path.Combine(run, "checkpoints", "step_"), r.Stderr);   // the checkpoint it was writing, not a temporary name
            var files = Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.safetensors");
            Assert.True(files.Length >= 2, $"{files.Length} checkpoints before the disk filled");
            foreach (var f in files) Checkpoint.Load(f).Dispose();                    // every one complete
            Assert.Empty(Directory.GetFiles(Path.Combine(run, "checkpoints"), "*.tmp")); // the failed write cleaned up
            TrainConfig.FromJson(File.ReadAllText(Path.Combine(run, "config.json")), "config.json").Validate();
            // room again (the oldest checkpoints go): the run continues from its last checkpoint
            foreach (var f in files.OrderBy(f => f).SkipLast(1)) File.Delete(f);
            var resumed = CliRunner.Run([.. Training(run, files.Select(f => long.Parse(Path.GetFileNameWithoutExtension(f)["step_".Length..])).Max() + 50), "--resume"]);
            Assert.True(resumed.ExitCode == 0, resumed.Stderr + resumed.Stdout);
        }
        finally { Sh($"umount '{mount}'"); }
    }
}
