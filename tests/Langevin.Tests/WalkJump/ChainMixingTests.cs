using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Metrics;
using Langevin.Tests.Cli;
using Langevin.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Langevin.Tests.WalkJump;

public sealed class ChainMixingTests
{
    [Fact]
    public void CountsVisitedLabelsAndChangesPerWindow()
    {
        // window 1: 0 0 1 1 2 → 3 labels, 2 changes; window 2: 3 3 3 3 3 → 1 label, 0 changes; the tail "0 1" is ignored by
        // the windows, but the totals count every change (2→3 between the windows, 3→0 and 0→1 into the tail: 5 in all)
        int[] labels = [0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 0, 1];
        var r = ChainMixing.Compute(labels, 5);
        Assert.Equal(2, r.Windows);
        Assert.Equal(new[] { 3, 1 }, r.Visited);
        Assert.Equal(new[] { 2, 0 }, r.Changes);
        Assert.Equal(2.0, r.MeanVisited);
        Assert.Equal((1, 3), (r.MinVisited, r.MaxVisited));
        Assert.Equal(1.0, r.MeanChanges);
        Assert.Equal(5, r.TotalChanges);
        Assert.Equal(11, r.Transitions);
        Assert.Equal(4, r.VisitedOverall);
        var rows = r.Rows().ToDictionary(x => x.Metric, x => x.Value);
        Assert.Equal(5 / 11.0, rows["chain_change_rate"], 12);
        Assert.Equal(3, rows["chain_visited_max"]);
    }

    [Fact]
    public void AStuckChainAndAnAlternatingChainAreTheExtremes()
    {
        var stuck = ChainMixing.Compute(Enumerable.Repeat(7, 300).ToArray(), 100);
        Assert.All(stuck.Visited, v => Assert.Equal(1, v));
        Assert.Equal(0, stuck.TotalChanges);
        var cycling = ChainMixing.Compute(Enumerable.Range(0, 300).Select(i => i % 10).ToArray(), 100);
        Assert.All(cycling.Visited, v => Assert.Equal(10, v));
        Assert.All(cycling.Changes, c => Assert.Equal(99, c));
        Assert.ThrowsAny<UsageException>(() => ChainMixing.Compute([1, 2, 3], 4));
        Assert.ThrowsAny<UsageException>(() => ChainMixing.Compute([1, 2, 3], 1));
    }

    [Fact]
    public void LabelsComeFromTheNearestModeAndTheArgmax()
    {
        using var scope = NewDisposeScope();
        var modes = tensor(new[] { 0.0, 0, 10, 0, 0, 10 }, [3, 2]);
        var points = tensor(new[] { 9.0, 1, 0.1, -0.2, 4, 6, 1, 4.9 }, [4, 2]);
        Assert.Equal(new[] { 1, 0, 2, 0 }, ChainMixing.NearestMode(points, modes));
        var logits = tensor(new[] { 0.1f, 2, -1, 5, 0, 0 }, [2, 3]);
        Assert.Equal(new[] { 1, 0 }, ChainMixing.PredictedClass(logits));
    }

    [Fact]
    public void EvalReportsTheMixingOfAChainOfPointsAgainstIndependentDraws()
    {
        // 200 points sitting on 8gaussians' modes, in the order 0,0,1,1,2,2,…: each window of 100 visits all 8 modes with 49 changes
        using var dir = new TempDir();
        using var scope = NewDisposeScope();
        var modes = Toy2D.TryGet("8gaussians")!.Modes!;
        var pts = Enumerable.Range(0, 200).SelectMany(i => { var m = modes[i / 2 % 8]; return new[] { m.X, m.Y }; }).ToArray();
        string npy = Path.Combine(dir.Path, "chain.npy"), json = Path.Combine(dir.Path, "eval.json");
        NpyFile.Write(npy, tensor(pts, [200, 2]));
        var r = CliRunner.Run("eval", "--samples", npy, "--ref", "8gaussians", "--metrics", "modes", "--chain-window", "100", "--json", json, "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var metrics = JsonNode.Parse(File.ReadAllText(json))!["metrics"]!;
        Assert.Equal(8.0, metrics["chain_visited_mean"]!["samples"]!.GetValue<double>());
        Assert.Equal(49.0, metrics["chain_changes_mean"]!["samples"]!.GetValue<double>());
        Assert.True(metrics["chain_changes_mean"]!["floor"]!.GetValue<double>() > 75);   // independent draws change mode 7/8 of the time
        CliRunner.AssertFails(CliRunner.Run("eval", "--samples", npy, "--ref", "8gaussians", "--chain-window", "500"), 2, "window");
        CliRunner.AssertFails(CliRunner.Run("eval", "--samples", npy, "--ref", "checkerboard", "--chain-window", "100"), 2, "--chain-window");
    }
}
