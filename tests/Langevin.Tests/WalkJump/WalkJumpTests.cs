using Langevin.Mcmc;
using Langevin.Models;
using Langevin.Objectives;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.WalkJump;

namespace Langevin.Tests.WalkJump;

/// <summary>x̂ = a·ȳ + b: the denoiser's residual form with a linear F, enough to hold the Gaussian optimum exactly.</summary>
sealed class LinearOfMean : nn.Module<Tensor, Tensor, Tensor>
{
    readonly TorchSharp.Modules.Parameter a, b;
    public LinearOfMean() : base("lin") { a = nn.Parameter(zeros(1, float64)); b = nn.Parameter(zeros(1, float64)); RegisterComponents(); }
    public override Tensor forward(Tensor x, Tensor t) => a * x + b;
    public (double A, double B) Values => (a.item<double>(), b.item<double>());
}

public sealed class WalkJumpTests
{
    const double Mu = 1.5, S = 0.8, Sigma = 0.6;
    const int M = 3;

    [Fact]
    public void GaussianClosedFormIsThePosteriorMean()
    {
        // orthogonality principle: for jointly Gaussian (x, y) the residual x − x̂(y) of E[x | y] has mean 0 and is uncorrelated with every y_m
        const int n = 200_000;
        using var scope = NewDisposeScope();
        using var gen = new Generator(1);
        var x = Mu + S * randn([n, 1], float64, generator: gen);
        var y = x.unsqueeze(1) + Sigma * randn([n, M, 1], float64, generator: gen);
        var r = x - MultimeasurementDenoiser.GaussianEstimate(y, Mu, S, Sigma);
        double se = r.std().item<double>() / Math.Sqrt(n);
        Assert.InRange(r.mean().item<double>(), -5 * se, 5 * se);
        for (int m = 0; m < M; m++)
        {
            var ym = y[.., m] - y[.., m].mean();
            double cov = (r * ym).mean().item<double>(), seCov = (r * ym).std().item<double>() / Math.Sqrt(n);
            Assert.InRange(cov, -5 * seCov, 5 * seCov);
        }
        // and a wrong estimator (σ² taken as 0: x̂ = ȳ) is correlated with y
        var bad = x - y.mean([1]);
        Assert.True(Math.Abs((bad * (y[.., 0] - y[.., 0].mean())).mean().item<double>()) > 0.1);
    }

    [Fact]
    public void MultimeasurementScoreOfTheClosedFormIsTheGradientOfTheMDensity()
    {
        // Gaussian data: y (per coordinate) ~ N(μ1, s² 11ᵀ + σ² I); (x̂ − y_m)/σ² must equal ∇ log p(y) by autograd
        using var scope = NewDisposeScope();
        using var gen = new Generator(2);
        var y = (Mu + 2 * randn([5, M, 1], float64, generator: gen)).requires_grad_(true);
        var cov = S * S * ones(M, M, float64) + Sigma * Sigma * eye(M, dtype: float64);
        var prec = linalg.inv(cov);
        var d = y.squeeze(2) - Mu;
        var logp = -0.5 * (d.matmul(prec) * d).sum();
        var grad = autograd.grad([logp], [y])[0];
        var score = (MultimeasurementDenoiser.GaussianEstimate(y.detach(), Mu, S, Sigma).unsqueeze(1) - y.detach()) / (Sigma * Sigma);
        Assert.True((grad - score).abs().max().item<double>() < 1e-10);
    }

    [Fact]
    public void LeastSquaresLearnsTheClosedForm()
    {
        // with x̂ = ȳ + (σ/√M)(a ȳ + b) the optimum is x̂ = (M s² ȳ + σ² μ)/(M s² + σ²): a, b follow in closed form
        using var scope = NewDisposeScope();
        using var gen = new Generator(4);
        var net = new LinearOfMean();
        var model = new MultimeasurementDenoiser(net, M, Sigma);
        var opt = optim.Adam(net.parameters(), 0.05);
        for (int i = 0; i < 600; i++)
        {
            using var step = NewDisposeScope();
            var x = Mu + S * randn([1024, 1], float64, generator: gen);
            opt.zero_grad();
            MultimeasurementLeastSquares.Loss(model, x, gen).backward();
            opt.step();
        }
        double k = M * S * S / (M * S * S + Sigma * Sigma), c = Sigma / Math.Sqrt(M);
        double aExact = (k - 1) / c, bExact = Sigma * Sigma * Mu / (M * S * S + Sigma * Sigma) / c;
        var (a, b) = net.Values;
        Assert.InRange(a, aExact - 0.03, aExact + 0.03);
        Assert.InRange(b, bExact - 0.03, bExact + 0.03);
    }

    [Fact]
    public void BaoabSamplesAGaussianTarget()
    {
        // π = N(0, diag(1, 4)); BAOAB's bias in the variance at h = 0.2 is O(h²) ≈ 1%
        using var scope = NewDisposeScope();
        using var gen = new Generator(6);
        var prec = tensor(new[] { 1.0, 0.25 }, float64);
        var kernel = new BaoabIntegrator(q => -q * prec, 0.2, 1.0);
        var q = zeros([4000, 2], float64);
        var p = zeros([4000, 2], float64);
        var s = -q * prec;
        for (int i = 0; i < 300; i++) kernel.Step(ref q, ref p, ref s, gen);
        var v = q.var([0]);
        Assert.InRange(v[0].item<double>(), 0.92, 1.08);
        Assert.InRange(v[1].item<double>(), 4 * 0.92, 4 * 1.08);
        Assert.ThrowsAny<UsageException>(() => new BaoabIntegrator(q => q, 0, 1));
    }
}
