using Langevin.Data;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Likelihood;

/// <summary>Settings of <see cref="DataLikelihood"/>; null means the default named.</summary>
/// <param name="Estimator">The divergence of the probability-flow ODEs: exact, or Skilling–Hutchinson with Rademacher or Gaussian probes.</param>
/// <param name="Probes">Hutchinson probes per item.</param>
/// <param name="Rtol">RK45's relative tolerance.</param>
/// <param name="Atol">RK45's absolute tolerance.</param>
/// <param name="Items">Score the first N items of the data (default 1000 points or 64 images).</param>
/// <param name="Seed">Seeds the dequantisation noise, the probes, v₀ and the bound's timesteps.</param>
/// <param name="VariationalBound">Instead of the probability flow: DDPM's variational bound (the discrete VP process only).</param>
/// <param name="VlbVariance">The bound's reverse variance: fixed-large (β_t), fixed-small (β̃_t) or learned (default: learned for a
/// model that learns it, else fixed-large).</param>
/// <param name="VlbTimesteps">Estimate the bound's sum over t from this many random timesteps (default: all T).</param>
/// <param name="MinTime">CLD: t_min, where the joint (x, v) ODE starts (default: the run's training t_min).</param>
public sealed record LikelihoodSettings(TraceEstimator Estimator = TraceEstimator.Rademacher, int Probes = 1, double Rtol = 1e-5, double Atol = 1e-5,
    int? Items = null, int Seed = 0, bool VariationalBound = false, string? VlbVariance = null, int? VlbTimesteps = null, double? MinTime = null);

/// <summary>What <see cref="DataLikelihood.Measure"/> measured: N items of D dimensions, the NFE (or timesteps) spent, bits/dim and its standard error (NaN for one item).</summary>
public abstract record LikelihoodResult(string Data, int Items, long Dimensions, int Evaluations, double BitsPerDim, double BitsPerDimSe);

/// <summary>
/// log p(x) through the probability-flow ODE (<see cref="ProbabilityFlowLikelihood"/>), in bits/dim and as the mean in nats; for
/// an analytic mixture also the exact bits/dim of the mixture blurred by <see cref="SigmaMin"/>.
/// </summary>
public sealed record FlowLikelihoodResult(string Data, int Items, long Dimensions, int Evaluations, double BitsPerDim, double BitsPerDimSe,
    double MeanLogLikelihood, double SigmaMin, double? ExactBitsPerDim) : LikelihoodResult(Data, Items, Dimensions, Evaluations, BitsPerDim, BitsPerDimSe);

/// <summary>
/// CLD's bound log p(x) ≥ E_v[log p(x, v)] + H(v₀) (<see cref="Langevin.Cld.CldProbabilityFlowLikelihood"/>): bits/dim is an upper bound;
/// the means of the bound and of log p(x, v) in nats, and H(v₀).
/// </summary>
public sealed record CldLikelihoodBoundResult(string Data, int Items, long Dimensions, int Evaluations, double BitsPerDim, double BitsPerDimSe,
    double LogLikelihoodBound, double JointLogLikelihood, double VelocityEntropy, double MinTime)
    : LikelihoodResult(Data, Items, Dimensions, Evaluations, BitsPerDim, BitsPerDimSe);

/// <summary>
/// DDPM's variational bound (<see cref="Likelihood.VariationalBound"/>) in bits/dim over <see cref="Timesteps"/> random timesteps
/// (null: all), with the reverse variance named; for an analytic mixture also the mixture's exact bits/dim.
/// </summary>
public sealed record VariationalBoundResult(string Data, int Items, long Dimensions, int Evaluations, double BitsPerDim, double BitsPerDimSe,
    string Variance, int? Timesteps, double? ExactBitsPerDim) : LikelihoodResult(Data, Items, Dimensions, Evaluations, BitsPerDim, BitsPerDimSe);

/// <summary>The bound or estimate <see cref="DataLikelihood"/> computes.</summary>
public enum LikelihoodKind { ProbabilityFlow, CldBound, VariationalBound }

/// <summary>
/// The likelihood of data under a trained model or an analytic Gaussian mixture, as <c>langevin likelihood</c> measures it: the
/// first N items of a data spec (images uniformly dequantised, <see cref="Dequantisation"/>), scored by the probability-flow ODE
/// of the model's process, by CLD's bound through its joint (x, v) flow, or by DDPM's variational bound.
/// </summary>
public sealed class DataLikelihood
{
    readonly LikelihoodSettings _s;
    readonly IScoreModel? _model;
    readonly SamplingProcess? _process;
    readonly GaussianMixtureScore? _mixture;
    readonly ILikelihoodBoundMethod? _cld;
    readonly long[]? _itemShape;
    readonly ScalarType _dtype;
    readonly Device _device;

    public LikelihoodKind Kind { get; }

    DataLikelihood(LikelihoodSettings s, LikelihoodKind kind, IScoreModel? model, SamplingProcess? process, GaussianMixtureScore? mixture,
        ILikelihoodBoundMethod? cld, long[]? itemShape, ScalarType dtype, Device device)
    {
        if (s.Probes < 1) throw new UsageException($"likelihood: probes must be ≥ 1 (got {s.Probes})");
        if (s.Items is < 1) throw new UsageException($"likelihood: the number of items must be ≥ 1 (got {s.Items})");
        if (s.VlbTimesteps is < 1) throw new UsageException($"likelihood: the bound's timesteps must be ≥ 1 (got {s.VlbTimesteps})");
        if (kind != LikelihoodKind.VariationalBound && (s.VlbVariance is not null || s.VlbTimesteps is not null))
            throw new UsageException("likelihood: a reverse variance and timesteps apply to the variational bound only");
        if (kind != LikelihoodKind.CldBound && s.MinTime is not null) throw new UsageException("likelihood: t_min applies to CLD's bound only");
        if (kind == LikelihoodKind.VariationalBound && process is not { Kind: SamplingProcess.Vp, Schedule: not null })
            throw new UsageException($"likelihood: the variational bound needs the discrete VP process; this model's process is {process?.Kind}");
        (_s, Kind, _model, _process, _mixture, _cld, _itemShape, _dtype, _device) = (s, kind, model, process, mixture, cld, itemShape, dtype, device);
    }

    /// <summary>
    /// A trained model: CLD's bound for a CLD run, else the probability flow (or, with <see cref="LikelihoodSettings.VariationalBound"/>,
    /// DDPM's bound) of a denoising method's process, on the model's device in float32.
    /// </summary>
    public static DataLikelihood For(IGenerativeMethod method, LikelihoodSettings settings)
    {
        method.Eval();
        var device = method.Device();
        if (method is ILikelihoodBoundMethod cld)
        {
            if (settings.VariationalBound) throw new UsageException("likelihood: the variational bound is DDPM's; a cld run is scored by its probability-flow bound");
            return new(settings, LikelihoodKind.CldBound, null, null, null, cld, cld.ItemShape, ScalarType.Float32, device);
        }
        if (method is IPriorStartedMethod)
            throw new UsageException($"likelihood: a {method.Config.Method} model's chain starts from an implicit (adversarial) prior, which has no density; use an ncsn, ddpm, edm, sde or cld run");
        if (method is not IDenoisingMethod denoising)
            throw new UsageException($"likelihood: a {method.Config.Method} model has no probability-flow ODE; use an ncsn, ddpm, edm, sde or cld run");
        return new(settings, settings.VariationalBound ? LikelihoodKind.VariationalBound : LikelihoodKind.ProbabilityFlow, denoising.Denoiser,
            denoising.Process, null, null, method.ItemShape, ScalarType.Float32, device);
    }

    /// <summary>An analytic Gaussian mixture (exact denoiser) over <paramref name="process"/>, on the CPU in the mixture's dtype; the result carries its exact value.</summary>
    public static DataLikelihood For(GaussianMixtureScore mixture, SamplingProcess process, LikelihoodSettings settings) =>
        new(settings, settings.VariationalBound ? LikelihoodKind.VariationalBound : LikelihoodKind.ProbabilityFlow, mixture, process, mixture,
            null, [mixture.Means.shape[1]], mixture.Means.dtype, CPU);

    /// <summary>
    /// The probability-flow likelihood of a process (Song et al. 2021, App. D.2): the VP table's σ range with the prior N(0, I) in the
    /// VP frame (variance σ_max² + 1 in the σ-frame), or the process's own σ range with N(0, σ_max² I).
    /// </summary>
    public static ProbabilityFlowLikelihood Flow(SamplingProcess process, TraceEstimator estimator = TraceEstimator.Rademacher, int probes = 1,
        double rtol = 1e-5, double atol = 1e-5) =>
        new(process.SigmaBounds.Min, process.SigmaBounds.Max, process.Kind == SamplingProcess.Vp ? 1 : 0, estimator, probes, rtol, atol);

    /// <summary>What <see cref="Measure"/> reports progress in, if known: the bound's timesteps; 0 for the adaptive ODEs (NFE, total unknown).</summary>
    public int ProgressTotal => Kind == LikelihoodKind.VariationalBound ? _s.VlbTimesteps ?? _process!.Schedule!.T : 0;

    /// <summary>The reverse variance the variational bound uses: as given, else learned for a model that learns it, else fixed-large.</summary>
    public string BoundVariance => _s.VlbVariance ?? (_model is IVarianceModel ? "learned" : "fixed-large");

    /// <summary>
    /// Scores the first items of <paramref name="spec"/> (loaded with the settings' seed); <paramref name="onProgress"/> counts
    /// network evaluations (ODEs) or timesteps (the bound).
    /// </summary>
    public LikelihoodResult Measure(string spec, Action<int>? onProgress = null)
    {
        using var gen = new Generator((ulong)_s.Seed, _device);
        using var scope = NewDisposeScope();
        var (raw, x, image) = Items(spec, gen);
        if (!x.shape.Skip(1).SequenceEqual(_itemShape!))
            throw new DataException(_mixture is not null
                ? $"{spec}: items of shape [{string.Join(", ", x.shape.Skip(1))}] do not match the mixture's dimension {_itemShape![0]}"
                : $"{spec}: items of shape [{string.Join(", ", x.shape.Skip(1))}] do not match the model's [{string.Join(", ", _itemShape!)}]");
        int n = (int)x.shape[0];
        long dims = x[0].numel();
        switch (Kind)
        {
            case LikelihoodKind.CldBound:
            {
                double minTime = _s.MinTime ?? _cld!.DefaultMinTime;
                var bound = _cld!.LogDensityBound(x, minTime, _s.Estimator, _s.Probes, _s.Rtol, _s.Atol, gen, onProgress);
                var (mean, se) = MeanAndSe(ProbabilityFlowLikelihood.BitsPerDimension(bound.LogDensityBound, dims, image));
                return new CldLikelihoodBoundResult(spec, n, dims, bound.Evaluations, mean, se, Mean(bound.LogDensityBound), Mean(bound.JointLogDensity),
                    _cld.BoundEntropy(dims), minTime);
            }
            case LikelihoodKind.VariationalBound:
            {
                bool learned = _model is IVarianceModel;
                string variance = BoundVariance;
                var vlb = new VariationalBound(_process!.Schedule!, image, _s.VlbTimesteps, VariationalBound.VarianceMixFor(variance, learned, "vlb_variance"));
                var (nats, evaluations) = vlb.Nats(_model!, raw, gen, (done, _) => onProgress?.Invoke(done));
                var (mean, se) = MeanAndSe(nats / (dims * Math.Log(2)));
                return new VariationalBoundResult(spec, n, dims, evaluations, mean, se, variance, _s.VlbTimesteps, _mixture is null ? null : ExactBitsPerDim(raw, 0));
            }
            default:
            {
                var flow = Flow(_process!, _s.Estimator, _s.Probes, _s.Rtol, _s.Atol);
                var r = flow.LogDensity(_model!, x, gen, onProgress);
                var (mean, se) = MeanAndSe(ProbabilityFlowLikelihood.BitsPerDimension(r.LogDensity, dims, image));
                return new FlowLikelihoodResult(spec, n, dims, r.Evaluations, mean, se, Mean(r.LogDensity), flow.SigmaMin,
                    _mixture is null ? null : ExactBitsPerDim(x, flow.SigmaMin));
            }
        }
    }

    /// <summary>
    /// The first N items (default 1000 points or 64 images) in the dtype on the device, and the points to score: for images their
    /// uniform dequantisation, drawn from <paramref name="gen"/> before anything else draws from it.
    /// </summary>
    (Tensor Raw, Tensor Scored, bool Image) Items(string spec, Generator gen)
    {
        using var data = DataSources.Load(spec, new DataOptions(_s.Seed, Limit: _s.Items));
        int n = Math.Min(_s.Items ?? (data.IsImage ? 64 : 1000), checked((int)data.Count));
        if (n < 1) throw new DataException($"{spec}: no items to score");
        var raw = data.X.narrow(0, 0, n).to(_dtype).to(_device).clone();
        return data.IsImage ? (raw, Dequantisation.Uniform(raw, gen), true) : (raw, raw, false);
    }

    /// <summary>The exact bits/dim of the analytic mixture blurred by σ: −log₂ of its normalised density per dimension.</summary>
    double ExactBitsPerDim(Tensor x, double sigma)
    {
        long dims = x[0].numel();
        var exact = _mixture!.LogDensity(x, sigma) - 0.5 * dims * Math.Log(2 * Math.PI);
        return Mean(ProbabilityFlowLikelihood.BitsPerDimension(exact, dims, false));
    }

    static double Mean(Tensor t) => t.to(float64).mean().item<double>();

    static (double Mean, double Se) MeanAndSe(Tensor perItem)
    {
        var t = perItem.to(float64);
        long n = t.shape[0];
        return (t.mean().item<double>(), n > 1 ? t.std().item<double>() / Math.Sqrt(n) : double.NaN);
    }
}
