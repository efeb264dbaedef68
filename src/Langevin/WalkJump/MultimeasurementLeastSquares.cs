using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.WalkJump;

/// <summary>
/// Least squares for the empirical Bayes estimator (Saremi &amp; Srivastava 2022, §3; the same for both parameterisations):
/// L = E ‖x − x̂_θ(x + σ ε_1, …, x + σ ε_M)‖², minimised by x̂ = E[x | y]; summed over dimensions, averaged over the batch.
/// </summary>
public static class MultimeasurementLeastSquares
{
    public static Tensor Loss(MultimeasurementEstimator model, Tensor x, Generator gen)
    {
        long b = x.shape[0];
        long[] shape = [b, model.Measurements, .. x.shape[1..]];
        var y = x.unsqueeze(1) + model.Sigma * randn(shape, generator: gen, dtype: x.dtype, device: x.device);   // y_m = x + σ ε_m
        return (model.Estimate(y) - x).square().reshape(b, -1).sum(1).mean();
    }
}
