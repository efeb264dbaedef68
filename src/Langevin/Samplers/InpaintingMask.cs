using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>Which pixels of [N, C, H, W] images an inpainting task must fill: a half, split at row ⌊H/2⌋ or column ⌊W/2⌋, or the centre.</summary>
public static class InpaintingMask
{
    /// <summary>The kinds <see cref="Make"/> knows: the unknown part is the right, left, top or bottom half, or the centre: rows ⌊H/4⌋..⌊3H/4⌋ × columns ⌊W/4⌋..⌊3W/4⌋ (ends excluded).</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["right-half", "left-half", "top-half", "bottom-half", "center"];

    /// <summary>A float32 mask of <paramref name="shape"/> [N, C, H, W]: 1 where a pixel is known, 0 where it is to be filled.</summary>
    public static Tensor Make(string kind, long[] shape)
    {
        if (shape.Length != 4) throw new ArgumentException($"inpainting masks are for images [N, C, H, W], not [{string.Join(", ", shape)}]", nameof(shape));
        if (!Kinds.Contains(kind)) throw new UsageException($"unknown inpainting mask '{kind}': use {string.Join(", ", Kinds)}");
        int h = (int)shape[2], w = (int)shape[3];
        var m = ones(shape);
        switch (kind)
        {
            case "right-half": m[.., .., .., (w / 2)..] = 0; break;
            case "left-half": m[.., .., .., ..(w / 2)] = 0; break;
            case "bottom-half": m[.., .., (h / 2).., ..] = 0; break;
            case "top-half": m[.., .., ..(h / 2), ..] = 0; break;
            default: m[.., .., (h / 4)..(3 * h / 4), (w / 4)..(3 * w / 4)] = 0; break;
        }
        return m;
    }
}
