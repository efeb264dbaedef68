using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>
/// The Inception Score (Salimans et al. 2016, §4) computed with the project's own classifier instead of Inception-v3:
/// IS = exp(E_x KL(p(y|x) ‖ p(y))), p(y) = E_x p(y|x), over the whole sample set (no splits), in float64.
/// 1 when every prediction is the same; K for confident predictions spread evenly over K classes.
/// </summary>
public static class InceptionScore
{
    /// <summary>IS from class logits [N, K].</summary>
    public static double FromLogits(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var logp = logits.to(ScalarType.Float64).log_softmax(1);
        return FromLogProbabilities(logp);
    }

    /// <summary>IS from class probabilities [N, K] (rows summing to 1; zeros allowed: 0 · log 0 = 0).</summary>
    public static double FromProbabilities(Tensor probabilities)
    {
        using var scope = NewDisposeScope();
        var p = probabilities.to(ScalarType.Float64);
        var logp = where(p.gt(0), p.log(), zeros_like(p));
        return FromLogProbabilities(logp, p);
    }

    static double FromLogProbabilities(Tensor logp, Tensor? p = null)
    {
        if (logp.dim() != 2 || logp.shape[0] < 1) throw new DataException($"inception score: needs class predictions [N, K] with N ≥ 1 (got [{string.Join(", ", logp.shape)}])");
        using var scope = NewDisposeScope();
        p ??= logp.exp();
        var marginal = p.mean([0]);                                                    // p(y)
        var logMarginal = where(marginal.gt(0), marginal.log(), zeros_like(marginal));
        var kl = (p * (logp - logMarginal.unsqueeze(0))).sum(1);                       // KL(p(y|x) ‖ p(y)); p = 0 terms vanish
        return Math.Exp(kl.mean().item<double>());
    }
}
