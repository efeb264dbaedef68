using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Tests.Cli;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Training;

/// <summary>
/// Inputs that cannot hurt it: damaged checkpoints and configs, hand-edited logs, values that would make messages unreadable,
/// resumes with nothing left to do, a stop between a checkpoint and its preview, and refusals that leave nothing behind.
/// </summary>
public class DamagedInputTests
{
    static TrainConfig Config(long steps = 4, int sampleEvery = 0) => new()
    {
        Data = "test", Steps = steps, BatchSize = 16, CheckpointEvery = 2, SampleEvery = sampleEvery, Threads = 1,
        Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 },
        Settings = new DdpmConfig { Timesteps = 20, SampleSteps = 4 },
    };

    static string TempDir() => Directory.CreateTempSubdirectory("langevin-damaged-").FullName;

    static string TrainedCheckpoint(string dir)
    {
        using var data = randn(64, 2);
        return Trainer.Run(new TrainRequest(Config(), dir, Quiet: true, Previews: false), data).Checkpoint;
    }

    /// <summary>A copy of <paramref name="checkpoint"/> whose metadata <paramref name="edit"/> changed (the stored config as JSON).</summary>
    static string Damaged(string checkpoint, string name, Action<Dictionary<string, string>, JsonObject> edit)
    {
        using var content = SafetensorsFile.Read(checkpoint);
        var meta = content.Metadata.ToDictionary();
        var config = JsonNode.Parse(meta["config"])!.AsObject();
        edit(meta, config);
        if (!meta.ContainsKey("config!")) meta["config"] = config.ToJsonString();
        meta.Remove("config!");
        string path = Path.Combine(Path.GetDirectoryName(checkpoint)!, "..", $"{name}.safetensors");
        SafetensorsFile.Write(path, content.Tensors, meta);
        return Path.GetFullPath(path);
    }

    public static TheoryData<string, string> DamagedCheckpoints => new()
    {
        { "empty-config", "not describe a model this version can build" },
        { "width-0", "its stored config is invalid: network.width must be in 1..4096 (got 0)" },
        { "width-huge", "its stored config is invalid: network.width must be in 1..4096 (got 100000000)" },
        { "depth-huge", "its stored config is invalid: network.depth must be in 1..32 (got 100000)" },
        { "shape-0", "'item_shape' [0] is not an item shape" },
        { "shape-negative", "'item_shape' [-1] is not an item shape" },
        { "shape-huge", "'item_shape' [1000000000] is not an item shape" },
        { "shape-none", "'item_shape' [] is not an item shape" },
        { "network-null", "invalid config: 'network' is null" },
        { "mults-null", "invalid config: 'network.channel_mults' is null" },
        { "legacy-section-null", "invalid config: 'ncsn' is null" },
        { "settings-null", "invalid config: 'settings' is null" },
        { "timesteps-0", "its stored config is invalid: ddpm.timesteps must be in 2..100000 (got 0)" },
        { "step-negative", "checkpoint metadata 'step' is negative" },
    };

    static void Apply(string kind, Dictionary<string, string> meta, JsonObject config)
    {
        switch (kind)
        {
            case "empty-config": meta["config"] = "{}"; meta["config!"] = ""; break;
            case "width-0": config["network"]!["width"] = 0; break;
            case "width-huge": config["network"]!["width"] = 100_000_000; break;   // would allocate 40 PB
            case "depth-huge": config["network"]!["depth"] = 100_000; break;
            case "shape-0": meta["item_shape"] = "[0]"; break;
            case "shape-negative": meta["item_shape"] = "[-1]"; break;
            case "shape-huge": meta["item_shape"] = "[1000000000]"; break;
            case "shape-none": meta["item_shape"] = "[]"; break;
            case "network-null": config["network"] = null; break;
            case "mults-null": config["network"]!["channel_mults"] = null; break;
            case "legacy-section-null": meta["config"] = "{\"ncsn\": null}"; meta["config!"] = ""; break;
            case "settings-null": config["settings"] = null; break;
            case "timesteps-0": config["settings"]!["timesteps"] = 0; break;
            case "step-negative": meta["step"] = "-3"; break;
        }
    }

    [Theory]
    [MemberData(nameof(DamagedCheckpoints))]
    public void ADamagedCheckpointIsADataErrorNamingTheFile(string kind, string expected)
    {
        string checkpoint = TrainedCheckpoint(TempDir());
        string damaged = Damaged(checkpoint, kind, (meta, config) => Apply(kind, meta, config));
        var e = Assert.Throws<DataException>(() => TrainedRuns.OpenCheckpoint(damaged).Dispose());
        Assert.StartsWith(damaged, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheCliAnswersADamagedCheckpointInOneLineWithExitCodeOne()
    {
        string dir = TempDir();
        string damaged = Damaged(TrainedCheckpoint(dir), "cli", (meta, _) => meta["item_shape"] = "[1000000000]");
        var r = CliRunner.Run("sample", "--checkpoint", damaged, "--n", "4", "--out", Path.Combine(dir, "s.npy"));
        CliRunner.AssertFails(r, 1, "is not an item shape");
        Assert.DoesNotContain("internal error", r.Stderr);
        Assert.False(File.Exists(Path.Combine(dir, "s.npy")));
    }

    [Fact]
    public void MessagesQuoteAShortEscapedExcerptOfWhatTheyWereGiven()
    {
        var huge = new SettingException("network.kind", new string('k', 1 << 20), "must be auto, mlp, unet or adm");
        Assert.True(huge.Message.Length < 300, $"{huge.Message.Length} characters");
        Assert.Contains("(1,048,576 characters)", huge.Message);
        var control = new SettingException("data", "a\nb\u001b[31mred", "is not a data spec");
        Assert.DoesNotContain(control.Message, char.IsControl);
        Assert.Contains("'a\\nb\\x1B[31mred'", control.Message);
        string line = MessageText.OneLine("two\nlines " + new string('x', 5000));
        Assert.DoesNotContain(line, char.IsControl);
        Assert.True(line.Length < 1100);
    }

    [Fact]
    public void ADamagedLogIsReadForItsGoodLinesAndResumedOver()
    {
        string dir = TempDir(), log = Path.Combine(dir, "log.jsonl");
        File.WriteAllLines(log,
        [
            """{"step": 1, "loss": 0.5}""",
            """{"step": 2, "loss": "NaN"}""",
            "{}",
            """{"step": 2.5, "loss": 0.4}""",
            """{"step": 3, "loss": 0.3, "loss": 0.2}""",
            """{"step": -1, "loss": 0.1}""",
            "[1, 2]",
            "not json",
            """{"step": 4, "loss": 0.25}""",
        ]);
        Assert.Equal([(1L, 0.5), (4L, 0.25)], TrainingLog.ReadLosses(log));
        using (TrainingLog.Open(log, keepUpToStep: 3)) { }
        Assert.Equal([(1L, 0.5)], TrainingLog.ReadLosses(log));   // resume at step 3: later and damaged lines go
    }

    [Fact]
    public void AResumeWithNoStepsLeftReportsTheLastLossAndFewerStepsAreRefused()
    {
        string dir = TempDir();
        using var data = randn(64, 2);
        var first = Trainer.Run(new TrainRequest(Config(), dir, Quiet: true, Previews: false), data);
        var again = Trainer.Run(new TrainRequest(Config(), dir, Resume: true, Quiet: true, Previews: false), data);
        Assert.Equal(0, again.StepsTrained);
        Assert.Equal(4, again.Step);
        Assert.Equal(first.LastLoss, again.LastLoss);
        Assert.True(double.IsFinite(again.LastLoss));
        var e = Assert.Throws<SettingException>(() => Trainer.Run(new TrainRequest(Config(steps: 2), dir, Resume: true, Quiet: true, Previews: false), data));
        Assert.Contains("2 is below the 4 steps", e.Message);
    }

    [Fact]
    public void AResumedRunDrawsThePreviewAStopCostIt()
    {
        string dir = TempDir();
        using var data = randn(64, 2);
        Trainer.Run(new TrainRequest(Config(steps: 4, sampleEvery: 2), dir, Quiet: true), data);
        string owed = Path.Combine(dir, "samples", "step_0000004.png");
        Assert.True(File.Exists(owed));
        File.Delete(owed);   // as if killed while the preview of step 4 was being drawn, after its checkpoint
        Trainer.Run(new TrainRequest(Config(steps: 4, sampleEvery: 2), dir, Resume: true, Quiet: true), data);
        Assert.True(File.Exists(owed), "the resumed run did not draw the preview of its checkpoint's step");
    }

    [Fact]
    public void ARefusedTrainingLeavesNoRunFolder()
    {
        string dir = Path.Combine(TempDir(), "never");
        using var data = randn(64, 2);
        using var labels = tensor(Enumerable.Range(0, 64).Select(i => (long)(i % 8)).ToArray());
        var config = Config() with { Network = Config().Network with { Classes = 3 } };
        Assert.Throws<SettingException>(() => Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data, labels, null));
        Assert.False(Directory.Exists(dir), "a refused run created its folder");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "noisy-classifier", "--denoiser", Path.Combine(dir, "nope"), "--data", "8gaussians", "--out", dir), 2, "is not a folder");
        Assert.False(Directory.Exists(dir), "a refused command created its run folder");
    }
}
