using System.Diagnostics;
using Langevin.Distributed;
using Langevin.IO;
using Langevin.Tests.Cli;

namespace Langevin.Tests.Distributed;

/// <summary>Which launches are data-parallel, and what a missing MPI library says (no MPI needed).</summary>
public class DataParallelEnvironmentTests
{
    static Func<string, string?> Env(params (string Key, string Value)[] vars) => k => vars.FirstOrDefault(v => v.Key == k).Value;

    [Fact]
    public void TheLauncherEnvironmentGivesTheRanks()
    {
        Assert.Equal(1, DataParallel.LaunchedRanks(Env()));                                                  // a plain process
        Assert.Equal(2, DataParallel.LaunchedRanks(Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"))));             // mpiexec (Hydra)
        Assert.Equal(1, DataParallel.LaunchedRank(Env(("PMI_SIZE", "2"), ("PMI_RANK", "1"))));
        Assert.Equal(4, DataParallel.LaunchedRanks(Env(("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_PROCID", "3"))));   // srun
        Assert.Equal(3, DataParallel.LaunchedRank(Env(("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_PROCID", "3"))));
        // a batch script's own shell (SLURM_NTASKS, no step) is one process
        Assert.Equal(1, DataParallel.LaunchedRanks(Env(("SLURM_NTASKS", "4"), ("SLURM_PROCID", "0"))));
        Assert.Equal(0, DataParallel.LaunchedRank(Env(("SLURM_NTASKS", "4"), ("SLURM_PROCID", "2"))));
        var openMpi = Assert.Throws<UsageException>(() => DataParallel.LaunchedRanks(Env(("OMPI_COMM_WORLD_SIZE", "2"))));
        Assert.Contains("MPICH", openMpi.Message);
    }

    [Fact]
    public void WithoutAnMpiLibraryOneLineSaysWhatToInstall()
    {
        var e = Assert.Throws<UsageException>(() => Mpi.Initialize(["libno-such-mpi.so.12"]));
        Assert.Contains("apt-get install mpich", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

/// <summary>
/// `mpiexec -n 2 langevin train`: two ranks of batch B give the weights one process gets at batch 2B (the same per-item
/// randomness, gradients averaged by allreduce), and a resumed two-rank run continues exactly. Needs MPICH (tests/system.sh
/// installs it).
/// </summary>
[Trait("Category", "System")]
public class DataParallelTrainingTests
{
    const string Mpiexec = "/usr/bin/mpiexec.mpich";

    static string[] Train(string run, int batch, int steps, params string[] more) =>
    [
        "train", "--method", "ddpm", "--data", "8gaussians", "--width", "64", "--depth", "2", "--timesteps", "100", "--steps", $"{steps}",
        "--batch", $"{batch}", "--lr", "1e-3", "--seed", "3", "--threads", "1", "--checkpoint-every", "25", "--sample-every", "0", "--log-every", "5",
        "--out", run, .. more,
    ];

    static CliRunner.Result RunMpi(int ranks, params string[] args)
    {
        Assert.True(File.Exists(Mpiexec), $"{Mpiexec} is installed (apt-get install mpich; tests/system.sh does)");
        var psi = new ProcessStartInfo(Mpiexec) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-n", $"{ranks}", "dotnet", CliRunner.BuiltProgram("src/Langevin.Cli", "Langevin.Cli.dll"), .. args]) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); Assert.Fail("mpiexec timed out"); }
        return new CliRunner.Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    static double MaxRelativeDifference(string a, string b, string prefix)
    {
        using var x = SafetensorsFile.Read(a);
        using var y = SafetensorsFile.Read(b);
        var keys = x.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(keys);
        Assert.Equal(keys.Order(), y.Tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order());
        return keys.Max(k => (x.Tensors[k] - y.Tensors[k]).abs().max().item<float>() / Math.Max(1e-6, x.Tensors[k].abs().max().item<float>()));
    }

    [Fact]
    public void TwoRanksOfBatchBTrainAsOneProcessOfBatch2BAndResumeExactly()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-mpi-").FullName;
        string single = Path.Combine(dir, "single"), ranks = Path.Combine(dir, "ranks"), resumed = Path.Combine(dir, "resumed");
        var s = CliRunner.Run(Train(single, 64, 50));
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        var m = RunMpi(2, Train(ranks, 32, 50));
        Assert.True(m.ExitCode == 0, m.Stderr + m.Stdout);
        Assert.Contains("2 MPI ranks × batch 32", m.Stdout);
        Assert.Single(m.Stdout.Split('\n'), l => l.StartsWith("done: step 50", StringComparison.Ordinal));   // rank 0 alone prints

        string last = Path.Combine("checkpoints", "step_0000050.safetensors");
        Assert.True(File.Exists(Path.Combine(ranks, last)), m.Stdout);
        // after 50 Adam steps: the same weights, EMA and moments to float rounding (the two sum the batch's gradient in other orders)
        foreach (var prefix in new[] { "model/", "ema/", "optim/" })
            Assert.InRange(MaxRelativeDifference(Path.Combine(single, last), Path.Combine(ranks, last), prefix), 0, 1e-3);
        // the logged losses are the whole batch's
        var l1 = Langevin.Training.TrainingLog.ReadLosses(Path.Combine(single, "log.jsonl"));
        var l2 = Langevin.Training.TrainingLog.ReadLosses(Path.Combine(ranks, "log.jsonl"));
        Assert.Equal(l1.Count, l2.Count);
        Assert.All(l1.Zip(l2), p => Assert.InRange(Math.Abs(p.First.Loss - p.Second.Loss), 0, 1e-3 * Math.Abs(p.First.Loss)));

        // a different per-rank batch is another run: the check above can fail
        var other = RunMpi(2, Train(Path.Combine(dir, "other"), 32, 50, "--seed", "4"));
        Assert.True(other.ExitCode == 0, other.Stderr + other.Stdout);
        Assert.True(MaxRelativeDifference(Path.Combine(single, last), Path.Combine(dir, "other", last), "model/") > 1e-2);

        // resume: 25 steps, stop, 25 more under two ranks = the uninterrupted two-rank run, bit for bit
        var r1 = RunMpi(2, Train(resumed, 32, 25));
        Assert.True(r1.ExitCode == 0, r1.Stderr + r1.Stdout);
        var r2 = RunMpi(2, Train(resumed, 32, 50, "--resume"));
        Assert.True(r2.ExitCode == 0, r2.Stderr + r2.Stdout);
        Assert.Equal(0, MaxRelativeDifference(Path.Combine(ranks, last), Path.Combine(resumed, last), "model/"));
        Assert.Equal(0, MaxRelativeDifference(Path.Combine(ranks, last), Path.Combine(resumed, last), "optim/"));
    }

    [Fact]
    public void AMethodWithoutSlicedDrawsTrainsOnIndependentRankDrawsAndAnErrorEndsEveryRank()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-mpi-gan-").FullName;
        var g = RunMpi(2, "train", "--method", "gan", "--data", "8gaussians", "--steps", "20", "--batch", "32", "--threads", "1",
            "--checkpoint-every", "20", "--sample-every", "0", "--out", Path.Combine(dir, "gan"));
        Assert.True(g.ExitCode == 0, g.Stderr + g.Stdout);
        Assert.True(File.Exists(Path.Combine(dir, "gan", "checkpoints", "step_0000020.safetensors")));
        // every rank refuses alike, with one line and a usage exit code (not a hang)
        var bad = RunMpi(2, "train", "--method", "ddpm", "--data", "8gaussians", "--steps", "5", "--lr", "-1", "--out", Path.Combine(dir, "bad"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--lr", bad.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "bad")));
    }
}
