using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>
/// 2-D points drawn as a greyscale image (dark points on white, shade by log count per pixel): the frames of a
/// sampling-trajectory GIF for point data.
/// </summary>
public static class PointRaster
{
    /// <summary>Returns [1, size, size] in [0, 1]; y grows upwards; points outside the range are dropped.</summary>
    public static Tensor Render(Tensor points, (double Lo, double Hi) range, int size = 256)
    {
        if (points.dim() != 2 || points.shape[1] != 2)
            throw new ArgumentException($"points must be [N, 2], got [{string.Join(", ", points.shape)}]");
        using var scope = NewDisposeScope();
        var p = points.to(float64);
        var scaled = (p - range.Lo) / (range.Hi - range.Lo) * size;
        var col = scaled[.., 0].floor().to(int64);
        var row = (size - 1) - scaled[.., 1].floor().to(int64);
        var inside = (col >= 0) & (col < size) & (row >= 0) & (row < size);
        var index = (row * size + col)[inside];
        var counts = zeros(size * size, dtype: float64).index_add_(0, index, ones(index.shape[0], dtype: float64), 1);
        var shade = counts.log1p() / Math.Max(1e-9, counts.max().log1p().item<double>());
        return (1 - shade).reshape(1, size, size).to(float32).MoveToOuterDisposeScope();
    }
}
