using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>Pictures of samples: a PNG grid for images (values in [−1, 1]), a scatter plot for 2-D points.</summary>
public static class SamplePreview
{
    /// <param name="columns">images: the grid's columns (default: a square grid).</param>
    public static void Write(string pngPath, Tensor samples, string title, int? columns = null)
    {
        if (samples.dim() == 4)
        {
            using var scope = NewDisposeScope();
            ImageGrid.SavePng(pngPath, ToUnitRange(samples), columns);
        }
        else if (samples.dim() == 2 && samples.shape[1] == 2)
            Plots.Scatter(pngPath, samples, title);
        else
            throw new DataException($"{pngPath}: cannot draw samples of shape [{string.Join(", ", samples.shape)}]");
    }

    /// <summary>
    /// One frame of a trajectory GIF, [C, H, W] in [0, 1]: the tiled grid for images, a raster of the points in
    /// [−4.5, 4.5]² for 2-D data. The tensor escapes any dispose scope; the caller disposes it.
    /// </summary>
    public static Tensor Frame(Tensor samples)
    {
        using var scope = NewDisposeScope();
        samples = samples.cpu();
        var frame = samples.dim() == 4
            ? ImageGrid.Tile(ToUnitRange(samples))
            : PointRaster.Render(samples, (-4.5, 4.5));
        return frame.DetachFromDisposeScope();
    }

    /// <summary>Images in the model's [−1, 1] range mapped to [0, 1] (clamped), float32 — the form we write to .npy.</summary>
    public static Tensor ToUnitRange(Tensor images) => ((images.to(float32) + 1) / 2).clamp(0, 1);
}
