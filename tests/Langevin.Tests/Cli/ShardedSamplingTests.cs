using Langevin.IO;
using Langevin.Methods;
using static TorchSharp.torch;

namespace Langevin.Tests.Cli;

/// <summary>
/// `sample --shard I/N` + `merge`: shards of whole batches, item noise seeded by (seed, item) and block noise by (seed, the
/// block's first item), so N tasks give exactly the samples one task draws — bit for bit, stochastic and deterministic.
/// </summary>
public class ShardedSamplingTests
{
    [Fact]
    public void ShardsOfWholeBlocksCoverTheDrawOnceInOrder()
    {
        var blocks = new SamplingBlocks(N: 1000, Batch: 77);
        Assert.Equal(13, blocks.BlockCount);
        Assert.Equal((924, 76), blocks.Block(12));
        foreach (int shards in new[] { 1, 2, 5, 13 })
        {
            var joined = Enumerable.Range(0, shards).SelectMany(i => blocks.For(new SampleShard(i, shards))).ToList();
            Assert.Equal(blocks.For(null), joined);
        }
        var ex = Assert.Throws<SettingException>(() => blocks.For(new SampleShard(0, 14)));
        Assert.Contains("at most 13 shards", ex.Message);
        Assert.Equal(new SampleShard(2, 5), SampleShard.Parse("2/5"));
        foreach (string bad in new[] { "5/5", "-1/3", "1", "a/b", "1/0", " 1/2" })
            Assert.Throws<SettingException>(() => SampleShard.Parse(bad));
    }

    [Fact]
    public void ItemNoiseDependsOnTheItemOnly()
    {
        using var all = SamplingBlocks.ItemNoise(seed: 7, first: 0, count: 10, itemShape: [3, 2]);
        using var part = SamplingBlocks.ItemNoise(seed: 7, first: 4, count: 3, itemShape: [3, 2]);
        using var other = SamplingBlocks.ItemNoise(seed: 8, first: 4, count: 3, itemShape: [3, 2]);
        Assert.Equal(0f, (all.narrow(0, 4, 3) - part).abs().max().item<float>());
        Assert.True((part - other).abs().max().item<float>() > 0.1f);
        Assert.Equal(new long[] { 10, 3, 2 }, all.shape);
        Assert.InRange(all.std().item<float>(), 0.7f, 1.3f);   // unit Gaussian: 60 draws
    }

    [Fact]
    public void ShardsMergedEqualTheUnshardedDrawBitForBit()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-shards-").FullName;
        string run = TinyRuns.DdpmOnShapes(dir, steps: 3);
        // ddpm (stochastic, catalog), ddim (deterministic, catalog), and the method's own sampler (no --sampler)
        foreach (var sampler in new[] { new[] { "--sampler", "ddpm", "--steps", "3" }, ["--sampler", "ddim", "--steps", "3"], [] })
        {
            string name = sampler.Length == 0 ? "own" : sampler[1];
            string[] draw = ["sample", "--run", run, "--n", "10", "--batch", "3", "--seed", "5", "--threads", "1", .. sampler];
            string whole = Path.Combine(dir, $"{name}-whole.npy");
            var w = CliRunner.Run([.. draw, "--out", whole]);
            Assert.True(w.ExitCode == 0, w.Stderr + w.Stdout);
            // 4 blocks (3, 3, 3, 1) in 3 shards: blocks {0}, {1}, {2, 3}
            var shards = new List<string>();
            for (int i = 0; i < 3; i++)
            {
                string path = Path.Combine(dir, $"{name}-shard-{i}.npy");
                var r = CliRunner.Run([.. draw, "--shard", $"{i}/3", "--out", path]);
                Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
                shards.Add(path);
            }
            using (var last = NpyFile.Read(shards[2])) Assert.Equal(4, last.shape[0]);
            string merged = Path.Combine(dir, $"{name}-merged.npy");
            // the shards given out of order, as a shell's glob might
            var m = CliRunner.Run("merge", "--out", merged, shards[2], shards[0], shards[1]);
            Assert.True(m.ExitCode == 0, m.Stderr + m.Stdout);
            Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(merged));
        }

        // the same samples wherever a block is drawn, but other blocks draw other noise: shard 1 is not shard 0
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir, "ddpm-shard-0.npy")), File.ReadAllBytes(Path.Combine(dir, "ddpm-shard-1.npy")));

        string[] ddpm = ["sample", "--run", run, "--n", "10", "--batch", "3", "--sampler", "ddpm", "--steps", "3", "--threads", "1"];
        string odd = Path.Combine(dir, "seed6.npy");
        Assert.Equal(0, CliRunner.Run([.. ddpm, "--seed", "6", "--shard", "1/3", "--out", odd]).ExitCode);
        string[] merge = ["merge", "--out", Path.Combine(dir, "bad.npy")];
        CliRunner.AssertFails(CliRunner.Run([.. merge, Path.Combine(dir, "ddpm-shard-0.npy"), Path.Combine(dir, "ddpm-shard-2.npy")]), 1, "1/3 missing");
        CliRunner.AssertFails(CliRunner.Run([.. merge, Path.Combine(dir, "ddpm-shard-0.npy"), odd, Path.Combine(dir, "ddpm-shard-2.npy")]), 1, "seed");
        CliRunner.AssertFails(CliRunner.Run([.. merge, Path.Combine(dir, "ddpm-shard-0.npy"), Path.Combine(dir, "ddpm-shard-0.npy")]), 1, "twice");
        CliRunner.AssertFails(CliRunner.Run([.. merge, Path.Combine(dir, "ddpm-whole.npy")]), 1, "shard.json");
        File.WriteAllText(ShardManifest.PathOf(odd), "{\"format\": \"langevin-shard-1\", \"shard\": 9}");
        CliRunner.AssertFails(CliRunner.Run([.. merge, odd]), 1, "not a shard manifest");
        Assert.False(File.Exists(Path.Combine(dir, "bad.npy")));
        CliRunner.AssertFails(CliRunner.Run([.. ddpm, "--shard", "0/5", "--out", odd]), 2, "--shard");
        CliRunner.AssertFails(CliRunner.Run([.. ddpm, "--shard", "0/2", "--grid", Path.Combine(dir, "g.png")]), 2, "--shard needs --out");
    }

    [Fact]
    public void CompareShardsOfCellsMergeIntoTheUnshardedGrid()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-compare-shards-").FullName;
        string mix = Path.Combine(dir, "mix.json");
        File.WriteAllText(mix, """{"weights": [0.3, 0.7], "means": [[-1.5, 0.5], [1.5, -0.5]], "std": 0.4}""");
        string[] grid = ["compare", "--model", $"analytic:{mix}", "--samplers", "ddim,heun,euler", "--nfe", "5,10", "--n", "200", "--seed", "2"];
        var whole = CliRunner.Run([.. grid, "--out", Path.Combine(dir, "whole")]);
        Assert.True(whole.ExitCode == 0, whole.Stderr + whole.Stdout);
        var parts = new List<string>();
        for (int i = 0; i < 4; i++)   // 6 cells in 4 shards: 1, 2, 1, 2 cells
        {
            var r = CliRunner.Run([.. grid, "--shard", $"{i}/4", "--out", Path.Combine(dir, "parts")]);
            Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
            parts.Add(Path.Combine(dir, "parts", $"compare.shard-{i}.json"));
        }
        string merged = Path.Combine(dir, "merged", "compare.json");
        var m = CliRunner.Run("merge", "--out", merged, parts[3], parts[1], parts[0], parts[2]);
        Assert.True(m.ExitCode == 0, m.Stderr + m.Stdout);
        Assert.True(File.Exists(Path.ChangeExtension(merged, ".png")));
        static string Cells(string path) => string.Join("\n", System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!["rows"]!.AsArray()
            .Select(r => $"{r!["sampler"]} {r["budget"]} {r["nfe"]} {(double)r["quality"]!:R}"));
        Assert.Equal(6, Cells(merged).Split('\n').Length);
        Assert.Equal(Cells(Path.Combine(dir, "whole", "compare.json")), Cells(merged));   // the same cells, the same quality to the bit

        CliRunner.AssertFails(CliRunner.Run("merge", "--out", merged, parts[0], parts[1], parts[2]), 1, "3/4 missing");
        var other = CliRunner.Run([.. grid.Select(x => x == "200" ? "100" : x), "--shard", "3/4", "--out", Path.Combine(dir, "other")]);
        Assert.True(other.ExitCode == 0, other.Stderr + other.Stdout);
        CliRunner.AssertFails(CliRunner.Run("merge", "--out", merged, parts[0], parts[1], parts[2], Path.Combine(dir, "other", "compare.shard-3.json")), 1, "another grid");
        CliRunner.AssertFails(CliRunner.Run([.. grid, "--shard", "0/7", "--out", dir]), 2, "at most 6");
    }
}
