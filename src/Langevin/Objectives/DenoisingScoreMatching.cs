using Langevin.Training;
using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>
/// Denoising score matching over NCSN's noise levels (Song &amp; Ermon 2019, Eq. 5–6; Vincent 2011):
/// ℓ(θ; σ) = ½ E‖s_θ(x̃, σ) + (x̃ − x)/σ²‖², weighted by λ(σ) = σ² and averaged over σ drawn uniformly
/// from the levels. With s_θ = F_θ/σ and x̃ = x + σz the weighted term is ½‖F_θ(x̃, σ) + z‖² (summed over
/// dimensions, averaged over the batch), the scale NCSN's code reports.
/// </summary>
public sealed class DenoisingScoreMatching(GeometricSigmas sigmas)
{
    readonly double[] _sigmas = sigmas.ToArray();

    public Tensor Loss(NoiseConditionalScoreModel model, Tensor x0, Generator gen)
    {
        long b = x0.shape[0];
        using var table = tensor(_sigmas, dtype: x0.dtype, device: x0.device);
        var level = ItemDraws.Randint(0, _sigmas.Length, b, gen, x0.device);
        var sigma = table.index_select(0, level);
        var z = ItemDraws.Randn(x0.shape, gen, x0.dtype, x0.device);
        var noisy = x0 + sigma.Broadcast(x0) * z;
        var residual = model.NetworkOutput(noisy, sigma) + z;
        return 0.5 * residual.square().reshape(b, -1).sum(1).mean();
    }
}
