using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>Embeddings of a scalar conditioning value (timestep, noise level) shared by every network here.</summary>
public static class TimeEmbedding
{
    /// <summary>
    /// Sinusoidal embedding of <paramref name="t"/> [B] → [B, dim]: first half sin, second half cos, frequencies
    /// exp(−ln(10000)·i/(dim/2)), i = 0..dim/2−1 (Vaswani et al. 2017 §3.5; Ho et al. 2020, App. B).
    /// The highest frequency is 1, so pass t on a scale of ~0..1000 (a DDPM step index, 1000·t, or e.g. 250·ln σ).
    /// </summary>
    public static Tensor SinusoidalEmbedding(Tensor t, int dim)
    {
        if (dim < 2 || dim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, "embedding dimension must be even and ≥ 2");
        if (t.dim() != 1)
            throw new ArgumentException($"t must have shape [B], got [{string.Join(", ", t.shape)}]", nameof(t));
        int half = dim / 2;
        using var scope = NewDisposeScope();
        var i = arange(half, dtype: ScalarType.Float32, device: t.device);
        var freqs = exp(i * (-Math.Log(10000.0) / half));
        var args = t.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        return scope.MoveToOuter(cat([sin(args), cos(args)], 1));
    }
}
