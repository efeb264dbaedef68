using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Diffusion models as denoisers in the σ-frame (Karras et al. 2022):
/// <c>ddpm</c> — the discrete VP process (Ho et al. 2020) with T steps, linear or cosine β's, an ε/x₀/v/score
/// network and L_simple; sampled by DDIM (η = 0; Song et al. 2021), i.e. Euler on the probability-flow ODE over the
/// σ's of a leading spacing.
/// <c>edm</c> — EDM's preconditioning and loss (Karras et al. 2022, Table 1); sampled by EDM's deterministic Heun
/// (Alg. 1) on Karras σ's.
/// <c>sde</c> — the continuous VP / sub-VP SDE (Song et al. 2021) with its DSM loss (optionally likelihood-weighted);
/// sampled by Euler on the probability-flow ODE over σ(t) at t uniform in [10⁻³, 1].
/// Either way the trained model is <see cref="Denoiser"/>, an <see cref="IScoreModel"/> every σ-frame sampler can run.
/// </summary>
public sealed class DdpmMethod : SingleNetworkMethod, IDenoisingMethod
{
    readonly IDenoiserObjective _objective;

    public override nn.Module Network => Denoiser.Network;

    /// <summary>The trained model as a denoiser D(x, σ) / score in the unscaled σ-frame.</summary>
    public PreconditionedDenoiser Denoiser { get; }

    /// <summary>The discrete VP schedule the model was trained on (null for EDM).</summary>
    public VpDiscreteSchedule? Schedule { get; }

    /// <summary>The σ range the model was trained for (DDPM: σ_0 … σ_{T−1}; EDM: the sampling range).</summary>
    public double SigmaMin { get; }
    public double SigmaMax { get; }

    public bool IsEdm => Config.Method == "edm";
    public bool IsSde => Config.Method == "sde";

    /// <summary>The continuous process of <c>--method sde</c> (null otherwise).</summary>
    public VpSde? Sde { get; }

    /// <summary>score_sde samples the probability-flow ODE from t = 1 down to t = 10⁻³.</summary>
    const double SdeSamplingEpsilon = 1e-3;

    double SdeSigma(double t) { using var tt = tensor(t, float64); using var s = Sde!.Sigma(tt); return s.item<double>(); }
    public int DefaultSampleSteps => Config.Ddpm.SampleSteps ?? (IsEdm ? 18 : 50);
    public override int FunctionEvaluations => Evaluations(DefaultSampleSteps);
    public override IReadOnlyList<string> SamplerNames { get; }

    /// <summary>Whether the network also outputs improved DDPM's variance interpolation v (channels C…2C−1).</summary>
    public bool LearnedVariance => Config.Ddpm.Loss == "hybrid";


    /// <summary>Builds from a resolved config (see <see cref="Resolve"/>).</summary>
    public DdpmMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var d = config.Ddpm;
        d.Validate();
        bool hybrid = d.Loss == "hybrid";
        if (hybrid && (IsEdm || Predictions.Parse(d.Prediction) != Prediction.Epsilon || Networks.ResolveKind(config.Network, itemShape) != "adm"))
            throw new UsageException("--loss hybrid is for --method ddpm with --prediction eps and --net adm (whose learned-variance output it trains)");
        if ((IsEdm || IsSde) && d.Loss != "simple") throw new UsageException($"--loss: --method {config.Method} trains with its own loss; --loss simple|hybrid is for --method ddpm (got '{d.Loss}')");
        var network = Networks.Create(hybrid ? config.Network with { Adm = config.Network.Adm with { LearnSigma = true } } : config.Network, itemShape);
        if (IsSde)
        {
            Sde = new VpSde(subVp: d.SubVp);
            var sde = Sde;
            Denoiser = new PreconditionedDenoiser(network,
                new ScaledFramePreconditioning(Predictions.Parse(d.Prediction), sde.InputScale, sigma => sde.SigmaToT(sigma) * 999)); // score_sde: labels 999·t
            _objective = new ContinuousDsmLoss(sde, d.LikelihoodWeighting, d.ImportanceSampling);
            (SigmaMin, SigmaMax) = (SdeSigma(SdeSamplingEpsilon), SdeSigma(1));
            SamplerNames = ["euler"];
        }
        else if (IsEdm)
        {
            double sigmaData = d.SigmaData ?? throw new InvalidOperationException("EDM's σ_data must be resolved before building the method");
            Denoiser = new PreconditionedDenoiser(network, new EdmPreconditioning(sigmaData));
            _objective = new EdmLoss(sigmaData, d.PMean, d.PStd);
            (SigmaMin, SigmaMax) = (d.SigmaMin, d.SigmaMax);
            SamplerNames = ["edm"];
        }
        else
        {
            Schedule = new VpDiscreteSchedule(d.Timesteps, d.Betas);
            Denoiser = new PreconditionedDenoiser(network, ScaledFramePreconditioning.VpDiscrete(Schedule, Predictions.Parse(d.Prediction)));
            _objective = hybrid ? new HybridLoss(Schedule, discretised: Networks.IsImage(itemShape)) : new DdpmSimpleLoss(Schedule);
            (SigmaMin, SigmaMax) = (Schedule.Sigma(0), Schedule.Sigma(Schedule.T - 1));
            SamplerNames = ["ddim"];
        }
    }

    /// <summary>EDM: σ_data defaults to the standard deviation of the training data (over all values).</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data)
    {
        config.Ddpm.Validate();
        if (config.Method != "edm" || config.Ddpm.SigmaData is not null) return config;
        double sd = data.std().to(float64).item<double>();
        if (!(sd > 0) || !double.IsFinite(sd)) throw new DataException($"{config.Data}: the data's standard deviation is {sd}; is the dataset constant?");
        return config with { Ddpm = config.Ddpm with { SigmaData = sd } };
    }

    public override Tensor Loss(Batch batch, Generator gen) => _objective.Loss(Denoiser, batch.X, gen);

    /// <summary>The σ's a sampler visits with <paramref name="steps"/> steps, ending in 0.</summary>
    public double[] SigmasFor(int steps) =>
        IsSde ? [.. Enumerable.Range(0, steps).Select(i => SdeSigma(1 - (1 - SdeSamplingEpsilon) * i / Math.Max(1, steps - 1))), 0.0] // uniform in t
        : Schedule is null ? Samplers.SamplingSigmas.Karras(steps, SigmaMin, SigmaMax)
        : Samplers.SamplingSigmas.FromSpacing(Schedule, steps, "leading");

    int Evaluations(int steps) =>
        IsEdm ? DiffusionSamplers.HeunEvaluations(SigmasFor(steps)) : DiffusionSamplers.FirstOrderEvaluations(SigmasFor(steps));

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && !SamplerNames.Contains(name))
            throw new UsageException($"--sampler: this {Config.Method} model samples with: {string.Join(", ", SamplerNames)} (got '{name}')");
        if (sampler?.Options is { Count: > 0 } options)
            throw new UsageException($"--{options.Keys.First()}: the {SamplerNames[0]} sampler of this model takes no such option");
        int steps = sampler?.Steps ?? DefaultSampleSteps;
        if (steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {steps})");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        long[] shape = [n, .. ItemShape];
        var device = Device;
        var z = noise ?? randn(shape, generator: gen, device: device);
        if (!z.shape.SequenceEqual(shape))
            throw new UsageException($"--noise: shape [{string.Join(", ", z.shape)}] does not match the model's samples [{string.Join(", ", shape)}]");
        var sigmas = SigmasFor(steps);
        // x_T ~ N(0, I) in the scaled frame is x = √(1 + σ₀²)·z in the σ-frame (diffusers' init_noise_sigma).
        var x = z.to(float32).to(device) * Math.Sqrt(1 + sigmas[0] * sigmas[0]);
        onFrame?.Invoke(x);
        var result = IsEdm
            ? DiffusionSamplers.Heun(Denoiser, x, sigmas, onStep)     // Karras et al. 2022, Alg. 1 (S_churn = 0)
            : DiffusionSamplers.Euler(Denoiser, x, sigmas, onStep);   // DDIM η = 0 (Karras et al. 2022, §3)
        if (Networks.IsImage(ItemShape)) result = result.clamp(-1, 1); // images live in [−1, 1]
        return result.cpu().MoveToOuterDisposeScope();
    }

    /// <summary>The denoiser the catalog's samplers see: with a learned variance, also its Σ (<see cref="LearnedVarianceModel"/>).</summary>
    IScoreModel IDenoisingMethod.Denoiser => LearnedVariance ? new LearnedVarianceModel(Denoiser) : Denoiser;

    /// <summary>The process the catalog's samplers follow: DDPM's discrete VP table, or EDM's / the SDE's σ range (Karras σ's).</summary>
    public SamplingProcess Process => Schedule is not null
        ? new SamplingProcess(SamplingProcess.Vp, Schedule)
        : new SamplingProcess(SamplingProcess.Edm, SigmaMin: SigmaMin, SigmaMax: SigmaMax);

    public Tensor ToData(Tensor x) => Networks.IsImage(ItemShape) ? x.clamp(-1, 1) : x.alias();

}
