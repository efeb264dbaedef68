using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// An isotropic Gaussian mixture p(x) = Σ_k w_k N(x; μ_k, s² I) blurred by noise σ: p_σ = Σ_k w_k N(μ_k, (s² + σ²) I),
/// whose score is exact: ∇log p_σ(x) = Σ_k r_k(x) (μ_k − x)/(s² + σ²), with responsibilities r_k ∝ w_k N(x; μ_k, (s²+σ²) I).
/// The ground truth that samplers and objectives are tested against.
/// </summary>
public sealed class GaussianMixtureScore : IScoreModel, IDisposable
{
    readonly Tensor _means;     // [K, D]
    readonly Tensor _logWeights; // [K]

    public double Std { get; }
    public Tensor Means => _means;
    public double[] Weights { get; }

    public GaussianMixtureScore(double[] weights, double[][] means, double std, ScalarType dtype = ScalarType.Float64)
    {
        if (weights.Length == 0 || weights.Length != means.Length) throw new ArgumentException("one weight per mean");
        double total = weights.Sum();
        Weights = weights.Select(w => w / total).ToArray();
        Std = std;
        _means = tensor(means.SelectMany(m => m).ToArray(), [means.Length, means[0].Length], dtype);
        _logWeights = tensor(Weights.Select(w => Math.Log(w)).ToArray(), dtype);
    }

    public Tensor Score(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(x.shape[0], -1).to(_means.dtype);                 // [B, D]
        var s = sigma.to(_means.dtype);
        var variance = (s.dim() == 0 ? s.expand(flat.shape[0]) : s).square() + Std * Std; // [B]
        var diff = _means.unsqueeze(0) - flat.unsqueeze(1);                    // [B, K, D]
        var logits = _logWeights - diff.square().sum(2) / (2 * variance.unsqueeze(1)); // [B, K]
        var r = softmax(logits, 1);
        var score = (r.unsqueeze(2) * diff).sum(1) / variance.unsqueeze(1);
        return score.reshape(x.shape).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>log p(k | x, σ) of every component, [B, K]: the responsibilities under the mixture blurred by σ (normalised).</summary>
    public Tensor ComponentLogPosterior(Tensor x, Tensor sigma)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(x.shape[0], -1).to(_means.dtype);
        var s = sigma.to(_means.dtype);
        var variance = (s.dim() == 0 ? s.expand(flat.shape[0]) : s).square() + Std * Std;
        var logits = _logWeights - (flat.unsqueeze(1) - _means.unsqueeze(0)).square().sum(2) / (2 * variance.unsqueeze(1));
        return logits.log_softmax(1).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The exact score of one component alone, k per item ([B] int64): (μ_k − x)/(s² + σ²), the class-conditional score.</summary>
    public Tensor ComponentScore(Tensor x, Tensor sigma, Tensor k)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(x.shape[0], -1).to(_means.dtype);
        var s = sigma.to(_means.dtype);
        var variance = (s.dim() == 0 ? s.expand(flat.shape[0]) : s).square() + Std * Std;
        var score = (_means.index_select(0, k.to(_means.device)) - flat) / variance.unsqueeze(1);
        return score.reshape(x.shape).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>log p_σ(x) up to the constant −(D/2) log 2π: logsumexp_k(log w_k − ‖x − μ_k‖²/(2v) − (D/2) log v), v = s² + σ².</summary>
    public Tensor LogDensity(Tensor x, double sigma = 0)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(x.shape[0], -1).to(_means.dtype);
        double v = Std * Std + sigma * sigma;
        var d2 = (flat.unsqueeze(1) - _means.unsqueeze(0)).square().sum(2);       // [B, K]
        var logits = _logWeights - d2 / (2 * v) - 0.5 * _means.shape[1] * Math.Log(v);
        return logits.logsumexp(1).to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Exact samples of the (unblurred) mixture.</summary>
    public Tensor Sample(int n, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var k = multinomial(_logWeights.exp(), n, replacement: true, generator: gen);
        var z = randn([n, _means.shape[1]], generator: gen, dtype: _means.dtype);
        return (_means.index_select(0, k) + Std * z).MoveToOuterDisposeScope();
    }

    public void Dispose() { _means.Dispose(); _logWeights.Dispose(); }
}
