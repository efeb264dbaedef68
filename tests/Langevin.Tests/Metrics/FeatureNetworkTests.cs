using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Metrics;
using Langevin.Tests.Cli;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

/// <summary>A tiny feature network trained once on the first 6,000 Fashion-MNIST training images (seconds), shared by the tests.</summary>
public sealed class TinyFeatureNetwork : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("langevin-features-").FullName;
    public string Path => System.IO.Path.Combine(Dir, "tiny.safetensors");
    public FeatureNetwork Network { get; }
    public Tensor Train01 { get; }
    public Tensor Test01 { get; }

    public TinyFeatureNetwork()
    {
        set_num_threads(1);
        using var train = DataSources.Load("fashion-mnist", new DataOptions(Limit: 6000));
        using var test = DataSources.Load("fashion-mnist:test", new DataOptions(Limit: 1000));
        Network = FeatureNetworkTrainer.Train(train.X, train.Labels!, new FeatureTrainSettings(Steps: 150, BatchSize: 64, Width: 8, FeatureDim: 32));
        Network.Save(Path);
        Train01 = train.X.add(1).div(2);
        Test01 = test.X.add(1).div(2);
        TestAccuracy = FeatureNetworkTrainer.Accuracy(Network, test.X, test.Labels!);
    }

    public double TestAccuracy { get; }

    public void Dispose()
    {
        Network.Dispose(); Train01.Dispose(); Test01.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

[Trait("Category", "System")]
public class FeatureNetworkTests(TinyFeatureNetwork tiny) : IClassFixture<TinyFeatureNetwork>
{
    [Fact]
    public void TinyNetworkLearnsAndRoundTripsThroughSafetensors()
    {
        Assert.True(tiny.TestAccuracy > 0.6, $"test accuracy {tiny.TestAccuracy}");   // 10 classes: chance is 0.1
        using var loaded = FeatureNetwork.Load(tiny.Path, [1, 28, 28]);
        using var x = tiny.Test01.narrow(0, 0, 50).mul(2).sub(1);
        var (f1, l1) = tiny.Network.Embed(x);
        var (f2, l2) = loaded.Embed(x);
        Assert.True(f1.isfinite().all().item<bool>());
        Assert.Equal(0, f1.sub(f2).abs().max().item<double>());
        Assert.Equal(0, l1.sub(l2).abs().max().item<double>());
        var e = Assert.Throws<DataException>(() => FeatureNetwork.Load(tiny.Path, [3, 32, 32]));
        Assert.Contains("reads [1, 28, 28] images", e.Message);
    }

    [Fact]
    public void MetricsSeparateRealFromNoiseAndWorsenWithCorruption()
    {
        // Calibration at N = 1000 (test images as the reference, training images as the samples).
        var rows = MetricCalibration.Run(tiny.Network, tiny.Train01, tiny.Test01, [1000], seed: 0);
        string table = string.Join("; ", rows.Select(r => $"{r.Condition}: " + string.Join(", ", r.Values.Select(v => $"{v.Metric} {v.Value:G3}"))));
        double Get(string condition, string metric) => rows.Single(r => r.Condition == condition).Values.Single(v => v.Metric == metric).Value;
        double floor = Get("real (floor)", "fd"), ceiling = Get("uniform noise (ceiling)", "fd");
        Assert.True(floor * 20 < ceiling, table);
        Assert.InRange(Get("real (floor)", "precision"), 0.8, 1.0);
        Assert.InRange(Get("real (floor)", "recall"), 0.8, 1.0);
        // Not precision: noise images collapse to a point the real manifold's widest balls cover (docs/metrics.md).
        Assert.True(Get("uniform noise (ceiling)", "recall") < 0.05, table);
        foreach (var family in new[] { "blur", "noise" })
        {
            var fds = rows.Where(r => r.Condition.StartsWith(family + " σ=", StringComparison.Ordinal))
                .Select(r => r.Values.Single(v => v.Metric == "fd").Value).ToArray();
            Assert.Equal(3, fds.Length);
            Assert.True(floor < fds[0] && fds[0] < fds[1] && fds[1] < fds[2], table);
            var kids = rows.Where(r => r.Condition.StartsWith(family + " σ=", StringComparison.Ordinal))
                .Select(r => r.Values.Single(v => v.Metric == "kid").Value).ToArray();
            Assert.True(kids[0] < kids[1] && kids[1] < kids[2], table);
        }
    }

    [Fact]
    public void EvalScoresImagesFromTheCachedNetworkAndRefusesBadInput()
    {
        string dir = tiny.Dir;
        var env = new Dictionary<string, string> { ["LANGEVIN_CACHE"] = Path.Combine(dir, "cache") };
        Directory.CreateDirectory(env["LANGEVIN_CACHE"]);
        File.Copy(tiny.Path, Path.Combine(env["LANGEVIN_CACHE"], "features-fashion-mnist-1x28x28.safetensors"), overwrite: true);
        string good = Path.Combine(dir, "good.npy"), json = Path.Combine(dir, "eval.json");
        using (var s = tiny.Test01.narrow(0, 0, 300)) NpyFile.Write(good, s);

        var r = CliRunner.RunWith(dir, env, "eval", "--samples", good, "--ref", "fashion-mnist", "--json", json, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("(cached)", r.Stdout);
        Assert.Contains("N = 300", r.Stdout);
        var o = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(300, o["n"]!.GetValue<int>());
        double fd = o["metrics"]!["fd"]!["samples"]!.GetValue<double>(), floor = o["metrics"]!["fd"]!["floor"]!.GetValue<double>();
        Assert.True(fd > 0 && floor > 0 && fd < 3 * floor + 1, $"fd {fd}, floor {floor}");   // test images are real images
        Assert.InRange(o["metrics"]!["precision"]!["samples"]!.GetValue<double>(), 0.7, 1.0);

        string Write(string name, Tensor t) { string p = Path.Combine(dir, name); NpyFile.Write(p, t); return p; }
        using var twice = tiny.Test01.narrow(0, 0, 10).mul(2);
        using var nan = tiny.Test01.narrow(0, 0, 10).clone().index_fill_(0, tensor(new long[] { 3 }), float.NaN);
        using var empty = zeros(0, 1, 28, 28);
        using var small = zeros(10, 1, 16, 16);
        CliRunner.AssertFails(CliRunner.RunWith(dir, env, "eval", "--samples", Write("range.npy", twice), "--ref", "fashion-mnist"), 1, "must be in [0, 1]");
        CliRunner.AssertFails(CliRunner.RunWith(dir, env, "eval", "--samples", Write("nan.npy", nan), "--ref", "fashion-mnist"), 1, "NaN");
        CliRunner.AssertFails(CliRunner.RunWith(dir, env, "eval", "--samples", Write("empty.npy", empty), "--ref", "fashion-mnist"), 1, "holds no samples");
        CliRunner.AssertFails(CliRunner.RunWith(dir, env, "eval", "--samples", Write("small.npy", small), "--ref", "fashion-mnist"), 1, "[1, 16, 16] images");

        // A feature network for another shape (trained by the CLI on shapes:16 for a few steps) is refused.
        string other = Path.Combine(dir, "shapes16.safetensors");
        var t = CliRunner.RunWith(dir, env, "features", "train", "--data", "shapes:16", "--steps", "5", "--width", "2", "--out", other, "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        Assert.Contains("accuracy", t.Stdout);
        CliRunner.AssertFails(CliRunner.RunWith(dir, env, "eval", "--samples", good, "--ref", "fashion-mnist", "--features", other), 1, "reads [3, 16, 16] images");
    }
}
