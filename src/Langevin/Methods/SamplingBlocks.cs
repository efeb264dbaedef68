using System.Globalization;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>Shard <see cref="Index"/> (0-based) of <see cref="Count"/> of a draw: a contiguous run of its whole blocks.</summary>
public sealed record SampleShard(int Index, int Count)
{
    /// <summary>"I/N" with 0 ≤ I &lt; N.</summary>
    public static SampleShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return new SampleShard(i, n);
        throw SettingException.About("shard", text, "give I/N with 0 ≤ I < N (shard I of N, counted from 0)");
    }

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>
/// How a draw of <see cref="N"/> samples is made: blocks of <see cref="Batch"/> items, block k holding items
/// [k·B, min((k + 1)·B, N)). Item i's starting noise is seeded by (seed, i) and the noise a sampler adds inside a block by
/// (seed, the block's first item), so a block gives the same samples wherever it is drawn: N machines drawing shards of
/// whole blocks produce exactly the samples one machine draws (given the same N, B and seed), and a deterministic sampler
/// gives the same samples at any B.
/// </summary>
public sealed record SamplingBlocks(int N, int Batch)
{
    /// <summary>Items per block when none is asked for: 2¹⁷ values (167 Fashion-MNIST images, ≈ 1 GB of reference-U-Net
    /// activations at inference), at most 8,192 items (2-D points).</summary>
    public static int DefaultBatch(long[] itemShape)
    {
        long values = itemShape.Aggregate(1L, (a, b) => a * b);
        return (int)Math.Clamp((1L << 17) / Math.Max(1, values), 1, 8192);
    }

    public int BlockCount => (N + Batch - 1) / Batch;

    public (int Start, int Count) Block(int k) => (k * Batch, Math.Min(Batch, N - k * Batch));

    /// <summary>The blocks of <paramref name="shard"/> (all of them without one): blocks ⌊I·K/N⌋ … ⌊(I + 1)·K/N⌋ − 1 of K.</summary>
    public IReadOnlyList<(int Start, int Count)> For(SampleShard? shard)
    {
        int k = BlockCount;
        if (shard is null) return [.. Enumerable.Range(0, k).Select(Block)];
        if (shard.Count > k)
            throw SettingException.About("shard", shard, $"{shard.Count} shards of {k} block{(k == 1 ? "" : "s")} of {Batch} samples: ask for at most {k} shards, or a smaller batch");
        int from = (int)((long)shard.Index * k / shard.Count), to = (int)((long)(shard.Index + 1) * k / shard.Count);
        return [.. Enumerable.Range(from, to - from).Select(Block)];
    }

    /// <summary>Unit Gaussian noise [count, …item] of items first … first + count − 1, item i from its own generator seeded by
    /// (seed, i) in <paramref name="stream"/>, drawn on the CPU (the same numbers on any device).</summary>
    public static Tensor ItemNoise(long seed, int first, int count, long[] itemShape, ulong stream = Seeds.ItemNoise)
    {
        var rows = new Tensor[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                using var g = new Generator(Seeds.Of(seed, first + i, stream));
                rows[i] = randn([1, .. itemShape], generator: g);
            }
            return cat(rows, 0);
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }

    /// <summary>The generator of the noise a sampler adds inside the block that starts at <paramref name="start"/>.</summary>
    public static Generator BlockGenerator(long seed, int start, Device device) => new(Seeds.Of(seed, start, Seeds.BlockNoise), device);
}
