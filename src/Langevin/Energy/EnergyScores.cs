using Langevin.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// Out-of-distribution scores of an energy model (IGEBM §4.4; Grathwohl et al. 2019, §5.2): the energy E(x) (high off the
/// data) and the score norm ‖∇ₓE(x)‖₂ (Grathwohl et al.'s "approximate mass" is its negative); AUROC of in- vs
/// out-of-distribution sets by <see cref="Auroc"/>, counting higher scores as out-of-distribution.
/// </summary>
public static class EnergyScores
{
    /// <summary>E(x) and ‖∇ₓE(x)‖₂ per item, in batches of <paramref name="batch"/> (float64 on the CPU).</summary>
    public static (double[] Energy, double[] GradNorm) Compute(EnergyFunction energy, Tensor x, Device device, int batch = 256)
    {
        var e = new List<double>();
        var g = new List<double>();
        for (long i = 0; i < x.shape[0]; i += batch)
        {
            using var scope = NewDisposeScope();
            var xb = x.narrow(0, i, Math.Min(batch, x.shape[0] - i)).to(float32).to(device);
            using (no_grad()) e.AddRange(energy(xb).to(float64).cpu().data<double>().ToArray());
            var grad = EnergySamplers.Gradient(energy, xb);
            g.AddRange(grad.flatten(1).square().sum([1]).sqrt().to(float64).cpu().data<double>().ToArray());
        }
        return (e.ToArray(), g.ToArray());
    }

    /// <summary>AUROC of the energy and of the score norm, out-of-distribution items as positives.</summary>
    public static (double Energy, double GradNorm) Auroc((double[] Energy, double[] GradNorm) inDist, (double[] Energy, double[] GradNorm) outDist) =>
        (Metrics.Auroc.Compute(outDist.Energy, inDist.Energy), Metrics.Auroc.Compute(outDist.GradNorm, inDist.GradNorm));
}

/// <summary>Out-of-distribution image sets made from in-distribution images in [−1, 1] (IGEBM §4.4 uses noise among others).</summary>
public static class OodImageSets
{
    public static IReadOnlyList<string> Names { get; } = ["noise", "flip", "rotate"];

    /// <summary>noise: i.i.d. U[−1, 1] pixels; flip: upside down (rows reversed); rotate: rotated by 90°.</summary>
    public static Tensor Make(string name, Tensor images, Generator gen) => name switch
    {
        "noise" => Langevin.Metrics.ImageCorruptions.UniformNoise(images.shape[0], images.shape[1..], gen) * 2 - 1,
        "flip" => images.flip(2),
        "rotate" => images.rot90(1, (2, 3)),
        _ => throw new UsageException($"unknown set '{name}'; use {string.Join(", ", Names)} or npy:FILE"),
    };
}
