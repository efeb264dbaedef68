using Langevin.Energy;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Tests.Cli;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary>The adversarially trained EBM (PGD, its BCE objective) and the uses of an energy: composition, OOD AUROC, inpainting.</summary>
public class EnergyUsesTests(ITestOutputHelper output)
{
    static EnergyFunction Quadratic(double[] mu, double s) => x =>
        (x - tensor(mu, float64).to(x.dtype)).square().sum([1]) / (2 * s * s);

    [Fact]
    public void PgdWalksStraightToTheMinimumOfAQuadraticInStepsOfEta()
    {
        // E = ‖x − μ‖²/2: ∇E/‖∇E‖ is the unit vector from μ to x, so k steps of length η give x_k = μ + (x₀ − μ)(1 − kη/‖x₀ − μ‖) exactly
        double[] mu = [0.5, -1.0];
        using var x0 = tensor(new double[] { 3.5, 3.0, -2.5, -1.0 }, [2, 2], float64);      // distances 5 and 3
        double eta = 0.25;
        using var x8 = EnergySamplers.Pgd(Quadratic(mu, 1), x0, 8, eta, -10, 10);           // 8η = 2 < both distances
        using var m = tensor(mu, float64);
        using var expected = m + (x0 - m) * (1 - 8 * eta / tensor(new double[] { 5, 3 }, float64).unsqueeze(1));
        output.WriteLine($"after 8 steps: {string.Join(", ", x8.data<double>().ToArray())}");
        Assert.True(x8.allclose(expected, rtol: 0, atol: 1e-9), $"expected {string.Join(", ", expected.data<double>().ToArray())}");   // ‖∇E‖ + 1e-10 in the step
        // many more steps: it ends within one step of the minimum (it oscillates across it with normalised steps)
        using var x60 = EnergySamplers.Pgd(Quadratic(mu, 1), x0, 60, eta, -10, 10);
        using var dist = (x60 - m).square().sum([1]).sqrt();
        Assert.True(dist.le(eta + 1e-12).all().item<bool>(), $"distances {string.Join(", ", dist.data<double>().ToArray())}");
        // the box: a minimum outside [−10, 0.2] is approached only up to the box's wall
        using var boxed = EnergySamplers.Pgd(Quadratic(mu, 1), x0, 60, eta, -10, 0.2);
        Assert.True(boxed.le(0.2).all().item<bool>());
        Assert.Equal(0.2, boxed[0, 0].item<double>(), 12);
    }

    [Fact]
    public void SgldOnASumOfGaussianEnergiesSamplesTheProductGaussian()
    {
        // N(μ₁, s₁²I)·N(μ₂, s₂²I) ∝ N(μ, s²I), 1/s² = 1/s₁² + 1/s₂², μ = s²(μ₁/s₁² + μ₂/s₂²). ULA with step h = ε²/2 on a
        // Gaussian of precision λ has the stationary variance 1/(λ(1 − hλ/2)) exactly (its AR(1) recursion).
        double[] mu1 = [1, 0], mu2 = [-1, 2];
        double s1 = 1, s2 = 0.5, lambda = 1 / (s1 * s1) + 1 / (s2 * s2);
        double[] mu = [(mu1[0] / (s1 * s1) + mu2[0] / (s2 * s2)) / lambda, (mu1[1] / (s1 * s1) + mu2[1] / (s2 * s2)) / lambda];   // (−0.6, 1.6)
        double eps = 0.1, h = eps * eps / 2, variance = 1 / (lambda * (1 - h * lambda / 2));
        var energy = EnergyComposition.Product([Quadratic(mu1, s1), Quadratic(mu2, s2)]);
        var gen = new Generator(11);
        const int n = 20000;
        using var start = randn([n, 2], float64, generator: gen) * 3;
        using var x = EnergySamplers.Sgld(energy, start, 400, SgldSettings.Langevin(eps), gen);
        using var mean = x.mean([0]);
        using var v = (x - mean).square().sum([0]) / (n - 1);
        double seMean = Math.Sqrt(variance / n), seVar = variance * Math.Sqrt(2.0 / n);
        output.WriteLine($"mean ({mean[0].item<double>():F4}, {mean[1].item<double>():F4}) vs ({mu[0]}, {mu[1]}) ± {seMean:F4}; " +
                         $"var ({v[0].item<double>():F4}, {v[1].item<double>():F4}) vs ULA {variance:F4} (continuous {1 / lambda}) ± {seVar:F4}");
        for (int d = 0; d < 2; d++)
        {
            Assert.InRange(mean[d].item<double>(), mu[d] - 4 * seMean, mu[d] + 4 * seMean);
            Assert.InRange(v[d].item<double>(), variance - 4 * seVar, variance + 4 * seVar);
        }
        // a control: either factor alone is far off the product's mean
        Assert.True(Math.Abs(mu1[0] - mu[0]) > 100 * seMean && Math.Abs(mu2[1] - mu[1]) > 100 * seMean);
    }

    [Fact]
    public void AurocIsTheMannWhitneyStatisticWithMidRanksForTies()
    {
        // pairs (pos > neg) + ½ ties: 0.9 beats 3; 0.8 beats 0.1, 0.4 and ties 0.8 → 2.5; 0.3 beats 0.1 → 1; (3 + 2.5 + 1)/9
        Assert.Equal(6.5 / 9, Auroc.Compute([0.9, 0.8, 0.3], [0.1, 0.4, 0.8]), 12);
        Assert.Equal(1.0, Auroc.Compute([2, 3], [0, 1]), 12);
        Assert.Equal(0.0, Auroc.Compute([0, 1], [2, 3]), 12);
        Assert.Equal(0.5, Auroc.Compute([1, 1], [1, 1, 1]), 12);
        // against the brute-force pair count on integer scores full of ties
        var rng = new Random(4);
        double[] p = Enumerable.Range(0, 300).Select(_ => (double)rng.Next(10)).ToArray(), q = Enumerable.Range(0, 200).Select(_ => (double)rng.Next(8)).ToArray();
        double pairs = p.Sum(a => q.Sum(b => a > b ? 1 : a == b ? 0.5 : 0)) / (p.Length * q.Length);
        Assert.Equal(pairs, Auroc.Compute(p, q), 12);
        Assert.Throws<DataException>(() => Auroc.Compute([], [1.0]));
        Assert.Throws<DataException>(() => Auroc.Compute([double.NaN], [1.0]));
    }

    static AdversarialEbmMethod AdvMethod(long[] shape, AdversarialEbmConfig? a = null)
    {
        var c = new TrainConfig { Settings = a ?? new AdversarialEbmConfig(), Network = new NetworkConfig { Width = 16, Depth = 2, BaseChannels = 8 } };
        using var data = Networks.IsImage(shape) ? rand([16, .. shape]) * 2 - 1 : randn([16, .. shape]);
        manual_seed(0);
        return new AdversarialEbmMethod(AdversarialEbmMethod.Resolve(c, data), shape);
    }

    [Fact]
    public void TheAdversarialLossIsBinaryCrossEntropyAtAKnownClassifier()
    {
        // a constant classifier (zero weights, output bias b): E = b, logit = −b everywhere, ∇E = 0 so PGD leaves the noise
        // where it is, and the loss is the mean BCE ½(softplus(b) + softplus(−b)); AUROC of equal logits is ½
        using var m = AdvMethod([2]);
        double b = 1.5;
        using (no_grad())
            foreach (var (name, p) in m.Model.named_parameters())
                if (name.EndsWith("bias") && p.shape[0] == 1) p.fill_(b); else p.zero_();
        using var batch = randn(8, 2);
        using var loss = m.Loss(batch, new Generator(2));
        double expected = 0.5 * (Math.Log(1 + Math.Exp(b)) + Math.Log(1 + Math.Exp(-b)));
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(0.5, m.LastAuroc, 12);
        // and the gradient of the loss in b: d/db ½(softplus(b) + softplus(−b)) = ½(σ(b) − σ(−b))
        loss.backward();
        var biasGrad = m.Model.named_parameters().Single(np => np.name.EndsWith("bias") && np.parameter.shape[0] == 1).parameter.grad!.item<float>();
        Assert.Equal(0.5 * (1 / (1 + Math.Exp(-b)) - 1 / (1 + Math.Exp(b))), biasGrad, 5);
    }

    [Fact]
    public void TheCurriculumAddsAPgdStepWhenTheClassifierWins()
    {
        // a classifier that puts data (near the origin) at low energy and the box's corners at high energy wins every batch
        using var m = AdvMethod([2], new AdversarialEbmConfig { AucWindow = 3, AucThreshold = 0.6, PgdMaxSteps = 3 });
        var gen = new Generator(3);
        Assert.Equal(1, m.PgdSteps);
        var opt = optim.Adam(m.Model.parameters(), 1e-2);
        for (int i = 0; i < 60 && m.PgdSteps < 3; i++)
        {
            using var batch = randn(64, 2) * 0.1;
            opt.zero_grad();
            using var loss = m.Loss(batch, gen);
            loss.backward();
            opt.step();
        }
        output.WriteLine($"PGD steps {m.PgdSteps}, last AUROC {m.LastAuroc:F3}");
        Assert.Equal(3, m.PgdSteps);
    }

    [Fact]
    public void TrainSampleComposeOodAndInpaintFromTheCli()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ebm-uses-").FullName;
        string adv = Path.Combine(dir, "adv"), ebm = Path.Combine(dir, "ebm"), img = Path.Combine(dir, "img");
        var t = CliRunner.Run("train", "--method", "adv-ebm", "--data", "8gaussians", "--steps", "6", "--batch", "32", "--width", "16", "--depth", "2",
            "--pgd-steps", "3", "--sample-every", "0", "--threads", "1", "--limit", "500", "--out", adv);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        t = CliRunner.Run("train", "--method", "ebm", "--data", "8gaussians", "--steps", "4", "--batch", "32", "--width", "16", "--depth", "2",
            "--sgld-steps", "2", "--buffer-size", "50", "--sample-steps", "5", "--sample-every", "0", "--threads", "1", "--limit", "500", "--out", ebm);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        string npy = Path.Combine(dir, "s.npy");
        var s = CliRunner.Run("sample", "--run", adv, "--n", "40", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        using (var samples = NpyFile.Read(npy)) Assert.Equal(new long[] { 40, 2 }, samples.shape);
        s = CliRunner.Run("sample", "--run", ebm, "--compose", adv, "--n", "30", "--steps", "4", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        using (var samples = NpyFile.Read(npy)) Assert.Equal(new long[] { 30, 2 }, samples.shape);
        var o = CliRunner.Run("ood", "--run", ebm, "--n", "50", "--threads", "1");
        Assert.True(o.ExitCode == 0, o.Stderr);
        Assert.Contains("noise", o.Stdout);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", ebm, "--compose", Path.Combine(dir, "missing"), "--out", npy), 2, "--compose");
        CliRunner.AssertFails(CliRunner.Run("ood", "--run", ebm, "--out-data", "flip"), 2, "--out-data");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "adv-ebm", "--pgd-steps", "0", "--out", Path.Combine(dir, "bad")), 2, "--pgd-steps");
        // images: a 2-step CNN EBM, then OOD sets and inpainting by energy descent run end to end
        t = CliRunner.Run("train", "--method", "ebm", "--data", "shapes:16", "--limit", "64", "--steps", "2", "--batch", "8", "--channels", "8",
            "--sgld-steps", "2", "--buffer-size", "16", "--sample-steps", "3", "--sample-every", "0", "--threads", "1", "--out", img);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        o = CliRunner.Run("ood", "--run", img, "--n", "16", "--threads", "1");
        Assert.True(o.ExitCode == 0, o.Stderr);
        Assert.Contains("rotate", o.Stdout);
        string grid = Path.Combine(dir, "inpaint.png");
        var ip = CliRunner.Run("inpaint", "--run", img, "--n", "4", "--steps", "3", "--grid", grid, "--out", npy, "--threads", "1");
        Assert.True(ip.ExitCode == 0, ip.Stderr);
        using var filled = NpyFile.Read(npy);
        Assert.Equal(new long[] { 4, 3, 16, 16 }, filled.shape);
    }
}
