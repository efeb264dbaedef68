using Langevin.Adversarial;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Adversarial;

/// <summary>The adversarial losses against their closed forms: the optimal discriminator, R1 and the gradient penalty.</summary>
public class AdversarialLossTests(ITestOutputHelper output)
{
    /// <summary>
    /// Goodfellow et al. 2014, Prop. 1: the discriminator minimising the non-saturating D loss is D*(x) = p/(p + q), i.e. its logit is
    /// log p(x) − log q(x). For p = N(0, 1) (real) and q = N(0, 2²) (generated) that is log 2 − 3x²/8, which a logit
    /// a·x² + b·x + c can represent exactly: fitting it by the loss must recover a = −0.375, b = 0, c = ln 2.
    /// </summary>
    [Fact]
    public void TheNonSaturatingLossIsMinimisedByTheOptimalDiscriminator()
    {
        using var g = new Generator(7);
        using var real = randn([200_000], generator: g);
        using var fake = randn([200_000], generator: g) * 2;
        using var w = new TorchSharp.Modules.Parameter(zeros(3));
        Tensor Logit(Tensor x) => w[0] * x.square() + w[1] * x + w[2];
        var opt = optim.LBFGS(new[] { w }, lr: 1, max_iter: 200);
        opt.step(() =>
        {
            opt.zero_grad();
            var loss = AdversarialLosses.Discriminator(GanLoss.NonSaturating, Logit(real), Logit(fake));
            loss.backward();
            return loss;
        });
        var c = w.detach().data<float>().ToArray();
        output.WriteLine($"fitted logit {c[0]:F4}·x² + {c[1]:F4}·x + {c[2]:F4}; optimal −0.3750·x² + 0·x + {Math.Log(2):F4}");
        // standard errors at N = 2·10⁵ are ~0.005
        Assert.InRange(c[0], -0.375 - 0.02, -0.375 + 0.02);
        Assert.InRange(c[1], -0.02, 0.02);
        Assert.InRange(c[2], Math.Log(2) - 0.03, Math.Log(2) + 0.03);
    }

    [Fact]
    public void TheLossesHaveTheirFormulas()
    {
        using var r = tensor(new float[] { 2f, -0.5f });
        using var f = tensor(new float[] { 0.3f, -3f });
        double Sp(double x) => Math.Log(1 + Math.Exp(x));
        Assert.Equal((Sp(-2) + Sp(0.5)) / 2 + (Sp(0.3) + Sp(-3)) / 2, AdversarialLosses.Discriminator(GanLoss.NonSaturating, r, f).item<float>(), 5);
        Assert.Equal((0 + 1.5) / 2 + (1.3 + 0) / 2, AdversarialLosses.Discriminator(GanLoss.Hinge, r, f).item<float>(), 5);
        Assert.Equal((0.3 - 3) / 2 - (2 - 0.5) / 2, AdversarialLosses.Discriminator(GanLoss.Wasserstein, r, f).item<float>(), 5);
        Assert.Equal((Sp(-0.3) + Sp(3)) / 2, AdversarialLosses.Generator(GanLoss.NonSaturating, f).item<float>(), 5);
        Assert.Equal(1.35, AdversarialLosses.Generator(GanLoss.Hinge, f).item<float>(), 5);
        Assert.Equal(1.35, AdversarialLosses.Generator(GanLoss.Wasserstein, f).item<float>(), 5);
        Assert.Equal(GanLoss.Hinge, AdversarialLosses.Parse("hinge", "gan.loss"));
        Assert.Contains("gan.loss", Assert.Throws<SettingException>(() => AdversarialLosses.Parse("lsgan", "gan.loss")).Message);
    }

    /// <summary>R1 of D(x) = c·Σx² is E‖2c·x‖²; WGAN-GP's penalty of the linear D(x) = c·uᵀx (‖u‖ = 1) is (c − 1)² everywhere.</summary>
    [Fact]
    public void ThePenaltiesMatchTheirClosedForms()
    {
        using var g = new Generator(3);
        using var x = randn([4000, 3], generator: g);
        var real = x.clone().requires_grad_(true);
        double c = 0.7;
        var r1 = AdversarialLosses.R1(real, (real.square().sum(1) * c)).item<float>();
        double expected = 4 * c * c * x.square().sum(1).mean().item<float>();
        Assert.Equal(expected, r1, 3);

        using var u = tensor(new float[] { 0.6f, 0f, 0.8f });
        var gp = AdversarialLosses.GradientPenalty(y => y.matmul(u) * 2.5, x, x + 1, g).item<float>();
        Assert.Equal(1.5 * 1.5, gp, 4);
    }

    /// <summary>R1 is differentiated twice (D's loss back-propagates through ∇ₓD): its gradient in D's weights matches central differences.</summary>
    [Fact]
    public void TheR1GradientInTheWeightsMatchesFiniteDifferences()
    {
        manual_seed(5);
        using var d = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1));
        d.to(float64);
        using var g = new Generator(9);
        using var x = randn([64, 2], generator: g, dtype: float64);
        double R1()
        {
            var real = x.clone().requires_grad_(true);
            return AdversarialLosses.R1(real, d.call(real).squeeze(-1)).item<double>();
        }
        var real0 = x.clone().requires_grad_(true);
        AdversarialLosses.R1(real0, d.call(real0).squeeze(-1)).backward();
        var w = d.parameters().First();
        var analytic = w.grad!.clone();
        double h = 1e-6, worst = 0;
        for (int i = 0; i < 6; i++)
        {
            using var flat = w.view(-1);
            double v;
            using (no_grad()) { v = flat[i].item<double>(); flat[i] = v + h; }
            double plus = R1();
            using (no_grad()) flat[i] = v - h;
            double minus = R1();
            using (no_grad()) flat[i] = v;
            double numeric = (plus - minus) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - analytic.view(-1)[i].item<double>()));
        }
        output.WriteLine($"largest |∂R1/∂w analytic − central difference| over 6 weights: {worst:G3}");
        Assert.True(worst < 1e-6, $"R1's weight gradient is off by {worst}");
    }
}
