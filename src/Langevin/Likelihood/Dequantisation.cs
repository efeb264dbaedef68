using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>
/// Uniform dequantisation of 8-bit images (Theis et al. 2016, §3.1; Ho et al. 2020, §4; Song et al. 2021, App. D.2): a density
/// model is scored on a point drawn uniformly from the bin of each pixel's level, so that its density times the bin volume
/// (2/256 per dimension in [−1, 1], see <see cref="ProbabilityFlowLikelihood.BitsPerDimension"/>) bounds the probability of the
/// discrete image from below.
/// </summary>
public static class Dequantisation
{
    /// <summary>The number of levels of an 8-bit pixel.</summary>
    public const int Levels = 256;

    /// <summary>
    /// Images in [−1, 1] quantised to 256 levels, level k = round((x + 1)/2 · 255), mapped to y = (k + u)/256 · 2 − 1 with
    /// u ~ U[0, 1) i.i.d. from <paramref name="gen"/>: y is uniform on level k's bin [2k/256 − 1, 2(k + 1)/256 − 1) ⊂ [−1, 1).
    /// Keeps the images' dtype and device.
    /// </summary>
    public static Tensor Uniform(Tensor images, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var levels = ((images + 1) / 2 * (Levels - 1)).round();
        var u = rand(images.shape, generator: gen, dtype: images.dtype, device: images.device);
        return ((levels + u) / Levels * 2 - 1).MoveToOuterDisposeScope();
    }
}
