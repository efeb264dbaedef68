using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Metrics;
using Langevin.Tests.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

/// <summary>A tiny feature network for shapes:16 (3 classes), trained in seconds, in a folder of its own.</summary>
public sealed class TinyShapesFeatureNetwork : IDisposable
{
    public static readonly FeatureTrainSettings Settings = new(Steps: 60, BatchSize: 32, Width: 4, FeatureDim: 16);
    public string Dir { get; } = Directory.CreateTempSubdirectory("langevin-shapes-features-").FullName;
    public string Path => System.IO.Path.Combine(Dir, "shapes16.safetensors");

    public TinyShapesFeatureNetwork()
    {
        set_num_threads(1);
        using var train = DataSources.Load("shapes:16", new DataOptions(Limit: 2000));
        using var net = FeatureNetworkTrainer.Train(train.X, train.Labels!, Settings);
        net.Save(Path);
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

public class ImageEvaluationProtocolTests(TinyShapesFeatureNetwork shapes) : IClassFixture<TinyShapesFeatureNetwork>
{
    [Fact]
    public void TheFloorOfRealShapesIsNearZeroRelativeToNoise()
    {
        using var protocol = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw("shapes:16", 0), 0, shapes.Path));
        Assert.Equal(new DataDraw("shapes:16", 1, FreshDraw: true), protocol.Floor);
        double floor = protocol.ScoreFloor(500, ["fd"])![0].Value;
        using var real = DataSources.Load("shapes:16", new DataOptions(Seed: 7, Limit: 500));
        using var real01 = real.X.add(1).div(2);
        using var g = new Generator(0);
        using var noise01 = rand([500, 3, 16, 16], generator: g);
        double fdReal = protocol.Score(real01, ["fd"])[0].Value, fdNoise = protocol.Score(noise01, ["fd"])[0].Value;
        Assert.True(floor > 0 && floor * 20 < fdNoise, $"floor {floor}, noise {fdNoise}");
        Assert.True(fdReal < 3 * floor, $"real {fdReal}, floor {floor}");   // another real draw scores like the floor
    }

    [Fact]
    public void AReferenceWithoutSplitsHasNoFloor()
    {
        string npy = Path.Combine(shapes.Dir, "ref.npy");
        using (var d = DataSources.Load("shapes:16", new DataOptions(Seed: 2, Limit: 40))) NpyFile.Write(npy, d.X.add(1).div(2));
        using var protocol = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw($"npy:{npy}", 0), 0, shapes.Path, "shapes:16"));
        Assert.Null(protocol.Floor);
        Assert.Equal(40, protocol.ReferenceCount);
        Assert.Null(protocol.ScoreFloor(10));
        using var x = zeros(10, 3, 16, 16);
        Assert.Equal(["fd", "is"], protocol.Score(x, ["fd", "is"]).Select(r => r.Metric));
    }

    [Fact]
    public void TheDefaultFeatureNetworkIsTrainedOnceThenTakenFromTheCache()
    {
        string? saved = Environment.GetEnvironmentVariable("LANGEVIN_CACHE");
        string cache = Path.Combine(shapes.Dir, "cache");
        try
        {
            Environment.SetEnvironmentVariable("LANGEVIN_CACHE", cache);
            var log = new List<string>();
            var settings = TinyShapesFeatureNetwork.Settings with { Steps = 3 };
            using var trained = FeatureNetworkCache.Open(null, "shapes:16", [3, 16, 16], log.Add, training: settings);
            string file = Path.Combine(cache, "features-shapes-3x16x16.safetensors");
            Assert.True(File.Exists(file));
            Assert.StartsWith("no feature network for shapes:16 [3, 16, 16] yet: training the default one once (3 steps", log[0]);
            Assert.Contains(log, l => l.StartsWith("test accuracy", StringComparison.Ordinal) && l.Contains("shapes:16 images"));
            log.Clear();
            using var cached = FeatureNetworkCache.Open(null, "shapes:16", [3, 16, 16], log.Add, training: settings);
            Assert.Equal([$"feature network: {file} (cached)"], log);
            using var x = zeros(4, 3, 16, 16);
            Assert.Equal(0, trained.Features(x).sub(cached.Features(x)).abs().max().item<float>());
            log.Clear();
            using var explicitFile = FeatureNetworkCache.Open(shapes.Path, "shapes:16", [3, 16, 16], log.Add);
            Assert.Empty(log);
            Assert.Throws<DataException>(() => FeatureNetworkCache.Open(shapes.Path, "shapes:16", [3, 32, 32]));
        }
        finally
        {
            Environment.SetEnvironmentVariable("LANGEVIN_CACHE", saved);
        }
    }

    [Fact]
    public void EvalAndCompareScoreTheSameSamplesAgainstTheSameReference()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-evalproto-").FullName;
        string run = TinyRuns.DdpmOnShapes(dir, steps: 2);

        var c = CliRunner.Run("compare", "--run", run, "--samplers", "ddim", "--nfe", "3", "--n", "16", "--ref", "shapes:16",
            "--features", shapes.Path, "--out", dir, "--threads", "1");
        Assert.True(c.ExitCode == 0, c.Stderr + c.Stdout);
        Assert.Contains("FD vs shapes:16 (lower is better), N = 16 per cell, seed 0; floor (N real images from shapes:16 (a fresh draw, seed 1))", c.Stdout);
        var compare = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "compare.json")))!;

        string npy = Path.Combine(dir, "s.npy"), json = Path.Combine(dir, "eval.json");
        var s = CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--steps", "3", "--n", "16", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        var e = CliRunner.Run("eval", "--samples", npy, "--ref", "shapes:16", "--features", shapes.Path, "--metrics", "fd", "--json", json, "--threads", "1");
        Assert.True(e.ExitCode == 0, e.Stderr + e.Stdout);
        Assert.Contains("floor = N real images from shapes:16 (a fresh draw, seed 1)", e.Stdout);
        var eval = JsonNode.Parse(File.ReadAllText(json))!;

        double cellFd = compare["rows"]![0]!["quality"]!.GetValue<double>(), evalFd = eval["metrics"]!["fd"]!["samples"]!.GetValue<double>();
        Assert.True(Math.Abs(cellFd - evalFd) <= 1e-6 * evalFd, $"compare {cellFd}, eval {evalFd}");
        double evalFloor = eval["metrics"]!["fd"]!["floor"]!.GetValue<double>(), compareFloor = compare["floor"]!.GetValue<double>();
        Assert.True(Math.Abs(evalFloor - compareFloor) <= 1e-9 * evalFloor, $"compare floor {compareFloor}, eval floor {evalFloor}");

        // Without --ref: the run's held-out data (a fresh draw of shapes:16); a reference of another shape is refused.
        var d = CliRunner.Run("compare", "--run", run, "--samplers", "ddim", "--nfe", "3", "--n", "16", "--features", shapes.Path, "--out", dir, "--threads", "1");
        Assert.True(d.ExitCode == 0, d.Stderr + d.Stdout);
        Assert.Contains("FD vs shapes:16 (a fresh draw, seed 1) (lower is better)", d.Stdout);
        CliRunner.AssertFails(CliRunner.Run("compare", "--run", run, "--samplers", "ddim", "--nfe", "3", "--n", "16", "--ref", "shapes:8",
            "--features", shapes.Path, "--out", dir), 2, "the model makes [3, 16, 16]");
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The protocol on Fashion-MNIST's real splits (the Debian package): tests/system.sh.</summary>
[Trait("Category", "System")]
public class ImageEvaluationProtocolOnFashionMnistTests(TinyFeatureNetwork fashion) : IClassFixture<TinyFeatureNetwork>
{
    [Fact]
    public void TheReferenceIsASeededDrawWithoutReplacementAndTheFloorContinuesItsGenerator()
    {
        // fashion-mnist's training split (60,000) as the reference: 10,000 drawn; the floor: N test images.
        using var protocol = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw("fashion-mnist", 3), 3, fashion.Path));
        Assert.Equal(ImageEvaluationProtocol.MaxReference, protocol.ReferenceCount);
        Assert.Equal(new DataDraw("fashion-mnist:test", 4), protocol.Floor);

        using var train = DataSources.Load("fashion-mnist", new DataOptions());
        using var test = DataSources.Load("fashion-mnist:test", new DataOptions());
        using var gen = new Generator(3);
        using var refIdx = randperm(60_000, generator: gen).narrow(0, 0, 10_000);
        using var floorIdx = randperm(10_000, generator: gen).narrow(0, 0, 300);
        using var ref01 = train.X.index_select(0, refIdx).add(1).div(2);
        using var floor01 = test.X.index_select(0, floorIdx).add(1).div(2);
        using var expectedRef = FeatureEmbedding.OfUnitImages(fashion.Network, ref01);
        using var expectedFloor = FeatureEmbedding.OfUnitImages(fashion.Network, floor01);
        Assert.Equal(0, expectedRef.Features.sub(protocol.Reference.Features).abs().max().item<double>());

        var floor = protocol.ScoreFloor(300, ["fd", "pr"])!;
        Assert.Equal(ImageSetEvaluation.Score(expectedFloor, expectedRef, ["fd", "pr"], 3), floor);
        Assert.Equal(floor, protocol.ScoreFloor(300, ["fd", "pr"]));   // the same floor every time
        using var samples01 = test.X.narrow(0, 0, 300).add(1).div(2);
        using var samplesE = FeatureEmbedding.OfUnitImages(fashion.Network, samples01);
        Assert.Equal(ImageSetEvaluation.Score(samplesE, expectedRef, null, 3), protocol.Score(samples01));

        using var again = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw("fashion-mnist", 3), 3, fashion.Path));
        Assert.Equal(0, again.Reference.Features.sub(protocol.Reference.Features).abs().max().item<double>());
        using var other = ImageEvaluationProtocol.Open(new ImageEvaluationSettings(new DataDraw("fashion-mnist", 3), 4, fashion.Path));
        Assert.NotEqual(0, other.Reference.Features.sub(protocol.Reference.Features).abs().max().item<double>());
        Assert.Null(protocol.ScoreFloor(10_001));   // the test split holds 10,000: no floor of that size
    }
}
