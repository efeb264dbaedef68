using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Mcmc;

/// <summary>An unnormalised density for MCMC: log p(x) up to a constant and its score ∇ log p(x), both batched over rows.</summary>
public interface ITarget
{
    /// <summary>Dimension D of one state.</summary>
    int Dim { get; }

    /// <summary>log p(x) up to an additive constant: [B, D] → [B].</summary>
    Tensor LogDensity(Tensor x);

    /// <summary>∇ₓ log p(x): [B, D] → [B, D].</summary>
    Tensor Score(Tensor x);
}

/// <summary>A target whose score defaults to autograd of <see cref="LogDensity"/>; analytic targets override it.</summary>
public abstract class Target : ITarget
{
    public abstract int Dim { get; }

    public abstract Tensor LogDensity(Tensor x);

    public virtual Tensor Score(Tensor x) => ScoreByAutograd(this, x);

    /// <summary>∇ₓ Σ_b log p(x_b) by reverse-mode autograd; rows are independent, so this is the per-row score.</summary>
    public static Tensor ScoreByAutograd(ITarget target, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = enable_grad();
        var xg = x.detach().requires_grad_(true);
        var lp = target.LogDensity(xg).sum();
        var g = autograd.grad([lp], [xg])[0];
        return g.detach().MoveToOuterDisposeScope();
    }
}

/// <summary>A target with an exact sampler, for testing kernels against ground truth.</summary>
public interface IExactSampler
{
    /// <summary>n exact draws, [n, D], float64.</summary>
    Tensor Sample(long n, Generator? gen);
}

/// <summary>N(μ, Σ) with a full covariance.</summary>
public sealed class CorrelatedGaussian : Target, IExactSampler
{
    readonly Tensor _mean, _precision, _chol;

    public CorrelatedGaussian(double[] mean, double[,] covariance)
    {
        int d = mean.Length;
        if (d == 0 || covariance.GetLength(0) != d || covariance.GetLength(1) != d)
            throw new UsageException($"covariance must be {d}×{d} to match the mean");
        var flat = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) flat[i * d + j] = covariance[i, j];
        var cov = tensor(flat, [d, d], float64);
        var (chol, info) = linalg.cholesky_ex(cov);
        if (info.item<int>() != 0) throw new UsageException("covariance must be symmetric positive definite");
        _mean = tensor(mean, float64);
        _chol = chol;
        _precision = linalg.inv(cov);
        Dim = d;
    }

    public override int Dim { get; }

    // log N(x; μ, Σ) = −½ (x−μ)ᵀ Σ⁻¹ (x−μ) + const
    public override Tensor LogDensity(Tensor x)
    {
        using var scope = NewDisposeScope();
        var r = x - _mean.to(x.dtype, x.device);
        return (-0.5 * (r.matmul(_precision.to(x.dtype, x.device)) * r).sum(1)).MoveToOuterDisposeScope();
    }

    // ∇ log N = −Σ⁻¹ (x−μ)
    public override Tensor Score(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (-(x - _mean.to(x.dtype, x.device)).matmul(_precision.to(x.dtype, x.device))).MoveToOuterDisposeScope();
    }

    // x = μ + L z with Σ = L Lᵀ
    public Tensor Sample(long n, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var z = randn([n, Dim], float64, generator: gen);
        return (_mean + z.matmul(_chol.T)).MoveToOuterDisposeScope();
    }
}

/// <summary>Σ_k w_k N(μ_k, s² I): an isotropic Gaussian mixture. Its score comes from autograd.</summary>
public sealed class GaussianMixtureTarget : Target, IExactSampler
{
    // The mixture itself (closed-form score, log-density and exact sampler) lives in Models; this is its MCMC face.
    readonly GaussianMixtureScore _mixture;

    public GaussianMixtureTarget(double[] weights, double[][] means, double std)
    {
        if (weights.Length == 0 || weights.Length != means.Length) throw new UsageException("need one mean per mixture weight");
        if (weights.Any(w => !(w > 0))) throw new UsageException("mixture weights must be > 0");
        if (!(std > 0)) throw new UsageException($"mixture std must be > 0, got {std}");
        int d = means[0].Length;
        if (d == 0 || means.Any(m => m.Length != d)) throw new UsageException("all mixture means must have the same, non-zero length");
        _mixture = new GaussianMixtureScore(weights, means, std);
        Dim = d;
    }

    public override int Dim { get; }

    public override Tensor LogDensity(Tensor x) => _mixture.LogDensity(x);

    // Exact: the σ = 0 score of the mixture, no autograd needed.
    public override Tensor Score(Tensor x)
    {
        using var zero = tensor(0.0, float64);
        return _mixture.Score(x, zero);
    }

    /// <summary>Index of the nearest mean for each row (the component a state sits in, for well-separated modes).</summary>
    public Tensor NearestComponent(Tensor x)
    {
        using var scope = NewDisposeScope();
        var d2 = (x.unsqueeze(1) - _mixture.Means.to(x.dtype, x.device).unsqueeze(0)).square().sum(2);
        return d2.argmin(1).MoveToOuterDisposeScope();
    }

    // k ~ Categorical(w), x = μ_k + s z
    public Tensor Sample(long n, Generator? gen) => _mixture.Sample(checked((int)n), gen);
}

/// <summary>
/// The banana (Haario, Saksman &amp; Tamminen 1999, twisted Gaussian): x1 ~ N(0, a²), x2 | x1 ~ N(b(x1² − a²), 1),
/// so E[x2] = 0, Var[x1] = a², Var[x2] = 2a⁴b² + 1. Two-dimensional.
/// </summary>
public sealed class BananaTarget : Target, IExactSampler
{
    public BananaTarget(double a = 1.0, double b = 1.0)
    {
        if (!(a > 0)) throw new UsageException($"banana scale a must be > 0, got {a}");
        A = a;
        B = b;
    }

    public double A { get; }
    public double B { get; }
    public override int Dim => 2;

    // log p = −x1²/(2a²) − (x2 − b(x1² − a²))²/2 + const
    public override Tensor LogDensity(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x1 = x[.., 0];
        var r = x[.., 1] - B * (x1.square() - A * A);
        return (-x1.square() / (2 * A * A) - 0.5 * r.square()).MoveToOuterDisposeScope();
    }

    // ∂/∂x1 = −x1/a² + 2 b x1 r, ∂/∂x2 = −r, with r = x2 − b(x1² − a²)
    public override Tensor Score(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x1 = x[.., 0];
        var r = x[.., 1] - B * (x1.square() - A * A);
        return stack([-x1 / (A * A) + 2 * B * x1 * r, -r], 1).MoveToOuterDisposeScope();
    }

    public Tensor Sample(long n, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var z = randn([n, 2], float64, generator: gen);
        var x1 = A * z[.., 0];
        return stack([x1, B * (x1.square() - A * A) + z[.., 1]], 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Neal's funnel (Neal 2003, "Slice sampling", §8): v ~ N(0, 3²), x_i | v ~ N(0, e^v) for i = 1..D−1.
/// Column 0 is v; the state has dimension D.
/// </summary>
public sealed class NealsFunnel : Target, IExactSampler
{
    public NealsFunnel(int dim = 10)
    {
        if (dim < 2) throw new UsageException($"funnel dimension must be ≥ 2, got {dim}");
        Dim = dim;
    }

    public override int Dim { get; }

    // log p = −v²/18 − Σ_i (x_i² e^{−v}/2 + v/2) + const
    public override Tensor LogDensity(Tensor x)
    {
        using var scope = NewDisposeScope();
        var v = x[.., 0];
        var rest = x[.., 1..];
        return (-v.square() / 18 - 0.5 * rest.square().sum(1) * (-v).exp() - 0.5 * (Dim - 1) * v).MoveToOuterDisposeScope();
    }

    // ∂/∂v = −v/9 + ½ Σ x_i² e^{−v} − (D−1)/2, ∂/∂x_i = −x_i e^{−v}
    public override Tensor Score(Tensor x)
    {
        using var scope = NewDisposeScope();
        var v = x[.., 0];
        var rest = x[.., 1..];
        var ev = (-v).exp();
        var dv = -v / 9 + 0.5 * rest.square().sum(1) * ev - 0.5 * (Dim - 1);
        return cat([dv.unsqueeze(1), -rest * ev.unsqueeze(1)], 1).MoveToOuterDisposeScope();
    }

    public Tensor Sample(long n, Generator? gen)
    {
        using var scope = NewDisposeScope();
        var v = 3 * randn([n, 1], float64, generator: gen);
        var rest = randn([n, Dim - 1], float64, generator: gen) * (v / 2).exp();
        return cat([v, rest], 1).MoveToOuterDisposeScope();
    }
}
