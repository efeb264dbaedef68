using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Score SDEs (Song et al. 2021): the continuous VP or sub-VP SDE (Eq. 11, 13) with its denoising score-matching loss
/// (optionally likelihood-weighted, with importance sampling of t); sampled by Euler on the probability-flow ODE over σ(t)
/// at t uniform in [10⁻³, 1], as score_sde does.
/// </summary>
public sealed class SdeMethod : DiffusionMethod
{
    public static readonly MethodRegistration Registration = new()
    {
        Name = "sde",
        Summary = "score SDEs: the continuous VP / sub-VP SDE, (likelihood-weighted) DSM, probability-flow Euler",
        MethodType = typeof(SdeMethod),
        ConfigType = typeof(SdeConfig),
        DefaultConfig = () => new SdeConfig(),
        Recipe = data => ToyRecipe(new SdeConfig(), data),
        Options =
        [
            MethodOption.For<SdeConfig>("prediction", "eps|x0|v|score", "network target in the scaled frame (default eps)", "sde.prediction", (s, v) => s with { Prediction = v }),
            MethodOption.For<SdeConfig>("sub-vp", null, "the sub-VP SDE instead of VP", "sde.sub_vp", (s, v) => s with { SubVp = MethodOption.Flag(v, "sde.sub_vp") }),
            MethodOption.For<SdeConfig>("likelihood-weighting", null, "weight the DSM loss by g(t)² (maximum-likelihood training)", "sde.likelihood_weighting", (s, v) => s with { LikelihoodWeighting = MethodOption.Flag(v, "sde.likelihood_weighting") }),
            MethodOption.For<SdeConfig>("importance-sampling", null, "draw t ∝ g²/std² (with --likelihood-weighting, VP only)", "sde.importance_sampling", (s, v) => s with { ImportanceSampling = MethodOption.Flag(v, "sde.importance_sampling") }),
            SampleStepsOption<SdeConfig>("sde", "probability-flow Euler, default 50", (s, v) => s with { SampleSteps = v }),
        ],
        Create = (c, shape) => new SdeMethod(c, shape),
        FromLegacy = root => LegacyConfig.Pick(root, "ddpm", "prediction", "sub_vp", "likelihood_weighting", "importance_sampling", "sample_steps"),
    };

    /// <summary>score_sde samples the probability-flow ODE from t = 1 down to t = 10⁻³.</summary>
    const double SamplingEpsilon = 1e-3;

    readonly SdeConfig _s;

    /// <summary>The continuous process.</summary>
    public VpSde Sde { get; }

    public override IReadOnlyList<string> SamplerNames { get; } = ["euler"];
    public override int DefaultSampleSteps => _s.SampleSteps ?? 50;

    public SdeMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        _s = config.SettingsAs<SdeConfig>();
        _s.Validate();
        var network = Networks.Create(config.Network, itemShape);
        Sde = new VpSde(subVp: _s.SubVp);
        var sde = Sde;
        Denoiser = new PreconditionedDenoiser(network,
            new ScaledFramePreconditioning(Predictions.Parse(_s.Prediction), sde.InputScale, sigma => sde.SigmaToT(sigma) * 999)); // score_sde: labels 999·t
        Objective = new ContinuousDsmLoss(sde, _s.LikelihoodWeighting, _s.ImportanceSampling);
        (SigmaMin, SigmaMax) = (Sigma(SamplingEpsilon), Sigma(1));
    }

    double Sigma(double t) { using var tt = tensor(t, float64); using var s = Sde.Sigma(tt); return s.item<double>(); }

    /// <summary>σ(t) at t uniform from 1 down to 10⁻³, then 0.</summary>
    public override double[] SigmasFor(int steps) =>
        [.. Enumerable.Range(0, steps).Select(i => Sigma(1 - (1 - SamplingEpsilon) * i / Math.Max(1, steps - 1))), 0.0];
}

/// <summary>Score-SDE settings (Song et al. 2021).</summary>
public sealed record SdeConfig : MethodConfig
{
    /// <summary>What the network predicts in the scaled frame: eps, x0, v or score.</summary>
    public string Prediction { get; init; } = "eps";
    /// <summary>The sub-VP SDE instead of the VP SDE (Eq. 13).</summary>
    public bool SubVp { get; init; }
    /// <summary>λ(t) = g(t)² (likelihood weighting) instead of λ(t) = std(t)².</summary>
    public bool LikelihoodWeighting { get; init; }
    /// <summary>Draw t ∝ g²/std² (VP only; needs likelihood weighting).</summary>
    public bool ImportanceSampling { get; init; }
    /// <summary>Probability-flow Euler steps for previews and `langevin sample` without --steps (default 50).</summary>
    public int? SampleSteps { get; init; }

    public override void Validate()
    {
        Predictions.Parse(Prediction);
        if (ImportanceSampling && (!LikelihoodWeighting || SubVp))
            throw new SettingException("sde.importance_sampling", true, "needs likelihood weighting and the VP SDE (not sub-VP)");
        if (SampleSteps is < 1) throw new SettingException("sde.sample_steps", SampleSteps, "must be ≥ 1");
    }
}
