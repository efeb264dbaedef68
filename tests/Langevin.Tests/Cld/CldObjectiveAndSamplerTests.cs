using Langevin.Methods;
using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Langevin.Cld;

namespace Langevin.Tests.Cld;

/// <summary>
/// For data x₀ ~ N(μ, s² I) the CLD marginal p_t(u) is Gaussian per dimension, N(Φ_t [μ; 0], Σ_t(s², γM)), so its velocity
/// score −[Σ_t⁻¹ (u − m_t)]_v is exact. This "network" outputs the α that makes <see cref="CldScoreModel.VelocityScore"/>
/// equal that score (undoing ℓ_t and the mixed-score term), so objectives and samplers can be tested without training.
/// </summary>
sealed class GaussianCldOracle : nn.Module<Tensor, Tensor, Tensor>
{
    readonly CriticallyDampedLangevin _p;
    readonly double _mean, _var, _timeScale;
    readonly bool _mixed;

    public GaussianCldOracle(CriticallyDampedLangevin p, double mean, double std, bool mixed, double timeScale = 1000) : base("oracle")
    {
        _p = p; _mean = mean; _var = std * std; _mixed = mixed; _timeScale = timeScale;
        RegisterComponents();
    }

    public override Tensor forward(Tensor u, Tensor tScaled)
    {
        using var scope = NewDisposeScope();
        var t = tScaled.to(float64) / _timeScale;
        var (x, v) = CriticallyDampedLangevin.Split(u.to(float64));
        var (mx, mv) = _p.Mean(full_like(x, _mean), zeros_like(x), t);
        var c = _p.Covariance(t, _var, _p.VelocityVariance * _p.Mass);
        Tensor E(Tensor a) => CriticallyDampedLangevin.Expand(a, x);
        var det = E(c.Xx * c.Vv - c.Xv.square());
        var dx = x - mx; var dv = v - mv;
        var score = -(-E(c.Xv) * dx + E(c.Xx) * dv) / det;                   // v-row of −Σ⁻¹ (u − m)
        var hsm = _p.HsmCovariance(t);
        var gaussianPart = _mixed ? -v / E(hsm.Vv) : zeros_like(v);
        var alpha = -(score - gaussianPart) / E(hsm.Ell());
        return cat([alpha, alpha], 1).to(u.dtype).MoveToOuterDisposeScope();
    }
}

public sealed class CldObjectiveAndSamplerTests
{
    static readonly CriticallyDampedLangevin Cld = new(mass: 0.25, beta: 4, velocityVariance: 0.04, numericalEps: 0);

    [Theory]
    [InlineData("eps", true)]
    [InlineData("likelihood", false)]
    public void HybridScoreMatchingVanishesAtTheExactScoreOfPointData(string weighting, bool mixed)
    {
        // data = a single point: p_t(u) = p(u_t | x₀), whose velocity score is exactly −ℓ_t ε_v, so the loss is 0 — and not at a wrong point
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        var objective = new HybridScoreMatching(weighting, 1e-3);
        var x0 = full([4096, 2], 0.7, float64);
        var exact = new CldScoreModel(new GaussianCldOracle(Cld, 0.7, 0, mixed), Cld, mixed);
        var wrong = new CldScoreModel(new GaussianCldOracle(Cld, 0.2, 0, mixed), Cld, mixed);
        double atExact = objective.Loss(exact, x0, gen).item<double>();
        double atWrong = objective.Loss(wrong, x0, gen).item<double>();
        Assert.True(atExact < 1e-6, $"loss at the exact score {atExact}");
        Assert.True(atWrong > 1e-2, $"loss at a wrong score {atWrong}");
    }

    [Fact]
    public void VelocityNoiseTargetIsTheConditionalScore()
    {
        // −ℓ_t ε_v = ∇_v log N(u_t; μ_t, Σ_t), by autograd of the bivariate Gaussian log-density
        using var scope = NewDisposeScope();
        using var gen = new Generator(5);
        var t = tensor(new[] { 0.002, 0.05, 0.5, 1.0 }, float64);
        var x0 = tensor(new[] { 1.0, -2.0, 0.5, 3.0 }, float64).reshape(4, 1);
        var (x, v, epsV) = Cld.PerturbHsm(x0, t, gen);
        var (mx, mv) = Cld.Mean(x0, zeros_like(x0), t);
        var c = Cld.HsmCovariance(t);
        var vg = v.detach().requires_grad_(true);
        var dx = (x - mx).squeeze(1); var dv = (vg - mv).squeeze(1);
        var det = c.Xx * c.Vv - c.Xv.square();
        var logp = -0.5 * (c.Vv * dx.square() - 2 * c.Xv * dx * dv + c.Xx * dv.square()) / det;
        var grad = autograd.grad([logp.sum()], [vg])[0].squeeze(1);
        var target = -c.Ell() * epsV.squeeze(1);
        Assert.True((grad - target).abs().max().item<double>() < 1e-8 * (1 + grad.abs().max().item<double>()));
    }

    [Theory]
    [InlineData("sscs", 100)]
    [InlineData("em", 200)]
    [InlineData("ode", 25)]
    [InlineData("ode-rk45", 1)]   // steps unused: adaptive
    public void SamplersWithTheExactScoreReproduceGaussianData(string sampler, int steps)
    {
        // x₀ ~ N(1, 0.5²): from the equilibrium at t = 1 to t = 10⁻³ the samplers must return that law within MC error
        const int n = 4_000;
        using var scope = NewDisposeScope();
        using var gen = new Generator(7);
        var model = new CldScoreModel(new GaussianCldOracle(Cld, 1.0, 0.5, mixed: true), Cld, mixedScore: true);
        var u = Cld.SamplePrior(n, [2], gen).to(float64);
        var times = CldSamplers.Times(steps, 1e-3);
        int nfe = 0;
        var result = sampler switch
        {
            "sscs" => CldSamplers.Sscs(model, u, times, gen, (d, _) => nfe = d),
            "em" => CldSamplers.EulerMaruyama(model, u, times, gen, (d, _) => nfe = d),
            "ode" => CldSamplers.ProbabilityFlow(model, u, times, (d, _) => nfe = d),
            _ => Rk45(),
        };
        Tensor Rk45()
        {
            var (y, evaluations) = CldSamplers.ProbabilityFlowRk45(model, u, 1e-3, onStep: (d, _) => nfe = d);
            Assert.InRange(evaluations, 20, 2000);   // adaptive: what it reports is what it spent
            steps = evaluations;
            return y;
        }
        Assert.Equal(sampler == "ode-rk45" ? steps : CldSamplers.FunctionEvaluations(sampler, steps), nfe);
        var x = CriticallyDampedLangevin.Split(result).X;
        double mean = x.mean().item<double>(), std = x.std().item<double>();
        Assert.InRange(mean, 1 - 0.025, 1 + 0.025);                          // MC s.e. of the mean: 0.5/√8000 = 0.0056
        Assert.InRange(std, 0.5 * 0.96, 0.5 * 1.04);
    }

    [Fact]
    public void CldMethodRejectsSamplersItDoesNotHave()
    {
        var config = new TrainConfig { Settings = new CldConfig(), Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 } };
        using var method = MethodRegistry.Create(config, [2]);
        Assert.Equal(["sscs", "em", "ode", "ode-rk45"], method.SamplerNames);
        using var gen = new Generator(1);
        var e = Assert.ThrowsAny<UsageException>(() => method.Sample(4, gen, sampler: new SamplerSettings("ddim")));
        Assert.Contains("sscs, em, ode", e.Message);
        using var s = method.Sample(4, gen, sampler: new SamplerSettings("ode", 2));
        Assert.Equal([4L, 2L], s.shape);
        using var rk45 = method.Sample(4, gen, sampler: new SamplerSettings("ode-rk45"));
        Assert.Equal([4L, 2L], rk45.shape);
        Assert.Matches(@"^ode-rk45: .*NFE \d+$", ((ISamplingReport)method).LastSampling);
        Assert.ThrowsAny<UsageException>(() => method.Sample(4, gen, sampler: new SamplerSettings("ode-rk45", 10)));   // --steps: adaptive
        Assert.ThrowsAny<UsageException>(() => MethodRegistry.Create(config with { Settings = new CldConfig { Mass = -1 } }, [2]));
    }
}
