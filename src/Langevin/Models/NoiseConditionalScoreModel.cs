using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// A noise-conditional score network s_θ(x, σ) = F_θ(x, c(σ)) / σ — NCSNv2's Technique 3 (Song &amp; Ermon 2020, §3.3):
/// the network's output is divided by σ, so a single unconditioned-in-scale network serves every level.
/// c(σ) = 100 · ln σ feeds the network's sinusoidal embedding (a range of a few hundred, like DDPM's timesteps).
/// </summary>
public sealed class NoiseConditionalScoreModel(nn.Module<Tensor, Tensor, Tensor> network) : IScoreModel
{
    public nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;

    public static Tensor NoiseConditioning(Tensor sigma) => sigma.log() * 100.0;

    /// <summary>The raw network output F_θ(x, c(σ)) ≈ −z for x = x₀ + σz.</summary>
    public Tensor NetworkOutput(Tensor x, Tensor sigma)
    {
        var s = sigma.dim() == 0 ? sigma.expand(x.shape[0]) : sigma;
        return Network.call(x, NoiseConditioning(s));
    }

    public Tensor Score(Tensor x, Tensor sigma) => NetworkOutput(x, sigma) / sigma.Broadcast(x);
}
