using Langevin.Training;
using Langevin.Models;
using Langevin.Processes;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Objectives;

/// <summary>
/// Improved DDPM's hybrid loss (Nichol &amp; Dhariwal 2021, §3.1): L_simple + λ L_vlb with a learned variance. The network
/// outputs [ε, v] (2C channels); Σ_θ = exp(v' log β_t + (1 − v') log β̃_t), v' = (v + 1)/2 (Eq. 15). L_vlb's term at
/// the drawn t is KL(q(x_{t−1}|x_t, x₀) ‖ p_θ(x_{t−1}|x_t)) for t &gt; 0 and the decoder NLL −log p_θ(x₀|x₁) at t = 0
/// (Ho et al. 2020, Eq. 5 and §3.3), in bits per dimension, with the gradient of the mean stopped (Eq. 16's
/// "stop-gradient", so that L_vlb only trains Σ_θ). Uniform t makes E_t[term] = L_vlb/T, so the term is weighted by
/// λ T (= 1 for λ = 0.001, T = 1000, as improved-diffusion's code).
/// </summary>
public sealed class HybridLoss : IDenoiserObjective
{
    readonly double[] _sigmas;
    readonly double[] _sqrtAlphaBar, _sqrtOneMinusAlphaBar, _meanCoefX0, _meanCoefXt, _logBeta, _logPosteriorVariance;

    public VpDiscreteSchedule Schedule { get; }
    public double Lambda { get; }
    /// <summary>Whether x₀ is 8-bit image data in [−1, 1] (discretised decoder) rather than continuous points (Gaussian decoder).</summary>
    public bool Discretised { get; }

    public HybridLoss(VpDiscreteSchedule schedule, bool discretised, double lambda = 0.001)
    {
        Schedule = schedule;
        Discretised = discretised;
        Lambda = lambda;
        int t = schedule.T;
        _sigmas = schedule.Sigmas();
        double[] abar = [.. schedule.AlphasCumprod.Select(a => (double)a)];
        double[] beta = [.. schedule.Betas.Select(b => (double)b)];
        _sqrtAlphaBar = [.. abar.Select(Math.Sqrt)];
        _sqrtOneMinusAlphaBar = [.. abar.Select(a => Math.Sqrt(1 - a))];
        _meanCoefX0 = new double[t];
        _meanCoefXt = new double[t];
        var posteriorVariance = new double[t];
        for (int i = 0; i < t; i++)
        {
            double prev = i == 0 ? 1 : abar[i - 1];
            _meanCoefX0[i] = beta[i] * Math.Sqrt(prev) / (1 - abar[i]);             // Ho et al. 2020, Eq. 7
            _meanCoefXt[i] = (1 - prev) * Math.Sqrt(1 - beta[i]) / (1 - abar[i]);
            posteriorVariance[i] = beta[i] * (1 - prev) / (1 - abar[i]);           // β̃_t
        }
        _logBeta = [.. beta.Select(b => Math.Log(b))];
        // β̃_0 = 0: improved-diffusion clips its log to log β̃_1.
        _logPosteriorVariance = [.. posteriorVariance.Select((v, i) => Math.Log(i == 0 ? posteriorVariance[1] : v))];
    }

    /// <summary>q(x_{t−1} | x_t, x₀) = N(c₀ x₀ + c_t x_t, β̃_t) (Ho et al. 2020, Eq. 6–7): its mean and log-variance.</summary>
    public (Tensor Mean, Tensor LogVariance) Posterior(Tensor x0, Tensor xt, Tensor t)
    {
        var c0 = Table(_meanCoefX0, t, x0);
        var ct = Table(_meanCoefXt, t, x0);
        return (c0 * x0 + ct * xt, Table(_logPosteriorVariance, t, x0));
    }

    /// <summary>log Σ_θ = v' log β_t + (1 − v') log β̃_t, v' = (v + 1)/2 (Nichol &amp; Dhariwal 2021, Eq. 15).</summary>
    public Tensor ModelLogVariance(Tensor v, Tensor t)
    {
        var frac = (v + 1) / 2;
        return frac * Table(_logBeta, t, v) + (1 - frac) * Table(_logPosteriorVariance, t, v);
    }

    /// <summary>KL(N(μ₁, e^{l₁}) ‖ N(μ₂, e^{l₂})) per element, in nats.</summary>
    public static Tensor NormalKl(Tensor mean1, Tensor logVar1, Tensor mean2, Tensor logVar2) =>
        0.5 * (logVar2 - logVar1 + (logVar1 - logVar2).exp() + (mean1 - mean2).square() * (-logVar2).exp() - 1);

    /// <summary>
    /// log p(x₀) per element of 8-bit data in [−1, 1] under N(μ, e^l) discretised to 256 bins of width 2/255, the edge bins
    /// open-ended (Ho et al. 2020, §3.3, Eq. 13).
    /// </summary>
    public static Tensor DiscretisedGaussianLogLikelihood(Tensor x, Tensor mean, Tensor logVar)
    {
        var invStd = (-0.5 * logVar).exp();
        var centred = x - mean;
        var cdfPlus = StandardNormalCdf(invStd * (centred + 1.0 / 255));
        var cdfMin = StandardNormalCdf(invStd * (centred - 1.0 / 255));
        var logCdfPlus = cdfPlus.clamp(min: 1e-12).log();
        var logOneMinusCdfMin = (1 - cdfMin).clamp(min: 1e-12).log();
        var logDelta = (cdfPlus - cdfMin).clamp(min: 1e-12).log();
        return where(x.lt(-0.999), logCdfPlus, where(x.gt(0.999), logOneMinusCdfMin, logDelta));
    }

    /// <summary>Φ(z) = ½ erfc(−z/√2) (special.ndtr's gradient is NaN in TorchSharp 0.107).</summary>
    static Tensor StandardNormalCdf(Tensor z) => 0.5 * (z * -Math.Sqrt(0.5)).erfc();

    /// <summary>The VLB term at t in bits per dimension, [B]; gradients reach only the variance output.</summary>
    public Tensor VlbTerm(Tensor x0, Tensor xt, Tensor t, Tensor eps, Tensor v)
    {
        eps = eps.detach();                                                           // stop-gradient on the mean (Eq. 16)
        var x0Hat = (xt - Table(_sqrtOneMinusAlphaBar, t, xt) * eps) / Table(_sqrtAlphaBar, t, xt); // Ho et al. 2020, Eq. 15
        var (trueMean, trueLogVar) = Posterior(x0, xt, t);
        var (modelMean, _) = Posterior(x0Hat, xt, t);                                 // μ_θ = μ̃(x̂₀, x_t) (Eq. 11 in this form)
        var modelLogVar = ModelLogVariance(v, t);
        var kl = NormalKl(trueMean, trueLogVar, modelMean, modelLogVar).MeanPerItem() / Math.Log(2);
        var decoderLogLikelihood = Discretised
            ? DiscretisedGaussianLogLikelihood(x0, modelMean, modelLogVar)
            : -0.5 * (Math.Log(2 * Math.PI) + modelLogVar + (x0 - modelMean).square() * (-modelLogVar).exp());
        var nll = -decoderLogLikelihood.MeanPerItem() / Math.Log(2);
        return where(t.eq(0), nll, kl);
    }

    public Tensor Losses(PreconditionedDenoiser model, Tensor x0, Generator gen)
    {
        using var scope = NewDisposeScope();
        long c = x0.shape[1];
        var t = ItemDraws.Randint(0, Schedule.T, x0.shape[0], gen, x0.device);
        var sigma = tensor(_sigmas, x0.dtype, x0.device).index_select(0, t);
        var noise = ItemDraws.Randn(x0.shape, gen, x0.dtype, x0.device);
        var x = x0 + sigma.Broadcast(x0) * noise;                                     // σ-frame; x_t = x/√(1+σ²)
        var output = model.NetworkOutput(x, sigma, t.to(x0.dtype));
        if (output.shape[1] != 2 * c) throw new InvalidOperationException($"the hybrid loss needs a network with 2C = {2 * c} output channels (ε and v), got {output.shape[1]}");
        var eps = output.narrow(1, 0, c);
        var v = output.narrow(1, c, c);
        var xt = Table(_sqrtAlphaBar, t, x0) * x0 + Table(_sqrtOneMinusAlphaBar, t, x0) * noise;
        var simple = (eps - noise).square().MeanPerItem();                            // L_simple (Ho et al. 2020, Eq. 14)
        var vlb = VlbTerm(x0, xt, t, eps, v);
        return (simple + Lambda * Schedule.T * vlb).MoveToOuterDisposeScope();        // L_hybrid (Nichol & Dhariwal 2021, Eq. 16)
    }

    /// <summary>A per-timestep table gathered at t and shaped to broadcast against <paramref name="like"/>.</summary>
    static Tensor Table(double[] values, Tensor t, Tensor like) =>
        tensor(values, like.dtype, like.device).index_select(0, t).Broadcast(like);
}
