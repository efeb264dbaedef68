using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// Epoch-shuffled mini-batches whose whole state is <see cref="Position"/>: the number of indices handed out so far.
/// Epoch e visits the items in a permutation fixed by (seed, e), so a sampler rebuilt from (count, batch size, seed,
/// position) continues exactly where a saved one stopped. Every batch is full: one that crosses the end of an epoch
/// takes the rest of that epoch's permutation and the start of the next.
/// </summary>
/// <remarks>
/// The permutation is a Fisher–Yates shuffle driven by SplitMix64 (Steele et al. 2014) with unbiased bounded draws,
/// implemented here rather than with torch.randperm so it does not depend on the libtorch version.
/// </remarks>
public sealed class BatchSampler
{
    long[]? _permutation;
    long _permutationEpoch = -1;

    public BatchSampler(long count, int batchSize, long seed, long position = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        if (count > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(count), "too many items to shuffle");
        Count = count; BatchSize = batchSize; Seed = seed; Position = position;
    }

    /// <summary>Number of items N the indices range over.</summary>
    public long Count { get; }

    public int BatchSize { get; }

    public long Seed { get; }

    /// <summary>Indices handed out since the start of epoch 0; save it with a checkpoint, pass it back to resume.</summary>
    public long Position
    {
        get => _position;
        set { ArgumentOutOfRangeException.ThrowIfNegative(value); _position = value; }
    }
    long _position;

    /// <summary>The epoch the next index comes from.</summary>
    public long Epoch => Position / Count;

    /// <summary>The next batch of indices (<see cref="BatchSize"/> of them), advancing <see cref="Position"/>.</summary>
    public long[] NextIndices()
    {
        var result = new long[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            long epoch = Position / Count;
            if (epoch != _permutationEpoch) { _permutation = Permutation(Count, Seed, epoch); _permutationEpoch = epoch; }
            result[i] = _permutation![Position % Count];
            Position++;
        }
        return result;
    }

    /// <summary>The next batch of rows of <paramref name="x"/> (which must have <see cref="Count"/> rows).</summary>
    public Tensor Next(Tensor x)
    {
        if (x.shape[0] != Count) throw new ArgumentException($"the sampler covers {Count} items, the tensor has {x.shape[0]} rows", nameof(x));
        using var idx = tensor(NextIndices(), device: x.device);
        return x.index_select(0, idx);
    }

    /// <summary>The permutation of 0..count−1 that epoch <paramref name="epoch"/> visits for <paramref name="seed"/>.</summary>
    public static long[] Permutation(long count, long seed, long epoch)
    {
        var p = new long[count];
        for (long i = 0; i < count; i++) p[i] = i;
        var rng = new SplitMix64(SplitMix64.Mix((ulong)seed ^ SplitMix64.Mix((ulong)epoch + 0x632BE59BD9B4E019UL)));
        for (long i = count - 1; i > 0; i--)
        {
            long j = (long)rng.NextBelow((ulong)i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    struct SplitMix64(ulong state)
    {
        ulong _state = state;

        public static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public ulong Next() => Mix(_state += 0x9E3779B97F4A7C15UL);

        // Uniform on 0..bound−1 without modulo bias: reject the low (2^64 mod bound) values.
        public ulong NextBelow(ulong bound)
        {
            ulong threshold = (0UL - bound) % bound;
            while (true)
            {
                ulong r = Next();
                if (r >= threshold) return r % bound;
            }
        }
    }
}

/// <summary>Independent mini-batches: indices drawn uniformly with replacement.</summary>
public static class Batches
{
    /// <summary><paramref name="batchSize"/> rows of <paramref name="x"/> chosen uniformly with replacement.</summary>
    public static Tensor Sample(Tensor x, int batchSize, Generator gen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (x.shape[0] < 1) throw new ArgumentException("cannot sample from an empty tensor", nameof(x));
        using var idx = randint(0, x.shape[0], [batchSize], ScalarType.Int64, generator: gen);
        using var onDevice = idx.to(x.device);
        return x.index_select(0, onDevice);
    }
}

/// <summary>Data augmentation on batches.</summary>
public static class Augment
{
    /// <summary>Mirrors each image of a [B, C, H, W] batch left–right with probability 1/2 (a new tensor).</summary>
    public static Tensor RandomHorizontalFlip(Tensor batch, Generator gen)
    {
        if (batch.dim() != 4) throw new ArgumentException($"expected [B, C, H, W], got [{string.Join(", ", batch.shape)}]", nameof(batch));
        using var scope = NewDisposeScope();
        var flip = Training.ItemDraws.Rand([batch.shape[0]], gen, device: batch.device).lt(0.5).view(-1, 1, 1, 1);   // gen lives on the batch's device
        return where(flip, batch.flip(3), batch).MoveToOuterDisposeScope();
    }
}
