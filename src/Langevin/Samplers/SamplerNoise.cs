using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// The Gaussian noise a stochastic catalog sampler adds along its chain (EDM's churn, DDPM's posterior noise, ancestral
/// and SDE steps, the predictor–corrector's Langevin steps). Plainly it comes from the sampler's generator, so it depends
/// on which samples share a batch. Inside <see cref="PerItem"/> — how <c>langevin sample</c> draws — row i of every draw
/// comes from a generator of sample i's own, seeded by (seed, i): a sample's whole chain is then the same at any batch
/// size and in any shard, so a batch chosen from a memory budget changes nothing but speed and memory.
/// </summary>
public static class SamplerNoise
{
    [ThreadStatic] static ItemGenerators? _items;

    /// <summary>Draws of this thread take their rows from samples first … first + count − 1's own generators until disposed.</summary>
    public static IDisposable PerItem(long seed, int first, int count, Device device)
    {
        var previous = _items;
        _items = new ItemGenerators(seed, first, count, device);
        return new Restore(previous);
    }

    /// <summary>N(0, I) like <paramref name="x"/> (first dimension: the samples), from the per-sample generators when a
    /// <see cref="PerItem"/> scope is open, else from <paramref name="gen"/>.</summary>
    public static Tensor Like(Tensor x, Generator? gen)
    {
        if (_items is not { } items) return randn(x.shape, generator: gen, dtype: x.dtype, device: x.device);
        if (x.shape[0] != items.Count)
            throw new InvalidOperationException($"a per-sample noise draw of {x.shape[0]} rows in a block of {items.Count} samples");
        return items.Randn(x);
    }

    sealed class ItemGenerators(long seed, int first, int count, Device device) : IDisposable
    {
        readonly Generator[] _generators = [.. Enumerable.Range(first, count).Select(i => new Generator(Seeds.Of(seed, i, Seeds.BlockNoise), device))];

        public int Count => count;

        public Tensor Randn(Tensor x)
        {
            long[] row = [1, .. x.shape[1..]];
            var rows = new Tensor[count];
            try
            {
                for (int i = 0; i < count; i++) rows[i] = randn(row, generator: _generators[i], dtype: x.dtype, device: x.device);
                return cat(rows, 0);
            }
            finally
            {
                foreach (var r in rows) r?.Dispose();
            }
        }

        public void Dispose()
        {
            foreach (var g in _generators) g.Dispose();
        }
    }

    sealed class Restore(ItemGenerators? previous) : IDisposable
    {
        public void Dispose()
        {
            _items?.Dispose();
            _items = previous;
        }
    }
}
