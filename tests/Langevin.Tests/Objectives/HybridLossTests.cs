using Langevin.Methods;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Objectives;

public class HybridLossTests
{
    static readonly VpDiscreteSchedule Linear = new();
    static readonly HybridLoss Images = new(Linear, discretised: true);

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(500)]
    [InlineData(999)]
    public void PosteriorIsBayesRuleForTheForwardProcess(int step)
    {
        using var scope = NewDisposeScope();
        double abar = Linear.AlphasCumprod[step], prev = Linear.AlphasCumprod[step - 1], beta = Linear.Betas[step];
        double x0 = 0.3, xt = -1.1;
        // Prior x_{t−1}|x₀ ~ N(√ᾱ_{t−1} x₀, 1 − ᾱ_{t−1}); likelihood x_t|x_{t−1} ~ N(√(1−β_t) x_{t−1}, β_t).
        double precision = 1 / (1 - prev) + (1 - beta) / beta;
        double mean = (Math.Sqrt(prev) * x0 / (1 - prev) + Math.Sqrt(1 - beta) * xt / beta) / precision;
        var t = tensor(new long[] { step });
        var (m, logVar) = Images.Posterior(tensor(new[] { x0 }, [1, 1]).to(float64), tensor(new[] { xt }, [1, 1]).to(float64), t);
        // The tables are float32, as diffusers': 1 − ᾱ_t ≈ 2e-4 at t = 1 carries a relative error of ~5e-4.
        Assert.True(Math.Abs(m.item<double>() - mean) < 1e-3 * Math.Abs(mean), $"posterior mean {m.item<double>()} vs {mean}");
        Assert.True(Math.Abs(logVar.item<double>() - Math.Log(1 / precision)) < 1e-3, $"log variance {logVar.item<double>()} vs {Math.Log(1 / precision)}");
    }

    [Fact]
    public void GaussianKlMatchesMonteCarlo()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        double m1 = 0.4, lv1 = Math.Log(0.3), m2 = -0.2, lv2 = Math.Log(0.7);
        var x = m1 + Math.Exp(lv1 / 2) * randn([400_000], generator: gen, dtype: float64);
        var logRatio = -0.5 * (lv1 + (x - m1).square() / Math.Exp(lv1)) + 0.5 * (lv2 + (x - m2).square() / Math.Exp(lv2));
        double mc = logRatio.mean().item<double>(), se = logRatio.std().item<double>() / Math.Sqrt(400_000);
        var kl = HybridLoss.NormalKl(tensor(m1), tensor(lv1), tensor(m2), tensor(lv2)).item<double>();
        Assert.True(Math.Abs(kl - mc) < 4 * se, $"KL {kl} vs Monte Carlo {mc} ± {se}");
    }

    [Theory]
    [InlineData(0.0, 0.1)]
    [InlineData(0.93, 0.02)]
    [InlineData(-0.5, 1.5)]
    public void DiscretisedDecoderIsADistributionOverThe256Levels(double mean, double std)
    {
        using var scope = NewDisposeScope();
        var levels = arange(256, dtype: float64) / 127.5 - 1;   // uint8 / 127.5 − 1
        var lp = HybridLoss.DiscretisedGaussianLogLikelihood(levels, full([256], mean, float64), full([256], 2 * Math.Log(std), float64));
        Assert.Equal(1.0, lp.exp().sum().item<double>(), 6);
        // An interior bin is Φ((x + 1/255 − μ)/s) − Φ((x − 1/255 − μ)/s).
        double x = levels[100].item<double>();
        double Phi(double z) => 0.5 * tensor(-z / Math.Sqrt(2)).erfc().item<double>();
        Assert.Equal(Phi((x + 1 / 255.0 - mean) / std) - Phi((x - 1 / 255.0 - mean) / std), lp[100].exp().item<double>(), 9);
    }

    [Fact]
    public void VlbTermTrainsOnlyTheVarianceAndItsGradientMatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(6);
        var x0 = (randint(0, 256, [4, 1, 2, 2], generator: gen).to(float64) / 127.5 - 1);
        var t = tensor(new long[] { 0, 3, 250, 900 });
        var xt = randn([4, 1, 2, 2], generator: gen, dtype: float64);
        var eps = randn([4, 1, 2, 2], generator: gen, dtype: float64).requires_grad_();
        var v = (rand([4, 1, 2, 2], generator: gen, dtype: float64) * 2 - 1).requires_grad_();
        var term = Images.VlbTerm(x0, xt, t, eps, v);
        Assert.Equal([4], term.shape);
        Assert.True(term.isfinite().all().item<bool>());
        term.sum().backward();
        Assert.True(eps.grad is null || eps.grad.abs().sum().item<double>() == 0, "the VLB term must not train the mean");
        var g = v.grad!.clone();
        using (no_grad())
        {
            const double h = 1e-6;
            for (int i = 0; i < 16; i++)
            {
                var dv = zeros_like(v).flatten(); dv[i] = h;
                dv = dv.reshape(v.shape);
                double fd = ((Images.VlbTerm(x0, xt, t, eps, v + dv) - Images.VlbTerm(x0, xt, t, eps, v - dv)).sum() / (2 * h)).item<double>();
                Assert.Equal(fd, g.flatten()[i].item<double>(), 5);
            }
        }
    }

    [Fact]
    public void TheHybridMethodTrainsAnAdmNetworkWithLearnedVariance()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(7);
        manual_seed(0);
        var config = new TrainConfig
        {
            Network = new NetworkConfig { Kind = "adm", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1, Adm = new AdmNetworkConfig { Heads = 2 } },
            Settings = new DdpmConfig { Loss = "hybrid", SampleSteps = 2 },
        };
        using var m = (DdpmMethod)MethodRegistry.Create(config, [1, 8, 8]);
        Assert.True(m.LearnedVariance);
        var data = (randint(0, 256, [6, 1, 8, 8], generator: gen).to(float32) / 127.5 - 1);
        var loss = m.Loss(data, gen);
        Assert.True(double.IsFinite(loss.item<float>()));
        loss.backward();
        Assert.Equal([2, 1, 8, 8], m.Sample(2, gen).shape);
        Assert.ThrowsAny<UsageException>(() => MethodRegistry.Create(config with { Network = new NetworkConfig { Kind = "unet" } }, [1, 8, 8]));
        Assert.ThrowsAny<UsageException>(() => MethodRegistry.Create(config with { Settings = new DdpmConfig { Loss = "hybrid", Prediction = "v" } }, [1, 8, 8]));
    }
}
