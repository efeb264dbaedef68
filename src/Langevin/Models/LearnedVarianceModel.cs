using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// A denoiser that also predicts improved DDPM's reverse-process variance (Nichol &amp; Dhariwal 2021, §3.1): with one
/// network call, D(x, σ) and the interpolation v ∈ [0, 1] of Eq. 15, Σ_θ = exp(v log β_t + (1 − v) log β̃_t), per element.
/// </summary>
public interface IVarianceModel : IScoreModel
{
    /// <summary>D(x, σ) and Eq. 15's v (the same shape as x) from one network evaluation.</summary>
    (Tensor Denoised, Tensor V) DenoiseWithVariance(Tensor x, Tensor sigma);
}

/// <summary>
/// A <see cref="PreconditionedDenoiser"/> whose network outputs [F, v_raw] (2C channels, trained by
/// <see cref="Objectives.HybridLoss"/>) seen as an <see cref="IVarianceModel"/>: v = (v_raw + 1)/2 (improved-diffusion's
/// model_var_values, unclamped as there).
/// </summary>
public sealed class LearnedVarianceModel(PreconditionedDenoiser denoiser) : IVarianceModel
{
    /// <summary>How a run gets a learned variance, for the refusals of models without one.</summary>
    public const string HowToTrain = "train with the hybrid loss: langevin train --method ddpm --net adm --loss hybrid";

    /// <summary>The refusal of <c>SETTING learned</c> (a variance setting) for a model that has no learned variance.</summary>
    public static SettingException Missing(string setting) =>
        SettingException.Sentence(setting, "learned", $"learned needs a model with a learned variance ({HowToTrain})");

    public PreconditionedDenoiser Denoiser { get; } = denoiser;

    public Tensor Score(Tensor x, Tensor sigma) => Denoiser.Score(x, sigma);

    public (Tensor Denoised, Tensor V) DenoiseWithVariance(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        if (sigma.dim() == 0) sigma = sigma.expand(x.shape[0]);
        var output = Denoiser.NetworkOutput(x, sigma);
        long c = x.shape[1];
        if (output.shape[1] != 2 * c)
            throw new UsageException($"the network outputs {output.shape[1]} channels, not 2C = {2 * c}: it has no learned variance ({HowToTrain})");
        var (skip, cOut, _) = Denoiser.Preconditioning.Coefficients(sigma);
        var denoised = skip.Broadcast(x) * x + cOut.Broadcast(x) * output.narrow(1, 0, c);   // Karras et al. 2022, Eq. 7
        var v = (output.narrow(1, c, c) + 1) / 2;                                               // Nichol & Dhariwal 2021, Eq. 15
        return (denoised.MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }
}
