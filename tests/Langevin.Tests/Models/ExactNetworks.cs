using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

/// <summary>
/// "Networks" that know the truth: from their input (scaled x) and label they recover σ and x, ask a Gaussian mixture
/// for x̂₀ = E[x₀|x] and return what a perfectly trained model of the given kind outputs, computed from its definition.
/// </summary>
internal static class ExactNetworks
{
    sealed class Exact(GaussianMixtureScore truth, Func<Tensor, Tensor> labelToSigma, Func<Tensor, Tensor> frameScale,
        Func<Tensor, Tensor, Tensor, Tensor, Tensor> output) : nn.Module<Tensor, Tensor, Tensor>("exact")
    {
        public override Tensor forward(Tensor input, Tensor label)
        {
            var sigma = labelToSigma(label);
            var scale = frameScale(sigma).Broadcast(input);
            var x = input / scale;                              // back to the unscaled frame
            var x0 = truth.Denoise(x, sigma);                    // exact E[x₀ | x] (Tweedie on the exact score)
            return output(input, x0, sigma.Broadcast(input), scale);
        }
    }

    public static Tensor VpScale(Tensor sigma) => 1 / (1 + sigma * sigma).sqrt();

    // Definitions in the VP frame x_vp = α x₀ + σ_vp ε with α = 1/√(1+σ²), σ_vp = σα (Ho et al. 2020; Salimans & Ho 2022).
    static Tensor Eps(Tensor xvp, Tensor x0, Tensor sigma, Tensor alpha) => (xvp - alpha * x0) / (sigma * alpha);

    static Tensor VpOutput(Prediction p, Tensor xvp, Tensor x0, Tensor sigma, Tensor alpha) => p switch
    {
        Prediction.Epsilon => Eps(xvp, x0, sigma, alpha),
        Prediction.X0 => x0,
        Prediction.V => alpha * Eps(xvp, x0, sigma, alpha) - sigma * alpha * x0,
        Prediction.Score => -Eps(xvp, x0, sigma, alpha) / (sigma * alpha),   // ∇ log p(x_vp) = −E[ε|x_vp]/σ_vp
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    /// <summary>A VP-frame model whose label is a timestep on <paramref name="labelToSigma"/>'s scale.</summary>
    public static nn.Module<Tensor, Tensor, Tensor> Vp(GaussianMixtureScore truth, Func<Tensor, Tensor> labelToSigma, Prediction prediction) =>
        new Exact(truth, labelToSigma, VpScale, (xvp, x0, s, a) => VpOutput(prediction, xvp, x0, s, a));

    /// <summary>A model in a frame x_s = s(σ)·x with any scale s (e.g. the sub-VP SDE's mean coefficient).</summary>
    public static nn.Module<Tensor, Tensor, Tensor> Scaled(GaussianMixtureScore truth, Func<Tensor, Tensor> labelToSigma,
        Func<Tensor, Tensor> frameScale, Prediction prediction) =>
        new Exact(truth, labelToSigma, frameScale, (xs, x0, s, a) => VpOutput(prediction, xs, x0, s, a));

    public static nn.Module<Tensor, Tensor, Tensor> VpDiscrete(GaussianMixtureScore truth, VpDiscreteSchedule schedule, Prediction prediction) =>
        Vp(truth, schedule.TToSigma, prediction);

    /// <summary>EDM's F = (D − c_skip x)/c_out with Karras et al. 2022, Table 1's c_skip = σ_d²/(σ²+σ_d²), c_out = σσ_d/√(σ²+σ_d²).</summary>
    public static nn.Module<Tensor, Tensor, Tensor> Edm(GaussianMixtureScore truth, double sd) =>
        new Exact(truth, label => (label / (0.25 * EdmPreconditioning.LabelScale)).exp(),
            sigma => 1 / (sigma * sigma + sd * sd).sqrt(),
            (xin, x0, s, cin) =>
            {
                var x = xin / cin;
                var cskip = sd * sd / (s * s + sd * sd);
                var cout = s * sd / (s * s + sd * sd).sqrt();
                return (x0 - cskip * x) / cout;
            });
}
