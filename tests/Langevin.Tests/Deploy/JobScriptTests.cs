using System.Diagnostics;
using System.Text.RegularExpressions;
using Langevin.Tests.Cli;

namespace Langevin.Tests.Deploy;

/// <summary>
/// The job files of deploy/ (docs/scale.md), the Dockerfile and .dockerignore, without a cluster: shard-index.sh under the
/// environments Slurm and Kubernetes set, the Slurm scripts' DRY_RUN lines (and that they exec exactly that line), the
/// submit script against a fake sbatch, the Kubernetes Jobs' fields and their embedded scripts run by bash with a fake
/// langevin. Every process gets a clean environment, so a test run inside a Slurm job or a pod sees only what it sets.
/// </summary>
public class JobScriptTests
{
    static readonly string Root = CliRunner.RepositoryRoot();
    static string Deploy(string file) => Path.Combine(Root, "deploy", file);
    static string Text(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    sealed record Result(int ExitCode, string Stdout, string Stderr, int Pid)
    {
        public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Runs `bash SCRIPT` with only PATH, HOME and <paramref name="env"/> set; <paramref name="pathFirst"/> goes first on PATH.</summary>
    static Result Bash(string script, IReadOnlyDictionary<string, string> env, string? pathFirst = null, string? workingDir = null)
    {
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = workingDir ?? Directory.CreateTempSubdirectory("langevin-deploy-cwd-").FullName,
        };
        psi.ArgumentList.Add(script);
        psi.Environment.Clear();
        psi.Environment["PATH"] = (pathFirst is null ? "" : pathFirst + ":") + "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["HOME"] = psi.WorkingDirectory;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60))) { p.Kill(true); Assert.Fail($"{script} timed out"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result, p.Id);
    }

    /// <summary>"K=V;K=V" → a dictionary (the form of the theories' environments).</summary>
    static Dictionary<string, string> Env(string spec) =>
        spec.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    static Dictionary<string, string> With(Dictionary<string, string> env, params (string Key, string Value)[] more)
    {
        var d = new Dictionary<string, string>(env);
        foreach (var (k, v) in more) d[k] = v;
        return d;
    }

    /// <summary>A folder holding an executable script NAME that appends its arguments, one per line, then "--END--", to FILE.</summary>
    static (string Dir, string ArgsFile) FakeProgram(string name, string extraBody = "")
    {
        string dir = Directory.CreateTempSubdirectory("langevin-deploy-fake-").FullName, argsFile = Path.Combine(dir, name + ".args");
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, $"#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" --END-- >> '{argsFile}'\n{extraBody}");
        MakeExecutable(path);
        return (dir, argsFile);
    }

    static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The argument lists a fake program was called with, one list per call.</summary>
    static List<string[]> Calls(string argsFile)
    {
        if (!File.Exists(argsFile)) return [];
        var calls = new List<string[]>();
        var current = new List<string>();
        foreach (var line in File.ReadAllLines(argsFile))
            if (line == "--END--") { calls.Add([.. current]); current.Clear(); }
            else current.Add(line);
        return calls;
    }

    static void AssertRefused(Result r, string because)
    {
        Assert.True(r.ExitCode != 0, $"{because}: exit 0, stdout '{r.Stdout}'");
        Assert.True(r.StderrLines.Length == 1, $"{because}: expected one line on stderr, got '{r.Stderr}'");
        Assert.Equal("", r.Stdout);
    }

    // ---------------------------------------------------------------- shard-index.sh

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ShardIndexReadsASlurmArrayOfFourFromTaskIdAndCount(int task)
    {
        var r = Bash(Deploy("shard-index.sh"), Env($"SLURM_ARRAY_TASK_ID={task};SLURM_ARRAY_TASK_COUNT=4"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"{task}/4\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID=0;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=3", "0/4")]
    [InlineData("SLURM_ARRAY_TASK_ID=3;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=3", "3/4")]
    [InlineData("SLURM_ARRAY_TASK_ID=5;SLURM_ARRAY_TASK_MIN=5;SLURM_ARRAY_TASK_MAX=8", "0/4")]      // --array=5-8: I counts from MIN
    [InlineData("SLURM_ARRAY_TASK_ID=7;SLURM_ARRAY_TASK_MIN=5;SLURM_ARRAY_TASK_MAX=8", "2/4")]
    [InlineData("SLURM_ARRAY_TASK_ID=3;SLURM_ARRAY_TASK_MAX=3", "3/4")]                            // MIN defaults to 0
    [InlineData("SLURM_ARRAY_TASK_ID=4;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=6;SLURM_ARRAY_TASK_STEP=2;SLURM_ARRAY_TASK_COUNT=4", "2/4")]  // --array=0-6:2
    [InlineData("SLURM_ARRAY_TASK_ID=2;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=3;SLURM_ARRAY_TASK_COUNT=4", "2/4")]  // what Slurm really sets: all of them
    public void ShardIndexReadsTheSlurmArraysMinAndMax(string env, string expected)
    {
        var r = Bash(Deploy("shard-index.sh"), Env(env));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected + "\n", r.Stdout);
    }

    [Theory]
    [InlineData("JOB_COMPLETION_INDEX=0;LANGEVIN_SHARDS=4", "0/4")]
    [InlineData("JOB_COMPLETION_INDEX=3;LANGEVIN_SHARDS=4", "3/4")]
    [InlineData("JOB_COMPLETION_INDEX=11;LANGEVIN_SHARDS=16", "11/16")]
    [InlineData("LANGEVIN_SHARD=1/3", "1/3")]
    [InlineData("LANGEVIN_SHARD=2/5;SLURM_ARRAY_TASK_ID=0;SLURM_ARRAY_TASK_COUNT=4", "2/5")]   // given by hand wins
    public void ShardIndexReadsKubernetesCompletionIndexAndTheExplicitShard(string env, string expected)
    {
        var r = Bash(Deploy("shard-index.sh"), Env(env));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected + "\n", r.Stdout);
    }

    [Fact]
    public void ShardIndexRefusesWithOneLineWhenNothingIsSet()
    {
        var r = Bash(Deploy("shard-index.sh"), new Dictionary<string, string>());
        AssertRefused(r, "nothing set");
        Assert.Contains("LANGEVIN_SHARD", r.Stderr);      // the line says what to set
    }

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID=4;SLURM_ARRAY_TASK_COUNT=4")]
    [InlineData("SLURM_ARRAY_TASK_ID=9;SLURM_ARRAY_TASK_COUNT=4")]
    [InlineData("SLURM_ARRAY_TASK_ID=4;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=3")]
    [InlineData("JOB_COMPLETION_INDEX=4;LANGEVIN_SHARDS=4")]
    [InlineData("LANGEVIN_SHARD=3/3")]
    [InlineData("LANGEVIN_SHARD=0/0")]
    public void ShardIndexRefusesAnIndexNotBelowTheCount(string env) =>
        AssertRefused(Bash(Deploy("shard-index.sh"), Env(env)), env);

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID=abc;SLURM_ARRAY_TASK_COUNT=4")]
    [InlineData("SLURM_ARRAY_TASK_ID=1;SLURM_ARRAY_TASK_COUNT=four")]
    [InlineData("SLURM_ARRAY_TASK_ID=1.5;SLURM_ARRAY_TASK_COUNT=4")]
    [InlineData("SLURM_ARRAY_TASK_ID=1")]                                                     // no count, no max
    [InlineData("SLURM_ARRAY_TASK_ID=2;SLURM_ARRAY_TASK_MIN=0;SLURM_ARRAY_TASK_MAX=5;SLURM_ARRAY_TASK_COUNT=3")]  // --array=0,2,5
    [InlineData("JOB_COMPLETION_INDEX=-1;LANGEVIN_SHARDS=4")]
    [InlineData("JOB_COMPLETION_INDEX=1;LANGEVIN_SHARDS= 4")]
    [InlineData("JOB_COMPLETION_INDEX=1;LANGEVIN_SHARDS=4x")]
    [InlineData("JOB_COMPLETION_INDEX=1")]                                                    // the count is not set
    [InlineData("LANGEVIN_SHARD=1")]
    [InlineData("LANGEVIN_SHARD=1/")]
    [InlineData("LANGEVIN_SHARD=a/b")]
    [InlineData("LANGEVIN_SHARD=1/2/3")]
    [InlineData("LANGEVIN_SHARD=99999999999/99999999999")]
    public void ShardIndexRefusesGarbage(string env) =>
        AssertRefused(Bash(Deploy("shard-index.sh"), Env(env)), env);

    // ---------------------------------------------------------------- Slurm job files

    static readonly Dictionary<string, string> SampleEnv = Env("RUN=/shared/runs/fmnist;OUT=/shared/samples/fmnist;N=1000;BATCH=50;SEED=7;DRY_RUN=1");

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(3)]
    public void SampleArrayDryRunPrintsTheShardsSampleCommand(int task)
    {
        var r = Bash(Deploy("slurm-sample-array.sbatch"), With(SampleEnv, ("SLURM_ARRAY_TASK_ID", $"{task}"), ("SLURM_ARRAY_TASK_COUNT", "4")));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"langevin sample --run /shared/runs/fmnist --n 1000 --batch 50 --shard {task}/4 --seed 7 --out /shared/samples/fmnist/shard-{task}.npy\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void SampleArrayDryRunHasDocumentedDefaultsAndCreatesNothing()
    {
        string cwd = Directory.CreateTempSubdirectory("langevin-deploy-cwd-").FullName;
        var r = Bash(Deploy("slurm-sample-array.sbatch"), Env("SLURM_ARRAY_TASK_ID=1;SLURM_ARRAY_TASK_COUNT=2;DRY_RUN=1"), workingDir: cwd);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("langevin sample --run runs/model --n 10000 --batch 100 --shard 1/2 --seed 0 --out samples/shard-1.npy\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(cwd, "samples")), "a dry run made the output folder");
    }

    [Fact]
    public void SampleArrayExecsExactlyTheLineItsDryRunPrints()
    {
        var (fake, argsFile) = FakeProgram("langevin", "echo $$ > \"$0.pid\"\n");
        string outDir = Path.Combine(Directory.CreateTempSubdirectory("langevin-deploy-out-").FullName, "with space");
        var env = With(SampleEnv, ("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("OUT", outDir),
            ("SAMPLE_ARGS", "--sampler ddim --steps 50"));
        var dry = Bash(Deploy("slurm-sample-array.sbatch"), env, fake);
        env.Remove("DRY_RUN");
        var real = Bash(Deploy("slurm-sample-array.sbatch"), env, fake);
        Assert.True(real.ExitCode == 0, real.Stderr);
        string[] expected = ["sample", "--run", "/shared/runs/fmnist", "--n", "1000", "--batch", "50", "--shard", "1/3", "--seed", "7",
            "--sampler", "ddim", "--steps", "50", "--out", Path.Combine(outDir, "shard-1.npy")];
        Assert.Equal([expected], Calls(argsFile));
        Assert.True(Directory.Exists(outDir), "the output folder is made before sampling");
        // exec: langevin takes the job step's process, so Slurm's signals (scancel, the time limit) reach it
        Assert.Equal(real.Pid.ToString(), File.ReadAllText(Path.Combine(fake, "langevin.pid")).Trim());
        // the dry-run line, read back by bash, is the same argument list (it quotes the space)
        var reparsed = Bash(WriteScript($"for a in {dry.Stdout.Trim()}; do printf '%s\\n' \"$a\"; done"), new Dictionary<string, string>());
        Assert.Equal(["langevin", .. expected], reparsed.StdoutLines);
    }

    static string WriteScript(string body)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("langevin-deploy-script-").FullName, "script.sh");
        File.WriteAllText(path, "set -euo pipefail\n" + body + "\n");
        return path;
    }

    [Fact]
    public void SampleArrayRefusesAShardCountOtherThanTheArrays()
    {
        var r = Bash(Deploy("slurm-sample-array.sbatch"), With(SampleEnv, ("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_COUNT", "4"), ("SHARDS", "3")));
        AssertRefused(r, "SHARDS=3 on an array of 4");
        Assert.Contains("--array=0-2", r.Stderr);
    }

    [Fact]
    public void SampleArrayOutsideAnArrayStopsOnShardIndexsLine()
    {
        var (fake, argsFile) = FakeProgram("langevin");
        var env = new Dictionary<string, string>(SampleEnv);
        env.Remove("DRY_RUN");
        var r = Bash(Deploy("slurm-sample-array.sbatch"), env, fake);
        AssertRefused(r, "no array task");
        Assert.StartsWith("shard-index.sh:", r.Stderr);
        Assert.Empty(Calls(argsFile));
    }

    [Fact]
    public void TrainDryRunPrintsTheMpiexecCommand()
    {
        var r = Bash(Deploy("slurm-train.sbatch"), Env("LAUNCH=mpiexec -n 2;RUN=/shared/runs/fmnist;DRY_RUN=1"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("mpiexec -n 2 langevin train --data fashion-mnist --method ddpm --steps 7500 --seed 0 --threads 1 --out /shared/runs/fmnist\n", r.Stdout);
    }

    [Theory]
    [InlineData("DRY_RUN=1", "srun langevin train --data fashion-mnist --method ddpm --steps 7500 --seed 0 --threads 1 --out runs/model")]
    [InlineData("DRY_RUN=1;LAUNCH=", "langevin train --data fashion-mnist --method ddpm --steps 7500 --seed 0 --threads 1 --out runs/model")]
    [InlineData("DRY_RUN=1;LAUNCH=srun --mpi=pmi2;LANGEVIN=apptainer exec langevin.sif langevin;DATA=checkerboard;METHOD=ncsn;STEPS=100;SEED=3;TRAIN_ARGS=--batch 64 --bf16;RESUME=1;RUN=r",
        "srun --mpi=pmi2 apptainer exec langevin.sif langevin train --data checkerboard --method ncsn --steps 100 --seed 3 --batch 64 --bf16 --threads 1 --out r --resume")]
    public void TrainDryRunDefaultsAndSettings(string env, string expected)
    {
        var r = Bash(Deploy("slurm-train.sbatch"), Env(env));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected + "\n", r.Stdout);
    }

    [Fact]
    public void TrainAsksSlurmForOneCorePerRank()
    {
        string text = Text("deploy/slurm-train.sbatch");
        Assert.Matches(new Regex(@"^#SBATCH --ntasks=\d+$", RegexOptions.Multiline), text);
        Assert.Matches(new Regex(@"^#SBATCH --cpus-per-task=1$", RegexOptions.Multiline), text);
    }

    [Fact]
    public void MergeDryRunPrintsMergeThenEval()
    {
        var r = Bash(Deploy("slurm-merge.sbatch"), Env("OUT=/shared/s;SHARDS=3;DRY_RUN=1"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(
            "langevin merge --out /shared/s/samples.npy /shared/s/shard-0.npy /shared/s/shard-1.npy /shared/s/shard-2.npy\n" +
            "langevin eval --samples /shared/s/samples.npy --ref fashion-mnist:test --json /shared/s/eval.json\n", r.Stdout);
        var noEval = Bash(Deploy("slurm-merge.sbatch"), Env("OUT=o;SHARDS=1;REF=;DRY_RUN=1"));
        Assert.Equal("langevin merge --out o/samples.npy o/shard-0.npy\n", noEval.Stdout);
        AssertRefused(Bash(Deploy("slurm-merge.sbatch"), Env("SHARDS=0;DRY_RUN=1")), "SHARDS=0");
    }

    [Fact]
    public void MergeRunsMergeAndStopsBeforeEvalWhenMergeFails()
    {
        var (fake, argsFile) = FakeProgram("langevin", "[[ \"$1\" == merge ]] && exit 1\nexit 0\n");
        var r = Bash(Deploy("slurm-merge.sbatch"), Env("OUT=o;SHARDS=2"), fake);
        Assert.True(r.ExitCode != 0, "the merge failed but the job succeeded");
        Assert.Equal([["merge", "--out", "o/samples.npy", "o/shard-0.npy", "o/shard-1.npy"]], Calls(argsFile));
    }

    [Fact]
    public void SubmitQueuesTheArrayThenTheMergeAfterIt()
    {
        // the fake sbatch records its arguments and the settings it would hand on, and prints ids as --parsable does
        var (fake, argsFile) = FakeProgram("sbatch",
            "printf '%s\\n' \"SHARDS=$SHARDS\" \"DEPLOY=$DEPLOY\" \"RUN=$RUN\" --END-- >> \"$0.env\"\n" +
            "n=$(grep -c -- --END-- \"$0.args\"); [[ $n == 1 ]] && echo '4242;cluster1' || echo 4243\n");
        var r = Bash(Deploy("submit-sampling.sh"), Env("RUN=/shared/runs/fmnist"), fake);      // SHARDS: its default, 4
        Assert.True(r.ExitCode == 0, r.Stderr);
        var calls = Calls(argsFile);
        Assert.Equal(2, calls.Count);
        Assert.Contains("--array=0-3", calls[0]);
        Assert.Contains("--parsable", calls[0]);
        Assert.Equal(Deploy("slurm-sample-array.sbatch"), calls[0][^1]);
        Assert.Contains("--dependency=afterok:4242", calls[1]);
        Assert.Contains("--parsable", calls[1]);
        Assert.Equal(Deploy("slurm-merge.sbatch"), calls[1][^1]);
        Assert.DoesNotContain(calls[1], a => a.StartsWith("--array"));
        foreach (var env in Calls(argsFile.Replace(".args", ".env")))
            Assert.Equal(["SHARDS=4", $"DEPLOY={Path.Combine(Root, "deploy")}", "RUN=/shared/runs/fmnist"], env);
        Assert.Contains("4242", r.Stdout);
        Assert.Contains("4243", r.Stdout);
    }

    [Fact]
    public void SubmitLimitsTheArrayAndQueuesNoMergeWithoutAnArrayId()
    {
        var (fake, argsFile) = FakeProgram("sbatch", "echo 'sbatch: error: invalid partition'\n");
        var r = Bash(Deploy("submit-sampling.sh"), Env("SHARDS=8;ARRAY_LIMIT=2"), fake);
        AssertRefused(r, "sbatch printed no id");
        var calls = Calls(argsFile);
        Assert.Single(calls);
        Assert.Contains("--array=0-7%2", calls[0]);
        var dry = Bash(Deploy("submit-sampling.sh"), Env("SHARDS=2;DRY_RUN=1"), fake);
        Assert.Equal(2, dry.StdoutLines.Length);
        Assert.Single(Calls(argsFile));          // a dry run submits nothing
        Assert.Contains("--dependency=afterok:ARRAY_JOB_ID", dry.StdoutLines[1]);
    }

    /// <summary>Every script: strict mode, valid syntax, DRY_RUN documented, and every setting it reads from the environment named in its top comment.</summary>
    [Theory]
    [InlineData("shard-index.sh")]
    [InlineData("slurm-train.sbatch")]
    [InlineData("slurm-sample-array.sbatch")]
    [InlineData("slurm-merge.sbatch")]
    [InlineData("submit-sampling.sh")]
    public void EveryScriptIsStrictParsesAndDocumentsItsSettings(string file)
    {
        string text = Text("deploy/" + file);
        Assert.StartsWith("#!/usr/bin/env bash\n", text);
        Assert.Matches(new Regex(@"^set -euo pipefail$", RegexOptions.Multiline), text);
        var syntax = Bash(WriteScript($"bash -n '{Deploy(file)}'"), new Dictionary<string, string>());
        Assert.True(syntax.ExitCode == 0, syntax.Stderr);
        string header = string.Join("\n", text.Split('\n').TakeWhile(l => l.StartsWith('#')));
        var settings = Regex.Matches(text, @"^\s*(\w+)=\$\{(\w+)[:]?-", RegexOptions.Multiline).Select(m => m.Groups[2].Value).ToList();
        if (file != "shard-index.sh")
        {
            Assert.Contains("DRY_RUN", settings);
            Assert.Contains("DRY_RUN=1", header);
        }
        foreach (var s in settings)
            Assert.True(Regex.IsMatch(header, $@"\b{s}\b"), $"{file} reads {s} but its top comment does not name it");
    }

    // ---------------------------------------------------------------- Kubernetes

    static int YamlInt(string yaml, string key)
    {
        var m = Regex.Matches(yaml, $@"^\s+{key}:\s*(\d+)\s*$", RegexOptions.Multiline);
        Assert.True(m.Count == 1, $"one '{key}:' expected, found {m.Count}");
        return int.Parse(m[0].Groups[1].Value);
    }

    /// <summary>The container's env list: "- name: K" followed by "value: V" (quotes taken off).</summary>
    static Dictionary<string, string> YamlEnv(string yaml) =>
        Regex.Matches(yaml, @"^\s*- name: ""?(\w+)""?\s*\n\s*value: (.*)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim().Trim('"'));

    /// <summary>The script of `command: ["bash", "-c"]`: the block scalar of args, its indentation removed.</summary>
    static string YamlScript(string yaml)
    {
        Assert.Contains("command: [\"bash\", \"-c\"]", yaml);
        var lines = yaml.Split('\n');
        int start = Array.FindIndex(lines, l => l.Trim() == "args:") + 1;
        Assert.True(start > 0 && lines[start].Trim() == "- |", "args: holds one block scalar");
        var body = lines.Skip(start + 1).TakeWhile(l => l.Trim().Length == 0 || l.StartsWith(new string(' ', lines[start].IndexOf('-') + 2))).ToList();
        int indent = body.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", body.Select(l => l.Length >= indent ? l[indent..] : ""));
    }

    [Fact]
    public void SampleJobIsIndexedWithCompletionsParallelismAndShardsAgreeing()
    {
        string yaml = Text("deploy/k8s-sample-job.yaml");
        Assert.Contains("apiVersion: batch/v1\nkind: Job\n", yaml);
        Assert.Matches(new Regex(@"^\s+completionMode: Indexed\s*$", RegexOptions.Multiline), yaml);
        int completions = YamlInt(yaml, "completions"), parallelism = YamlInt(yaml, "parallelism");
        var env = YamlEnv(yaml);
        Assert.Equal(completions, parallelism);
        Assert.Equal(completions.ToString(), env["LANGEVIN_SHARDS"]);
        Assert.Equal(env["LANGEVIN_SHARDS"], YamlEnv(Text("deploy/k8s-merge-job.yaml"))["LANGEVIN_SHARDS"]);
        Assert.Matches(new Regex(@"^shard=\$\(shard-index\.sh\)$", RegexOptions.Multiline), YamlScript(yaml));
        Assert.Contains("--shard \"$shard\"", YamlScript(yaml));
    }

    [Fact]
    public void BothJobsShareTheVolumeAndTheDockerfilesImage()
    {
        string sample = Text("deploy/k8s-sample-job.yaml"), merge = Text("deploy/k8s-merge-job.yaml");
        var pvc = Regex.Match(sample, @"kind: PersistentVolumeClaim\nmetadata:\n\s+name: (\S+)");
        Assert.True(pvc.Success, "k8s-sample-job.yaml defines the shared PersistentVolumeClaim");
        Assert.Contains("ReadWriteMany", sample);
        var tag = Regex.Match(Text("Dockerfile"), @"docker build -t (\S+) \.");
        Assert.True(tag.Success, "the Dockerfile's header says how to build it");
        foreach (var yaml in new[] { sample, merge })
        {
            Assert.Equal(pvc.Groups[1].Value, Regex.Match(yaml, @"^\s+claimName: (\S+)$", RegexOptions.Multiline).Groups[1].Value);
            Assert.Equal(tag.Groups[1].Value, Regex.Match(yaml, @"^\s+image: (\S+)$", RegexOptions.Multiline).Groups[1].Value);
            var mount = Regex.Match(yaml, @"^\s+mountPath: (\S+)$", RegexOptions.Multiline).Groups[1].Value;
            foreach (var (k, v) in YamlEnv(yaml).Where(kv => kv.Key is "RUN" or "OUT" or "LANGEVIN_CACHE"))
                Assert.True(v.StartsWith(mount + "/"), $"{k}={v} is not on the shared volume {mount}");
        }
    }

    /// <summary>The pods' scripts, run by bash with the Job's env (OUT moved to a temp folder), shard-index.sh and a fake langevin on PATH.</summary>
    static (Result Result, List<string[]> Calls, string Out) RunPod(string yamlFile, params (string, string)[] podEnv)
    {
        string yaml = Text("deploy/" + yamlFile);
        var (fake, argsFile) = FakeProgram("langevin");
        string shardIndex = Path.Combine(fake, "shard-index.sh");
        File.WriteAllText(shardIndex, $"#!/usr/bin/env bash\nexec bash '{Deploy("shard-index.sh")}' \"$@\"\n");
        MakeExecutable(shardIndex);
        string outDir = Path.Combine(Directory.CreateTempSubdirectory("langevin-deploy-pod-").FullName, "samples");
        var env = With(YamlEnv(yaml), [("OUT", outDir), .. podEnv]);
        var r = Bash(WriteScript(YamlScript(yaml)), env, fake);
        return (r, Calls(argsFile), outDir);
    }

    [Fact]
    public void SamplePodRunsItsShardFromTheCompletionIndex()
    {
        var (r, calls, outDir) = RunPod("k8s-sample-job.yaml", ("JOB_COMPLETION_INDEX", "1"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal([["sample", "--run", "/work/runs/model", "--n", "10000", "--batch", "100", "--shard", "1/4", "--seed", "0",
            "--out", Path.Combine(outDir, "shard-1.npy")]], calls);
        var beyond = RunPod("k8s-sample-job.yaml", ("JOB_COMPLETION_INDEX", "4"));
        AssertRefused(beyond.Result, "index 4 of 4 completions");
        Assert.Empty(beyond.Calls);
    }

    [Fact]
    public void MergePodMergesEveryShardThenEvaluates()
    {
        var (r, calls, outDir) = RunPod("k8s-merge-job.yaml");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string samples = Path.Combine(outDir, "samples.npy");
        Assert.Equal(2, calls.Count);
        Assert.Equal(["merge", "--out", samples, .. Enumerable.Range(0, 4).Select(i => Path.Combine(outDir, $"shard-{i}.npy"))], calls[0]);
        Assert.Equal(["eval", "--samples", samples, "--ref", "fashion-mnist:test", "--json", Path.Combine(outDir, "eval.json")], calls[1]);
    }

    // ---------------------------------------------------------------- Dockerfile

    [Fact]
    public void DockerfileCopiesOnlyWhatExistsAndLeavesBuildOutputsOut()
    {
        string dockerfile = Text("Dockerfile");
        var copies = Regex.Matches(dockerfile, @"^COPY (?!--from)(.+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value.Split(' ')).ToList();
        Assert.NotEmpty(copies);
        foreach (var parts in copies)
            foreach (var source in parts[..^1])
                Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)), $"COPY {source}: not in the repository");
        var ignore = File.ReadAllLines(Path.Combine(Root, ".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Contains("**/bin/", ignore);
        Assert.Contains("**/obj/", ignore);
        // nothing the build reads is ignored
        foreach (var needed in new[] { "global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "src/Langevin.Cli/Langevin.Cli.csproj",
                     "src/Langevin/Langevin.csproj", "src/Langevin/buildTransitive/Langevin.targets", "build/ElfVersionPatch/ElfVersionPatch.csproj", "deploy/shard-index.sh", "README.md" })
        {
            Assert.True(File.Exists(Path.Combine(Root, needed)), needed);
            Assert.DoesNotContain(ignore, p => Ignores(p, needed));
        }
        Assert.True(Ignores("**/bin/", "src/Langevin.Cli/bin/Release/net10.0/Langevin.Cli.dll"));   // the matcher matches
    }

    /// <summary>Whether a .dockerignore pattern (*, **, a trailing / for folders) leaves <paramref name="path"/> or a folder above it out.</summary>
    static bool Ignores(string pattern, string path)
    {
        string p = pattern.TrimEnd('/').TrimStart('/');
        string regex = "^" + Regex.Escape(p).Replace(@"\*\*/", "(.*/)?").Replace(@"\*\*", ".*").Replace(@"\*", "[^/]*").Replace(@"\?", "[^/]") + "(/.*)?$";
        return Regex.IsMatch(path, regex);
    }

    [Fact]
    public void DockerfilePublishesTheCliAsTheReadmeBuildsItAndWrapsIt()
    {
        string dockerfile = Text("Dockerfile"), readme = Text("README.md");
        Assert.Matches(new Regex(@"^FROM debian:bookworm(-slim)?( AS \w+)?$", RegexOptions.Multiline), dockerfile);
        Assert.DoesNotMatch(new Regex(@"^FROM (?!debian:bookworm)", RegexOptions.Multiline), dockerfile);
        var publish = Regex.Matches(dockerfile, @"^RUN (dotnet publish .+)$", RegexOptions.Multiline);
        Assert.Single(publish);
        string command = publish[0].Groups[1].Value.Trim();
        var parts = Regex.Match(command, @"^dotnet publish (\S+) -c Release -o (\S+)$");
        Assert.True(parts.Success, command);
        Assert.Equal("src/Langevin.Cli", parts.Groups[1].Value);
        Assert.True(File.Exists(Path.Combine(Root, "src/Langevin.Cli/Langevin.Cli.csproj")));
        Assert.Contains($"`{command}`", readme);                                 // the same command the README shows
        Assert.Contains("dotnet run --project src/Langevin.Cli -c Release", readme);  // and the README's own build of that project
        // the wrapper runs the DLL the publish writes, under the name the build gives it
        string dll = Path.GetFileName(CliRunner.BuiltProgram("src/Langevin.Cli", "Langevin.Cli.dll"));
        Assert.Contains($"exec dotnet {parts.Groups[2].Value}/{dll} \"$@\"", dockerfile);
        Assert.Contains("/usr/local/bin/langevin", dockerfile);
        // .NET 10 from Microsoft's Debian 12 feed, the SDK's major version global.json asks for; MPICH; shard-index.sh on PATH
        Assert.Contains("packages.microsoft.com/config/debian/12/packages-microsoft-prod.deb", dockerfile);
        var sdk = Regex.Match(Text("global.json"), @"""version"":\s*""(\d+)\.");
        Assert.Contains($"dotnet-sdk-{sdk.Groups[1].Value}.0", dockerfile);
        Assert.Contains($"dotnet-runtime-{sdk.Groups[1].Value}.0", dockerfile);
        Assert.Matches(new Regex(@"install -y --no-install-recommends [^\n]*\bmpich\b[^\n]*\blibmpich12\b"), dockerfile);
        Assert.Contains("COPY deploy/ /opt/langevin/deploy/", dockerfile);
        Assert.Contains("ln -s /opt/langevin/deploy/shard-index.sh /usr/local/bin/shard-index.sh", dockerfile);
    }
}
