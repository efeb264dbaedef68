using Langevin.Models;
using Langevin.Objectives;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.WalkJump;

namespace Langevin.Tests.WalkJump;

/// <summary>f(ȳ) = Σ_i (½ a ȳ_i² + b ȳ_i): a quadratic energy, enough to hold the Gaussian optimum exactly.</summary>
sealed class QuadraticEnergy : nn.Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.Parameter a, b;
    public QuadraticEnergy(double a0 = 0, double b0 = 0) : base("quad")
    {
        a = nn.Parameter(tensor(new[] { a0 }, float64));
        b = nn.Parameter(tensor(new[] { b0 }, float64));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => (0.5 * a * x.square() + b * x).reshape(x.shape[0], -1).sum(1);
    public (double A, double B) Values => (a.item<double>(), b.item<double>());
}

public sealed class WalkJumpEnergyTests
{
    const double Mu = 1.5, S = 0.8, Sigma = 0.6;
    const int M = 3;

    // For x ~ N(μ, s²), ȳ ~ N(μ, s² + σ²/M), so the exact energy of the mean is f(ȳ) = ½(ȳ − μ)²/(s² + σ²/M) + const:
    // a = 1/(s² + σ²/M), b = −μ a. Then x̂ = ȳ − (σ²/M)(a ȳ + b) = (M s² ȳ + σ² μ)/(M s² + σ²), the closed form.
    static readonly double AExact = 1 / (S * S + Sigma * Sigma / M), BExact = -Mu * AExact;

    [Fact]
    public void TheExactQuadraticEnergyGivesTheClosedFormEstimateAndScore()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        var model = new MultimeasurementEnergy(new QuadraticEnergy(AExact, BExact), M, Sigma);
        var y = Mu + 2 * randn([6, M, 2], float64, generator: gen);
        var exact = MultimeasurementEstimator.GaussianEstimate(y, Mu, S, Sigma);
        Assert.True((model.Estimate(y) - exact).abs().max().item<double>() < 1e-12);
        // the autograd score of the energy = the M-density's score, ∇ log N(y; μ1, s²11ᵀ + σ²I) per coordinate
        var yg = y.clone().requires_grad_(true);
        var cov = S * S * ones(M, M, float64) + Sigma * Sigma * eye(M, dtype: float64);
        var d = yg.transpose(1, 2) - Mu;                                                // [B, 2, M]
        var logp = -0.5 * (d.matmul(linalg.inv(cov)) * d).sum();
        var grad = autograd.grad([logp], [yg])[0];
        Assert.True((model.Score(y) - grad).abs().max().item<double>() < 1e-10);
        using (no_grad())   // sampling: the gradient is still taken, without a graph
        {
            var s = model.Score(y);
            Assert.False(s.requires_grad);
            Assert.True((s - grad).abs().max().item<double>() < 1e-10);
        }
    }

    [Fact]
    public void LeastSquaresThroughTheEnergyGradientLearnsTheClosedForm()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(4);
        var energy = new QuadraticEnergy();
        var model = new MultimeasurementEnergy(energy, M, Sigma);
        var fast = optim.Adam(energy.parameters(), 0.05);
        var slow = optim.Adam(energy.parameters(), 0.005);   // then a small step averages out the minibatch noise
        for (int i = 0; i < 600; i++)
        {
            using var step = NewDisposeScope();
            var opt = i < 400 ? fast : slow;
            var x = Mu + S * randn([1024, 1], float64, generator: gen);
            opt.zero_grad();
            MultimeasurementLeastSquares.Loss(model, x, gen).backward();   // double backward: the loss holds ∇f_θ
            opt.step();
        }
        var (a, b) = energy.Values;
        Assert.InRange(a, AExact * 0.97, AExact * 1.03);
        Assert.InRange(b, BExact - 0.05, BExact + 0.05);
    }
}
