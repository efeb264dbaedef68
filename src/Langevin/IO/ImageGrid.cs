using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>
/// Tiles a batch of images into one picture (torchvision's <c>make_grid</c> layout) and writes it as PNG.
/// Images are float [N, C, H, W] with C = 1 or 3 and values in [0, 1] (clamped; NaN becomes 0).
/// </summary>
public static class ImageGrid
{
    /// <summary>Tiles smaller than this many pixels on their short side are upscaled by default.</summary>
    public const int MinTilePixels = 64;

    /// <summary>
    /// Tiles <paramref name="images"/> into a float [C, H', W'] grid in [0, 1]: <paramref name="columns"/> per row
    /// (default ⌈√N⌉), <paramref name="padding"/> black pixels around tiles, each image upscaled
    /// <paramref name="scale"/>× by nearest neighbour (default: enough for tiles of at least <see cref="MinTilePixels"/> px).
    /// A single [C, H, W] image is treated as a batch of one.
    /// </summary>
    public static Tensor Tile(Tensor images, int? columns = null, int padding = 2, int? scale = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var x = images.dim() == 3 ? images.unsqueeze(0) : images;
        if (x.dim() != 4 || x.shape[1] is not (1 or 3))
            throw new ArgumentException($"image grid: expected [N, C, H, W] with C = 1 or 3, got [{string.Join(", ", images.shape)}]");
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        if (n == 0 || h == 0 || w == 0) throw new ArgumentException("image grid: no pixels to draw");
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        int s = scale ?? Math.Max(1, (int)Math.Ceiling(MinTilePixels / (double)Math.Min(h, w)));
        ArgumentOutOfRangeException.ThrowIfLessThan(s, 1, nameof(scale));
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(n));
        ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1, nameof(columns));
        cols = (int)Math.Min(cols, n);
        long rows = (n + cols - 1) / cols;

        x = x.detach().cpu().to_type(ScalarType.Float32).nan_to_num(0).clamp(0, 1);
        if (s > 1) x = x.repeat_interleave(s, 2).repeat_interleave(s, 3);
        long th = h * s, tw = w * s;
        var grid = zeros(c, padding + rows * (th + padding), padding + cols * (tw + padding));
        for (long i = 0; i < n; i++)
        {
            long top = padding + i / cols * (th + padding), left = padding + i % cols * (tw + padding);
            grid[TensorIndex.Colon, TensorIndex.Slice(top, top + th), TensorIndex.Slice(left, left + tw)] = x[i];
        }
        return grid.MoveToOuterDisposeScope();
    }

    /// <summary>Tiles <paramref name="images"/> (see <see cref="Tile"/>) and writes a PNG atomically.</summary>
    public static void SavePng(string path, Tensor images, int? columns = null, int padding = 2, int? scale = null)
    {
        using var grid = Tile(images, columns, padding, scale);
        AtomicFile.WriteAllBytes(path, EncodePng(grid));
    }

    /// <summary>Encodes one float [C, H, W] image in [0, 1] (C = 1: 8-bit grey, C = 3: RGB) as PNG bytes.</summary>
    public static byte[] EncodePng(Tensor image)
    {
        if (image.dim() != 3 || image.shape[0] is not (1 or 3))
            throw new ArgumentException($"png: expected [C, H, W] with C = 1 or 3, got [{string.Join(", ", image.shape)}]");
        int h = (int)image.shape[1], w = (int)image.shape[2];
        byte[] pixels = ToBytesHwc(image, alpha: image.shape[0] == 3);
        var info = new SKImageInfo(w, h, image.shape[0] == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var img = SKImage.FromPixelCopy(info, pixels)
            ?? throw new InvalidOperationException("png: SkiaSharp could not wrap the pixels");
        using var data = img.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("png: SkiaSharp could not encode the image");
        return data.ToArray();
    }

    /// <summary>Quantises [C, H, W] in [0, 1] to bytes in H, W, C order (round to nearest), optionally adding opaque alpha.</summary>
    internal static byte[] ToBytesHwc(Tensor image, bool alpha = false)
    {
        using var scope = NewDisposeScope();
        var q = image.detach().cpu().to_type(ScalarType.Float32).nan_to_num(0).clamp(0, 1).mul(255).round().to_type(ScalarType.Byte);
        if (alpha) q = cat([q, full(1, q.shape[1], q.shape[2], 255, dtype: ScalarType.Byte)], 0);
        return q.permute(1, 2, 0).contiguous().bytes.ToArray();
    }
}
