using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Langevin.Metrics;

/// <summary>Degradations of images in [0, 1] used to calibrate the image metrics: a metric should grow with their strength.</summary>
public static class ImageCorruptions
{
    /// <summary>Separable Gaussian blur with standard deviation <paramref name="sigma"/> pixels, kernel radius ⌈3σ⌉, reflect padding.</summary>
    public static Tensor GaussianBlur(Tensor images, double sigma)
    {
        if (images.dim() != 4) throw new ArgumentException("expected [N, C, H, W] images", nameof(images));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sigma);
        using var scope = NewDisposeScope();
        int r = (int)Math.Ceiling(3 * sigma);
        var offsets = arange(-r, r + 1, dtype: ScalarType.Float32);
        var w = (-offsets.square() / (2 * sigma * sigma)).exp();
        w = w / w.sum();                                                       // normalised 1-D Gaussian
        long c = images.shape[1];
        var x = images.to(ScalarType.Float32);
        var kh = w.view(1, 1, 1, -1).expand(c, 1, 1, 2 * r + 1).contiguous();
        var kv = w.view(1, 1, -1, 1).expand(c, 1, 2 * r + 1, 1).contiguous();
        x = F.conv2d(F.pad(x, [r, r, 0, 0], PaddingModes.Reflect), kh, groups: c);
        x = F.conv2d(F.pad(x, [0, 0, r, r], PaddingModes.Reflect), kv, groups: c);
        return x.clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>x + N(0, std²) per pixel, clamped to [0, 1].</summary>
    public static Tensor AddGaussianNoise(Tensor images, double std, Generator gen)
    {
        using var scope = NewDisposeScope();
        var x = images.to(ScalarType.Float32);
        return (x + std * randn(x.shape, generator: gen)).clamp(0, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Images of i.i.d. U[0, 1] pixels: the ceiling of the metrics.</summary>
    public static Tensor UniformNoise(long n, long[] itemShape, Generator gen) =>
        rand([n, .. itemShape], generator: gen);
}
