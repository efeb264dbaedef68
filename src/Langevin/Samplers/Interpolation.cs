using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// Interpolation between pairs of images through a denoiser's latent space (Song et al. 2021, DDIM §5.3–5.4): DDIM inversion of
/// each image to its latent (<see cref="DiffusionTasks.Invert"/>), spherical interpolation between the two latents of a pair
/// (<see cref="DiffusionTasks.Slerp"/>), and deterministic decoding by Euler (DDIM η = 0) steps over the same σ's.
/// </summary>
public static class Interpolation
{
    /// <summary>Euler steps each way when none are given.</summary>
    public const int DefaultSteps = 50;

    /// <summary>The σ's inversion and decoding follow: the catalog's euler plan of <paramref name="steps"/> steps over the method's process.</summary>
    public static SamplingPlan Plan(IDenoisingMethod method, int steps = DefaultSteps) =>
        SamplerCatalog.Plan(new SamplerRequest { Sampler = "euler", Steps = steps }, method.Process);

    /// <summary>Network evaluations <see cref="Between"/> spends: one plan's steps up, one down.</summary>
    public static int Evaluations(IDenoisingMethod method, int steps = DefaultSteps) => 2 * Plan(method, steps).Steps;

    /// <summary>
    /// <paramref name="frames"/> images from each pair (images 2i and 2i + 1 of <paramref name="images"/> [2P, ...ItemShape]) to
    /// the other, both ends included (they reconstruct the pair): [P·F, ...] in data space on the CPU, in rows of F, one row per
    /// pair. <paramref name="onProgress"/> counts network evaluations up to <see cref="Evaluations"/>.
    /// </summary>
    public static Tensor Between(IDenoisingMethod method, Tensor images, int frames, int steps = DefaultSteps, Action<int>? onProgress = null)
    {
        if (frames < 2) throw new UsageException($"interpolation: a row needs ≥ 2 frames, its two ends (got {frames})");
        if (images.shape[0] < 2 || images.shape[0] % 2 != 0) throw new UsageException($"interpolation: give pairs of images (got {images.shape[0]})");
        if (!images.shape.Skip(1).SequenceEqual(method.ItemShape))
            throw new UsageException($"interpolation: images [{string.Join(", ", images.shape.Skip(1))}] do not match the model's [{string.Join(", ", method.ItemShape)}]");
        long pairs = images.shape[0] / 2;
        var plan = Plan(method, steps);
        method.Eval();
        using var scope = NewDisposeScope();
        var x0 = images.to(float32).to(method.Device());
        var latents = DiffusionTasks.Invert(method.Denoiser, x0, plan.Sigmas, plan.InitialScale, (done, _) => onProgress?.Invoke(done));
        var z0 = latents[TensorIndex.Slice(0, null, 2)];
        var z1 = latents[TensorIndex.Slice(1, null, 2)];
        var ts = Enumerable.Range(0, frames).Select(i => i / (double)(frames - 1)).ToArray();
        var path = DiffusionTasks.Slerp(z0, z1, ts);                                                // [F·P, …] ordered by t, then pair
        var x = DiffusionSamplers.Euler(method.Denoiser, path * plan.InitialScale, plan.Sigmas, (done, _) => onProgress?.Invoke(plan.Steps + done));
        var rows = method.ToData(x).reshape([frames, pairs, .. method.ItemShape]).transpose(0, 1)
            .reshape([pairs * frames, .. method.ItemShape]);                                         // rows = pairs
        return rows.cpu().MoveToOuterDisposeScope();
    }
}
