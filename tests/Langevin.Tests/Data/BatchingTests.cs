using Langevin.Data;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class BatchingTests
{
    [Fact]
    public void EachEpochVisitsEveryItemOnceAndEpochsDiffer()
    {
        var sampler = new BatchSampler(count: 10, batchSize: 5, seed: 3);
        var epoch0 = sampler.NextIndices().Concat(sampler.NextIndices()).ToArray();
        var epoch1 = sampler.NextIndices().Concat(sampler.NextIndices()).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(20, sampler.Position);
        Assert.Equal(2, sampler.Epoch);
        Assert.NotEqual(BatchSampler.Permutation(1000, 3, 0), BatchSampler.Permutation(1000, 4, 0));
    }

    [Fact]
    public void ResumingFromAPositionContinuesExactly()
    {
        var full = new BatchSampler(count: 37, batchSize: 8, seed: 11);
        var reference = Enumerable.Range(0, 20).Select(_ => full.NextIndices()).ToList();
        for (int stop = 0; stop < 20; stop++)
        {
            var first = new BatchSampler(37, 8, 11);
            for (int i = 0; i < stop; i++) first.NextIndices();
            var resumed = new BatchSampler(37, 8, 11, first.Position);
            for (int i = stop; i < 20; i++) Assert.Equal(reference[i], resumed.NextIndices());
        }
    }

    [Fact]
    public void BatchesCrossEpochBoundariesStayingFull()
    {
        var sampler = new BatchSampler(count: 5, batchSize: 3, seed: 0);
        var seen = Enumerable.Range(0, 5).SelectMany(_ => sampler.NextIndices()).ToArray();   // 15 = 3 epochs
        for (int e = 0; e < 3; e++) Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, seen.Skip(5 * e).Take(5).Order());
        for (int e = 0; e < 3; e++) Assert.Equal(BatchSampler.Permutation(5, 0, e), seen.Skip(5 * e).Take(5));
    }

    [Fact]
    public void NextGathersRows()
    {
        using var x = arange(12, ScalarType.Float32).view(6, 2);
        var sampler = new BatchSampler(6, 4, seed: 1);
        var idx = BatchSampler.Permutation(6, 1, 0);
        using var batch = sampler.Next(x);
        Assert.Equal(new long[] { 4, 2 }, batch.shape);
        Assert.Equal(idx.Take(4).Select(i => 2f * i), batch[.., 0].data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => sampler.Next(zeros(5, 2)));
    }

    [Fact]
    public void UniformBatchesAreSeeded()
    {
        using var x = arange(100, ScalarType.Float32).view(50, 2);
        using var g1 = new Generator(9);
        using var g2 = new Generator(9);
        using var a = Batches.Sample(x, 16, g1);
        using var b = Batches.Sample(x, 16, g2);
        Assert.Equal(new long[] { 16, 2 }, a.shape);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void HorizontalFlipMirrorsAboutHalfTheImages()
    {
        using var gen = new Generator(2);
        using var x = rand([1000, 2, 3, 5], generator: gen);
        using var y = Augment.RandomHorizontalFlip(x, gen);
        Assert.Equal(x.shape, y.shape);
        using var same = y.eq(x).flatten(1).all(1);
        using var mirrored = y.eq(x.flip(3)).flatten(1).all(1);
        Assert.True(same.logical_or(mirrored).all().item<bool>());
        long flipped = mirrored.sum().item<long>();
        Assert.InRange(flipped, 500 - 80, 500 + 80);   // Binomial(1000, 1/2): ±5 sd
    }
}
