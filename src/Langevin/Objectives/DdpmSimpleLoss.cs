using Langevin.Training;
using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>
/// DDPM's L_simple (Ho et al. 2020, Eq. 14): t ~ U{0, …, T−1}, x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε, loss ‖F(x_t, t) − F*‖²
/// averaged over dimensions, where F* is ε — or x₀ / v for those parameterisations (Salimans &amp; Ho 2022), each
/// unweighted. In the σ-frame x = x₀ + σ_t ε and the network sees c_in x = x_t at the exact integer timestep t.
/// </summary>
public sealed class DdpmSimpleLoss(VpDiscreteSchedule schedule) : IDenoiserObjective
{
    readonly double[] _sigmas = schedule.Sigmas();

    public VpDiscreteSchedule Schedule { get; } = schedule;

    public Tensor Losses(PreconditionedDenoiser model, Tensor x0, Generator gen)
    {
        using var scope = NewDisposeScope();
        var t = ItemDraws.Randint(0, Schedule.T, x0.shape[0], gen, x0.device);   // t ~ U{0..T−1}
        var sigma = tensor(_sigmas, x0.dtype, x0.device).index_select(0, t);
        var noise = ItemDraws.Randn(x0.shape, gen, x0.dtype, x0.device);
        var x = x0 + sigma.Broadcast(x0) * noise;                                           // x_t / √ᾱ_t
        var output = PreconditionedDenoiser.Prediction(model.NetworkOutput(x, sigma, t.to(x0.dtype)), x0);
        return (output - model.Target(x0, noise, sigma)).square().MeanPerItem().MoveToOuterDisposeScope();
    }
}
