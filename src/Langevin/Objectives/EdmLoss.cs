using Langevin.Training;
using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>
/// EDM's training loss (Karras et al. 2022, Eq. 8 and Table 1): ln σ ~ N(P_mean, P_std²), x = x₀ + σ n,
/// loss λ(σ) ‖D(x, σ) − x₀‖² with λ(σ) = (σ² + σ_d²)/(σ σ_d)², averaged over dimensions. Written through the network's
/// target as λ c_out² ‖F − F*‖² — for EDM's own preconditioning λ c_out² = 1 (§5, "loss weighting").
/// </summary>
public sealed class EdmLoss(double sigmaData, double pMean = -1.2, double pStd = 1.2) : IDenoiserObjective
{
    public double SigmaData { get; } = sigmaData;
    public double PMean { get; } = pMean;
    public double PStd { get; } = pStd;

    /// <summary>λ(σ) = (σ² + σ_d²)/(σ σ_d)² (Karras et al. 2022, Table 1).</summary>
    public Tensor Weight(Tensor sigma) => (sigma.square() + SigmaData * SigmaData) / (sigma * SigmaData).square();

    /// <summary>σ = exp(P_mean + P_std·z), z ~ N(0, 1) (Karras et al. 2022, Table 1, "noise distribution").</summary>
    public Tensor SampleSigmas(long n, Generator gen, ScalarType dtype, Device device) =>
        (ItemDraws.Randn([n], gen, dtype, device) * PStd + PMean).exp();

    public Tensor Losses(PreconditionedDenoiser model, Tensor x0, Generator gen)
    {
        using var scope = NewDisposeScope();
        var sigma = SampleSigmas(x0.shape[0], gen, x0.dtype, x0.device);
        var noise = ItemDraws.Randn(x0.shape, gen, x0.dtype, x0.device);
        var x = x0 + sigma.Broadcast(x0) * noise;
        var output = PreconditionedDenoiser.Prediction(model.NetworkOutput(x, sigma), x0);
        var (_, cOut, _) = model.Preconditioning.Coefficients(sigma);
        var weight = Weight(sigma) * cOut.square();                                         // λ c_out² (= 1 for EDM's c_out)
        return (weight * (output - model.Target(x0, noise, sigma)).square().MeanPerItem()).MoveToOuterDisposeScope();
    }
}
