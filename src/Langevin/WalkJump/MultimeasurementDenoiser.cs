using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.WalkJump;

/// <summary>
/// The denoiser parameterisation of <see cref="MultimeasurementEstimator"/>: the network sees ȳ and predicts
/// x̂ = ȳ + (σ/√M) F_θ(ȳ) (residual form; the network's conditioning is NCSN's 250·ln(σ/√M)).
/// </summary>
public sealed class MultimeasurementDenoiser(nn.Module<Tensor, Tensor, Tensor> network, int measurements, double sigma)
    : MultimeasurementEstimator(measurements, sigma)
{
    public override nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;

    public override Tensor Estimate(Tensor y)
    {
        var mean = y.mean([1]);
        var level = full([y.shape[0]], 250 * Math.Log(MeanNoise), float32, y.device);
        return mean + MeanNoise * Network.call(mean, level);
    }
}
