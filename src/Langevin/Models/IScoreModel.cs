using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// The centre of the library (DESIGN.md): a model of the data blurred by Gaussian noise of level σ, seen through its
/// score ∇ log p_σ(x) or, equivalently (Tweedie), its denoiser D(x, σ) = x + σ² ∇ log p_σ(x) ≈ E[x₀ | x]
/// in the unscaled (VE) frame. σ is a tensor of shape [B] or a scalar.
/// </summary>
public interface IScoreModel
{
    Tensor Score(Tensor x, Tensor sigma);
}

public static class ScoreModelExtensions
{
    /// <summary>σ of shape [B] (or scalar) viewed as [B, 1, …, 1] to broadcast against x.</summary>
    public static Tensor Broadcast(this Tensor sigma, Tensor x) =>
        sigma.dim() == 0 ? sigma : sigma.reshape([sigma.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 1)]);

    /// <summary>Tweedie's formula: D(x, σ) = x + σ² s(x, σ).</summary>
    public static Tensor Denoise(this IScoreModel model, Tensor x, Tensor sigma)
    {
        var s = sigma.Broadcast(x);
        return x + s * s * model.Score(x, sigma);
    }
}
