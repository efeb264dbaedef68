using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Dmcmc;

/// <summary>
/// The noise-level estimator's objective (Kim &amp; Ye 2022, §4; the paper's code trains a classifier): draw a level
/// k ~ U{1..K} of the grid, x = x₀ + σ_k ε, and minimise the cross-entropy −log q(k | x). Its minimiser is the exact
/// posterior q*(k | x) = p_{σ_k}(x) / Σ_j p_{σ_j}(x) (<see cref="ExactNoiseLevelPosterior"/> for Gaussian mixtures).
/// </summary>
public static class NoiseLevelClassification
{
    /// <summary>The cross-entropy of each item, [B].</summary>
    public static Tensor Losses(INoiseLevelEstimator estimator, Tensor x0, Generator gen)
    {
        using var scope = NewDisposeScope();
        int levels = estimator.Levels.Levels;
        var k = randint(0, levels, [x0.shape[0]], generator: gen, device: x0.device);
        var sigma = estimator.LevelTensor(x0.dtype, x0.device).index_select(0, k);
        var x = x0 + sigma.Broadcast(x0) * randn(x0.shape, generator: gen, dtype: x0.dtype, device: x0.device);
        var logq = nn.functional.log_softmax(estimator.LevelLogits(x), 1);
        return (-logq.gather(1, k.unsqueeze(1)).squeeze(1)).MoveToOuterDisposeScope();
    }

    public static Tensor Loss(INoiseLevelEstimator estimator, Tensor x0, Generator gen) => Losses(estimator, x0, gen).mean();
}
