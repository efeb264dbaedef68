using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>Pictures of samples: a PNG grid for images (values in [−1, 1]), a scatter plot for 2-D points.</summary>
public static class SamplePreview
{
    public static void Write(string pngPath, Tensor samples, string title)
    {
        if (samples.dim() == 4)
        {
            using var unit = ToUnitRange(samples);
            ImageGrid.SavePng(pngPath, unit);
        }
        else if (samples.dim() == 2 && samples.shape[1] == 2)
            Plots.Scatter(pngPath, samples, title);
        else
            throw new DataException($"{pngPath}: cannot draw samples of shape [{string.Join(", ", samples.shape)}]");
    }

    /// <summary>Images in the model's [−1, 1] range mapped to [0, 1] (clamped), float32 — the form we write to .npy.</summary>
    public static Tensor ToUnitRange(Tensor images) => ((images.to(float32) + 1) / 2).clamp(0, 1);
}
