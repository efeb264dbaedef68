using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>A training loss for a <see cref="PreconditionedDenoiser"/>: it draws noise levels and noise from the step's generator.</summary>
public interface IDenoiserObjective
{
    /// <summary>The loss of each item of the batch, [B] (the training loss is its mean).</summary>
    Tensor Losses(PreconditionedDenoiser model, Tensor x0, Generator gen);
}

public static class DenoiserObjectiveExtensions
{
    public static Tensor Loss(this IDenoiserObjective objective, PreconditionedDenoiser model, Tensor x0, Generator gen) =>
        objective.Losses(model, x0, gen).mean();

    /// <summary>Mean over the dimensions of each item: [B, …] → [B].</summary>
    internal static Tensor MeanPerItem(this Tensor t) => t.reshape(t.shape[0], -1).mean([1]);
}
