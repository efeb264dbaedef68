using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>Rank <see cref="Rank"/> of <see cref="Ranks"/> holds items [Rank·c, (Rank + 1)·c) of every per-item draw of c items.</summary>
public sealed record ItemSlice(int Rank, int Ranks);

/// <summary>
/// The per-item random draws of a training step (batch indices, timesteps, noise, label dropout, flips). With data-parallel
/// ranks (<see cref="Use"/>), every rank draws the whole step's items from the same generator and keeps its own rows, so
/// N ranks of batch B draw exactly what one process of batch N·B draws: the rank's share of the same per-item randomness.
/// Drawing N·B rows costs little beside the network. Without a slice, a draw is the plain torch call.
/// </summary>
public static class ItemDraws
{
    [ThreadStatic] static ItemSlice? _current;

    /// <summary>The slice of the running step (null: one process).</summary>
    public static ItemSlice? Current => _current;

    /// <summary>Draws of this thread take <paramref name="slice"/>'s rows until the result is disposed.</summary>
    public static IDisposable Use(ItemSlice slice)
    {
        var previous = _current;
        _current = slice;
        return new Restore(previous);
    }

    /// <summary>N(0, 1) of <paramref name="shape"/>, whose first dimension counts items.</summary>
    public static Tensor Randn(long[] shape, Generator gen, ScalarType? dtype = null, Device? device = null) =>
        Slice(shape, s => randn(s, generator: gen, dtype: dtype, device: device));

    /// <summary>U[0, 1) of <paramref name="shape"/>, whose first dimension counts items.</summary>
    public static Tensor Rand(long[] shape, Generator gen, ScalarType? dtype = null, Device? device = null) =>
        Slice(shape, s => rand(s, generator: gen, dtype: dtype, device: device));

    /// <summary>One integer in [low, high) per item.</summary>
    public static Tensor Randint(long low, long high, long count, Generator gen, Device? device = null) =>
        Slice([count], s => randint(low, high, s, generator: gen, device: device));

    static Tensor Slice(long[] shape, Func<long[], Tensor> draw)
    {
        if (_current is not { Ranks: > 1 } slice) return draw(shape);
        long count = shape[0];
        using var all = draw([count * slice.Ranks, .. shape[1..]]);
        return all.narrow(0, slice.Rank * count, count).clone();
    }

    sealed class Restore(ItemSlice? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
