using Langevin.IO;
using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Training;

public class CheckpointTests
{
    static readonly TrainConfig Config = new()
    {
        Data = "test", Steps = 2, BatchSize = 16, CheckpointEvery = 2, SampleEvery = 0, Threads = 1,
        Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 },
        Settings = new NcsnConfig { SigmaMax = 2, SigmaMin = 0.1, Levels = 3, StepsPerLevel = 1, StepSize = 1e-3 },
    };

    static string TrainedCheckpoint()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ckpt-").FullName;
        using var data = randn(64, 2);
        return Trainer.Run(new TrainRequest(Config, dir, Quiet: true), data).Checkpoint;
    }

    [Fact]
    public void CheckpointRoundTripsConfigShapeAndCounters()
    {
        using var ckpt = Checkpoint.Load(TrainedCheckpoint());
        Assert.Equal(Config.Settings, ckpt.Config.Settings);
        Assert.Equal(new long[] { 2 }, ckpt.ItemShape);
        Assert.Equal(2, ckpt.Step);
        Assert.Equal(2, ckpt.OptimizerSteps);
        Assert.Equal(2, ckpt.EmaUpdates);
        Assert.Equal(ckpt.Model.Keys.OrderBy(k => k), ckpt.Ema.Keys.OrderBy(k => k));
    }

    [Fact]
    public void WeightsOfAnotherArchitectureAreRefusedByName()
    {
        using var ckpt = Checkpoint.Load(TrainedCheckpoint());
        using var wider = MethodRegistry.Create(Config with { Network = Config.Network with { Width = 32 } }, [2]);
        var e = Assert.ThrowsAny<UsageException>(() => ckpt.LoadForSampling(wider));
        Assert.Contains("another architecture", e.Message);
        using var deeper = MethodRegistry.Create(Config with { Network = Config.Network with { Depth = 2 } }, [2]);
        Assert.ThrowsAny<UsageException>(() => ckpt.LoadForSampling(deeper));
    }

    [Fact]
    public void ASafetensorsFileThatIsNoCheckpointIsADataError()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("langevin-ckpt-").FullName, "plain.safetensors");
        using var t = ones(3);
        SafetensorsFile.Write(path, new Dictionary<string, Tensor> { ["w"] = t });
        var e = Assert.Throws<DataException>(() => Checkpoint.Load(path));
        Assert.Contains("not a Langevin checkpoint", e.Message);
    }

    [Fact]
    public void ConfigFilesWithUnknownFieldsOrBadJsonAreUsageErrors()
    {
        Assert.ThrowsAny<UsageException>(() => TrainConfig.FromJson("{\"stepz\": 3}", "c.json"));
        Assert.ThrowsAny<UsageException>(() => TrainConfig.FromJson("{not json", "c.json"));
        var round = TrainConfig.FromJson(Config.ToJson(), "c.json");
        Assert.Equal(Config.ToJson(), round.ToJson());
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporaryFile()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-atomic-").FullName;
        string path = Path.Combine(dir, "f.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.Write([9, 9]); throw new InvalidOperationException("disk full"); }));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));
    }
}
