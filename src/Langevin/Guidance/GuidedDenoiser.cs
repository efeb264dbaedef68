using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Guidance;

/// <summary>
/// How strongly to guide: classifier-free guidance's w (ε̃ = (1 + w) ε(x, y) − w ε(x, ∅); Ho &amp; Salimans 2021, Eq. 6),
/// classifier guidance's scale s (score + s ∇ₓ log p(y | x, σ); Dhariwal &amp; Nichol 2021, Alg. 1–2), and optionally the σ
/// below which either applies (above it the conditional, or unconditional, model alone: a fix for classifiers that are
/// poor at high noise, and the "guidance interval" of Kynkäänniemi et al. 2024).
/// </summary>
public sealed record GuidanceScales(double Cfg = 0, double Classifier = 0, double? BelowSigma = null)
{
    public void Validate()
    {
        if (!double.IsFinite(Cfg) || Cfg < 0) throw new SettingException("cfg", Cfg, "must be a number ≥ 0 (0: the conditional model unguided)");
        if (!double.IsFinite(Classifier) || Classifier < 0) throw new SettingException("guidance", Classifier, "must be a number ≥ 0");
        if (BelowSigma is { } b && !(b > 0)) throw new SettingException("guidance_below", b, "must be a σ > 0");
    }

    public bool Active(double sigma) => BelowSigma is not { } b || sigma <= b;
}

/// <summary>
/// A denoiser with guidance toward class labels, itself an <see cref="IScoreModel"/>, so that every catalog sampler samples
/// guided without sampler-specific code. The score it returns for a batch with labels y:
/// <list type="bullet">
/// <item>a conditional model (<c>conditioned</c>: labels → denoiser) — s(x, σ, y), or with w &gt; 0
///   (1 + w) s(x, σ, y) − w s(x, σ, ∅) in one network call on the doubled batch (affine in the network's output, so the
///   same combination of ε, x₀ or D);</item>
/// <item>an unconditional model (<c>unconditional</c>) — its score;</item>
/// <item>either, plus s ∇ₓ log p(y | x, σ) of <c>classifier</c> when the scale is &gt; 0 (Dhariwal &amp; Nichol
///   2021: Alg. 2's ε̂ = ε − √(1 − ᾱ) s ∇ log p_φ(y | x_t) is exactly this in the σ-frame; Alg. 1's mean shift agrees to
///   O(β_t)).</item>
/// </list>
/// It counts what it costs: network evaluations per sample (CFG's two) and classifier forward + backward passes.
/// </summary>
public sealed class GuidedDenoiser : IScoreModel
{
    readonly Func<Tensor, IScoreModel>? _conditioned;
    readonly IScoreModel? _unconditional;
    readonly INoisyClassifier? _classifier;
    readonly Tensor _labels;
    readonly long _none;

    public GuidanceScales Scales { get; }

    /// <summary>Network evaluations so far, per sample (a CFG call on the doubled batch counts 2).</summary>
    public int NetworkEvaluations { get; private set; }

    /// <summary>Classifier forward + backward passes so far, per sample.</summary>
    public int ClassifierEvaluations { get; private set; }

    /// <param name="labels">[B] int64, the class of each item of the batch the sampler runs.</param>
    /// <param name="classes">K: the "no class" index of the conditional model.</param>
    public GuidedDenoiser(Tensor labels, GuidanceScales scales, Func<Tensor, IScoreModel>? conditioned = null, int classes = 0,
        IScoreModel? unconditional = null, INoisyClassifier? classifier = null)
    {
        scales.Validate();
        if ((conditioned is null) == (unconditional is null)) throw new ArgumentException("give a conditional model or an unconditional one");
        if (conditioned is null && scales.Cfg > 0) throw SettingException.About("cfg", scales.Cfg, "classifier-free guidance needs a class-conditional run (one trained with network.classes > 0)");
        if (scales.Classifier > 0 && classifier is null) throw SettingException.About("guidance", scales.Classifier, "classifier guidance needs a noisy classifier");
        if (conditioned is null && classifier is null) throw SettingException.About("class", "", "an unconditional run samples a class only when a noisy classifier guides it");
        if (labels.dim() != 1) throw new ArgumentException("labels must be [B]", nameof(labels));
        (_labels, _conditioned, _unconditional, _classifier, _none, Scales) = (labels, conditioned, unconditional, classifier, classes, scales);
    }

    public Tensor Score(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        if (x.shape[0] != _labels.shape[0]) throw new ArgumentException($"the batch holds {x.shape[0]} items but {_labels.shape[0]} labels");
        bool active = Scales.Active(sigma.max().to(float64).item<double>());
        var labels = _labels.to(x.device);
        Tensor score;
        if (_conditioned is null)
        {
            score = _unconditional!.Score(x, sigma);
            NetworkEvaluations++;
        }
        else if (active && Scales.Cfg > 0)
        {
            var both = _conditioned(cat([labels, full_like(labels, _none)], 0))
                .Score(cat([x, x], 0), sigma.dim() == 0 ? sigma : cat([sigma, sigma], 0)).chunk(2, 0);
            score = (1 + Scales.Cfg) * both[0] - Scales.Cfg * both[1];     // Ho & Salimans 2021, Eq. 6
            NetworkEvaluations += 2;
        }
        else
        {
            score = _conditioned(labels).Score(x, sigma);
            NetworkEvaluations++;
        }
        if (active && Scales.Classifier > 0)
        {
            score = score + Scales.Classifier * ClassifierGradient(_classifier!, x, sigma, labels);
            ClassifierEvaluations++;
        }
        return score.MoveToOuterDisposeScope();
    }

    /// <summary>∇ₓ log p(y | x, σ) by one forward and backward pass of the classifier (gradients on, whatever the caller's mode).</summary>
    public static Tensor ClassifierGradient(INoisyClassifier classifier, Tensor x, Tensor sigma, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var input = x.detach().requires_grad_(true);
        var logp = classifier.LogProbabilities(input, sigma).gather(1, labels.unsqueeze(1)).sum();
        var g = autograd.grad([logp], [input])[0];
        return g.detach().to(x.dtype).MoveToOuterDisposeScope();
    }
}
