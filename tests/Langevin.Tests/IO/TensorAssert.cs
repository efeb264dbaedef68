using static TorchSharp.torch;

namespace Langevin.Tests.IO;

static class TensorAssert
{
    /// <summary>Same dtype, shape and bytes (exact, NaN-safe, any dtype).</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ca = a.contiguous();
        using var cb = b.contiguous();
        return ca.numel() == 0 || ca.bytes.SequenceEqual(cb.bytes);
    }
}
