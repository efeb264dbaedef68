using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>Conversions between stored image bytes and the [−1, 1] float32 range models train on.</summary>
public static class ImageTensors
{
    /// <summary>uint8 in 0..255 → float32 in [−1, 1]: x / 127.5 − 1 (DDPM's data scaling, Ho et al. 2020 §4).</summary>
    public static Tensor FromBytes(Tensor bytes)
    {
        if (bytes.dtype != ScalarType.Byte) throw new ArgumentException($"expected uint8, got {bytes.dtype}", nameof(bytes));
        using var scope = NewDisposeScope();
        return bytes.to_type(ScalarType.Float32).div(127.5f).sub(1f).MoveToOuterDisposeScope();
    }

    /// <summary>float in [−1, 1] → uint8 0..255, clamped and rounded (the inverse of <see cref="FromBytes"/>).</summary>
    public static Tensor ToBytes(Tensor x)
    {
        using var scope = NewDisposeScope();
        return x.add(1).mul(127.5).round().clamp(0, 255).to_type(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>[N, 3, H, W] → [N, 1, H, W] with the BT.601 luma 0.299 R + 0.587 G + 0.114 B; other channel counts unchanged (a copy).</summary>
    public static Tensor ToGrayscale(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"expected [N, C, H, W], got [{string.Join(", ", images.shape)}]", nameof(images));
        if (images.shape[1] != 3) return images.clone();
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 0.299f, 0.587f, 0.114f }).to_type(images.dtype).view(1, 3, 1, 1);
        return images.mul(w).sum(1, keepdim: true).MoveToOuterDisposeScope();
    }
}
