using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Guidance;

/// <summary>
/// A classifier of noisy data: log p(y | x, σ) for x in the unscaled σ-frame (x = x₀ + σ ε), the quantity whose gradient
/// classifier guidance adds to the score (Dhariwal &amp; Nichol 2021, §4).
/// </summary>
public interface INoisyClassifier
{
    /// <summary>K, the classes.</summary>
    int Classes { get; }

    /// <summary>log p(y | x, σ) for every class: [B, K] (normalised). σ is [B] or a scalar.</summary>
    Tensor LogProbabilities(Tensor x, Tensor sigma);
}

/// <summary>
/// A trained classifier network F(c_in(σ) x, c_noise(σ)) → K logits, seen through the preconditioning of the diffusion run it
/// was trained beside: it sees x in the frame and at the noise label its denoiser sees.
/// </summary>
public sealed class NetworkClassifier(nn.Module<Tensor, Tensor, Tensor> network, IPreconditioning preconditioning, int classes) : INoisyClassifier
{
    public nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;
    public IPreconditioning Preconditioning { get; } = preconditioning;
    public int Classes { get; } = classes;

    /// <summary>The raw logits [B, K]; <paramref name="noiseLabel"/> overrides c_noise(σ) (e.g. an exact integer timestep).</summary>
    public Tensor Logits(Tensor x, Tensor sigma, Tensor? noiseLabel = null)
    {
        using var scope = NewDisposeScope();
        if (sigma.dim() == 0) sigma = sigma.expand(x.shape[0]);
        var (_, _, cIn) = Preconditioning.Coefficients(sigma);
        return Network.call(cIn.Broadcast(x) * x, noiseLabel ?? Preconditioning.NoiseLabel(sigma)).MoveToOuterDisposeScope();
    }

    public Tensor LogProbabilities(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        return Logits(x, sigma).log_softmax(1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The exact classifier of a Gaussian mixture whose components are the classes: p(y = k | x, σ) is component k's
/// responsibility under the mixture blurred by σ, r_k ∝ w_k N(x; μ_k, (s² + σ²) I). The oracle of the guidance tests.
/// </summary>
public sealed class MixtureClassifier(GaussianMixtureScore mixture) : INoisyClassifier
{
    public int Classes => (int)mixture.Means.shape[0];

    public Tensor LogProbabilities(Tensor x, Tensor sigma) => mixture.ComponentLogPosterior(x, sigma);
}
