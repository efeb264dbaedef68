using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Methods;

/// <summary>Catalog samplers draw the same samples at any batch (per-sample chain noise), and the batch a memory budget allows.</summary>
public class SamplingBudgetTests(ITestOutputHelper output)
{
    static readonly Lazy<string> PointsRun = new(() =>
    {
        using var data = Training.TrainingCoreTests.Points();
        string dir = Training.TrainingCoreTests.TempDir();
        var config = Training.TrainingCoreTests.Tiny("ddpm", 30);
        Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data);
        return dir;
    });

    static Tensor Draw(IGenerativeMethod method, SamplerRequest sampler, int? batch, int n = 10) =>
        MethodSampling.Run(method, new DrawRequest { N = n, Sampler = sampler.Sampler, Steps = sampler.Steps, Catalog = sampler, Batch = batch },
            new Generator(4), ProgressRunners.Silent).Samples;

    public static IEnumerable<object[]> StochasticSamplers =>
    [
        [new SamplerRequest { Sampler = "ddpm", Steps = 6 }],
        [new SamplerRequest { Sampler = "ddim", Steps = 6, Eta = 1.0 }],
        [new SamplerRequest { Sampler = "euler-ancestral", Steps = 6 }],
        [new SamplerRequest { Sampler = "edm", Steps = 6, Churn = 20.0 }],
        [new SamplerRequest { Sampler = "euler-maruyama", Steps = 6 }],
        // not pc: its corrector's step size is a statistic of the batch (mean norms, as score_sde's LangevinCorrector)
    ];

    [Theory]
    [MemberData(nameof(StochasticSamplers))]
    public void AStochasticSamplerGivesTheSameSamplesAtAnyBatch(SamplerRequest sampler)
    {
        using var method = TrainedRuns.OpenRun(PointsRun.Value);
        using var whole = Draw(method, sampler, batch: 10);
        using var threes = Draw(method, sampler, batch: 3);
        using var ones = Draw(method, sampler, batch: 1);
        using var budgeted = Draw(method, sampler, batch: null);
        double worst = new[] { threes, ones, budgeted }.Max(t => (t - whole).abs().max().item<float>());
        double scale = whole.abs().max().item<float>();
        output.WriteLine($"{sampler.Sampler}: largest difference across batches 10, 3, 1 and the budget's: {worst:G3} (samples up to {scale:F2})");
        // the same noise: only float rounding, which the network's kernels do differently at different batch sizes
        Assert.True(worst < 1e-4 * (1 + scale), $"{sampler.Sampler}: samples change with the batch by {worst}");
        // and the chain noise is there: another seed's samples differ beyond the start noise's share
        using var other = MethodSampling.Run(method, new DrawRequest { N = 10, Sampler = sampler.Sampler, Steps = sampler.Steps, Catalog = sampler, Batch = 10 },
            new Generator(5), ProgressRunners.Silent).Samples;
        Assert.True((other - whole).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void PerSampleNoiseDependsOnTheSampleAndTheDrawOnly()
    {
        using var x = zeros(5, 3);
        Tensor Draws(int first, int count)
        {
            using var _ = SamplerNoise.PerItem(seed: 9, first, count, CPU);
            using var rows = x.narrow(0, 0, count);
            return stack([SamplerNoise.Like(rows, null), SamplerNoise.Like(rows, null)]);   // [2 draws, count, 3]
        }
        using var all = Draws(0, 5);
        using var tail = Draws(2, 3);
        Assert.True(all.narrow(1, 2, 3).eq(tail).all().item<bool>());   // samples 2..4 get the same noise in either block
        Assert.False(all[0].eq(all[1]).any().item<bool>());             // successive draws differ
        using var outside = SamplerNoise.Like(x, new Generator(1));          // no scope: the plain generator
        Assert.Equal(new long[] { 5, 3 }, outside.shape);
        using (SamplerNoise.PerItem(9, 0, 4, CPU))
            Assert.Throws<InvalidOperationException>(() => SamplerNoise.Like(x, null));   // 5 rows in a block of 4: a sampler bug
    }

    [Fact]
    public void TheBudgetBatchGrowsWithTheBudgetAndIsMeasuredOnTheNetwork()
    {
        using var g = new Generator(1);
        using var data = rand([64, 1, 16, 16], generator: g) * 2 - 1;
        string dir = Training.TrainingCoreTests.TempDir();
        var config = new TrainConfig
        {
            Data = "test-images", Steps = 1, BatchSize = 4, CheckpointEvery = 1, SampleEvery = 0, Threads = 1,
            Network = new NetworkConfig { Kind = "unet", BaseChannels = 16, ChannelMults = [1, 2], NumResBlocks = 1 },
            Settings = new DdpmConfig { SampleSteps = 2 },
        };
        Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data);
        using var method = TrainedRuns.OpenRun(dir);
        method.Eval();
        var cost = SamplingBudget.Measure(((IDenoisingMethod)method).Denoiser, method.ItemShape, CPU);
        Assert.NotNull(cost);
        output.WriteLine($"U-Net 16/32 at 16×16: {cost!.PerSampleBytes / 1e3:F0} kB per sample, {cost.ResidentBytes / 1e6:F0} MB resident");
        // at least the input and the first block's activations (16 channels × 256 pixels × 4 bytes), far below a GB
        Assert.InRange(cost.PerSampleBytes, 16 * 256 * 4, 100_000_000);
        int small = cost.BatchWithin(cost.ResidentBytes + 20 * cost.PerSampleBytes), large = cost.BatchWithin(cost.ResidentBytes + 400 * cost.PerSampleBytes);
        Assert.Equal((20, 400), (small, large));
        Assert.Equal(10, cost.BatchWithin(cost.ResidentBytes + 20 * cost.PerSampleBytes, calls: 2));   // classifier-free guidance: two batches a call
        Assert.Equal(1, cost.BatchWithin(cost.ResidentBytes / 2));            // over budget already: one at a time
        var request = new DrawRequest { N = 1000, Sampler = "ddim", Steps = 2, MemoryBudget = cost.ResidentBytes + 300 * cost.PerSampleBytes };
        int batch = MethodSampling.BatchOf(method, request, out string? note);
        output.WriteLine(note);
        Assert.InRange(batch, 100, 1500);                                    // re-measured: the same order (page-granular, ±2×)
        Assert.Contains("per sample measured", note);
        Assert.Equal(SamplingBlocks.DefaultBatch(method.ItemShape), MethodSampling.BatchOf(method, request with { Shard = new SampleShard(0, 2) }));
    }

    [Theory]
    [InlineData("1.5G", 1536L << 20)]
    [InlineData("800M", 800L << 20)]
    [InlineData("800m", 800L << 20)]
    [InlineData("2048", 2048L << 20)]
    [InlineData("0", null)]
    [InlineData("-1G", null)]
    [InlineData("lots", null)]
    [InlineData("1.5GB", null)]
    public void MemorySizesAreGigabytesOrMegabytes(string text, long? bytes) => Assert.Equal(bytes, SamplingBudget.ParseSize(text));
}
