using Langevin.Energy;
using Langevin.IO;
using Langevin.Tests.Cli;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary>The pieces of the image EBM recipe (Lippe's tutorial 8): the strided CNN, SGLD in a box, the options and defaults.</summary>
public class ImageEbmRecipeTests(ITestOutputHelper output)
{
    [Theory]
    // 28×28, c = 32: convs 1→16 (5×5), 16→32, 32→64, 64→64 (3×3), then 64·2·2 → 64 → 1
    [InlineData(new long[] { 1, 28, 28 }, 32, 416L + 4640 + 18496 + 36928 + 16448 + 65)]
    // 16×16×3, c = 16: 16 → 10 → 5 → 3 → 2, so the first linear layer also sees 2×2
    [InlineData(new long[] { 3, 16, 16 }, 16, 608L + 1168 + 4640 + 9248 + 4128 + 33)]
    public void TheStridedCnnHasTheTutorialsLayers(long[] shape, int hidden, long parameters)
    {
        using var net = new StridedEnergyCnn(shape, hidden, spectralNorm: false);
        long count = net.parameters().Sum(p => p.numel());
        Assert.Equal(parameters, count);
        using var x = rand([5, .. shape]) * 2 - 1;
        using var e = net.forward(x);
        Assert.Equal(new long[] { 5 }, e.shape);
        Assert.True(e.isfinite().all().item<bool>());
    }

    [Fact]
    public void TheStridedCnnsInputGradientMatchesFiniteDifferences()
    {
        manual_seed(3);
        using var net = new StridedEnergyCnn([1, 12, 12], 8, spectralNorm: true);
        net.to(float64).eval();
        using var x = rand([2, 1, 12, 12], float64) * 2 - 1;
        using var g = EnergySamplers.Gradient(net.forward, x);
        const double h = 1e-6;
        foreach (var (b, i, j) in new[] { (0, 3, 4), (1, 11, 0), (1, 6, 6) })
        {
            using var xp = x.clone(); using var xm = x.clone();
            xp[b, 0, i, j] += h; xm[b, 0, i, j] -= h;
            using var ep = net.forward(xp); using var em = net.forward(xm);
            double fd = (ep[b].item<double>() - em[b].item<double>()) / (2 * h);
            double ad = g[b, 0, i, j].item<double>();
            output.WriteLine($"({b}, {i}, {j}): autograd {ad:G10}, finite difference {fd:G10}");
            Assert.InRange(Math.Abs(fd - ad), 0, 1e-7);
        }
    }

    [Fact]
    public void SgldWithABoxKeepsEveryStateInsideAndStopsAtTheWall()
    {
        // E = ‖x − μ‖²/2 with μ = (3, −3) outside [−1, 1]²: without noise the clamped chain sits exactly on the corner (1, −1)
        EnergyFunction quadratic = x => (x - tensor(new double[] { 3, -3 }, float64)).square().sum([1]) / 2;
        var gen = new Generator(5);
        using var start = rand([64, 2], float64, generator: gen) * 2 - 1;
        using var cold = EnergySamplers.Sgld(quadratic, start, 10, new SgldSettings(0.5, 0, 0, (-1, 1)), gen);
        Assert.True(cold.select(1, 0).eq(1).all().item<bool>() && cold.select(1, 1).eq(-1).all().item<bool>());
        using var noisy = EnergySamplers.Sgld(quadratic, start, 50, new SgldSettings(0.1, 0.5, 0.03, (-1, 1)), gen);
        Assert.True(noisy.abs().max().item<double>() <= 1);
        // the control: without the box the same chain leaves it
        using var free = EnergySamplers.Sgld(quadratic, start, 50, new SgldSettings(0.1, 0.5, 0.03), gen);
        Assert.True(free.abs().max().item<double>() > 1);
    }

    [Fact]
    public void AFinalStepSizeDecaysAlphaGeometricallyToItsLastStep()
    {
        var s = new SgldSettings(10, 0, 0, FinalStepSize: 0.1);
        Assert.Equal(10, s.StepSizeAt(0, 5), 12);
        Assert.Equal(1, s.StepSizeAt(2, 5), 12);            // the geometric midpoint of 10 and 0.1
        Assert.Equal(0.1, s.StepSizeAt(4, 5), 12);
        Assert.Equal(10, new SgldSettings(10, 0, 0).StepSizeAt(4, 5));
        // on E = x²/2 without noise each step multiplies x by (1 − α_k): the chain is the product of those factors
        EnergyFunction quadratic = x => x.square().sum([1]) / 2;
        var slow = new SgldSettings(0.5, 0, 0, FinalStepSize: 0.05);
        using var start = ones([1, 1], float64);
        using var end = EnergySamplers.Sgld(quadratic, start, 4, slow, new Generator(1));
        double expected = Enumerable.Range(0, 4).Aggregate(1.0, (x, k) => x * (1 - slow.StepSizeAt(k, 4)));
        Assert.Equal(expected, end.item<double>(), 12);
        Assert.NotEqual(Math.Pow(0.5, 4), expected, 3);    // the control: a constant α would give 0.5⁴
    }

    [Fact]
    public void TheRecipesOptionsReachTheRunAndBadValuesFailWithOneLine()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ebm-recipe-").FullName;
        string img = Path.Combine(dir, "img"), adv = Path.Combine(dir, "adv");
        var t = CliRunner.Run("train", "--method", "ebm", "--data", "shapes:16", "--limit", "64", "--steps", "2", "--batch", "8", "--channels", "8",
            "--energy-net", "strided", "--no-spectral-norm", "--sgld-clamp", "--data-noise", "0.005", "--adam-betas", "0,0.99",
            "--sgld-steps", "3", "--sgld-step", "10", "--sgld-clip", "0.03", "--buffer-size", "16", "--sample-steps", "4",
            "--sample-every", "0", "--threads", "1", "--out", img);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(img, "config.json"))))
        {
            var root = config.RootElement;
            Assert.Equal(0, root.GetProperty("adam_beta1").GetDouble());
            Assert.Equal(0.99, root.GetProperty("adam_beta2").GetDouble());
            Assert.Equal("strided", root.GetProperty("settings").GetProperty("energy_net").GetString());
            Assert.True(root.GetProperty("settings").GetProperty("sgld_clamp").GetBoolean());
        }
        // the log carries the mean energies beside the loss, so a reader can see |E| stay bounded
        var last = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllLines(Path.Combine(img, "log.jsonl")).Last())!;
        Assert.True(double.IsFinite(last["e_pos"]!.GetValue<double>()) && double.IsFinite(last["e_neg"]!.GetValue<double>()));
        // step 10 on a clipped gradient moves pixels by up to 0.3 a step: only the box keeps the samples in [−1, 1]
        string npy = Path.Combine(dir, "s.npy");
        var s = CliRunner.Run("sample", "--run", img, "--n", "6", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        using (var samples = NpyFile.Read(npy))
        {
            Assert.Equal(new long[] { 6, 3, 16, 16 }, samples.shape);
            Assert.True(samples.abs().max().item<float>() <= 1f);
        }
        // sampling-time SGLD steps: α from --step-size decaying to --final-step-size; options of other samplers are refused
        s = CliRunner.Run("sample", "--run", img, "--n", "4", "--steps", "5", "--step-size", "5", "--final-step-size", "0.5", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", img, "--final-step-size", "0", "--out", npy), 2, "--final-step-size");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", img, "--eta", "0.5", "--out", npy), 2, "--eta");
        s = CliRunner.Run("sample", "--run", img, "--n", "4", "--steps", "2", "--start", "buffer", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", img, "--n", "17", "--start", "buffer", "--out", npy), 2, "--start buffer");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", img, "--start", "data", "--out", npy), 2, "--start");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", img, "--compose", img, "--start", "buffer", "--out", npy), 2, "--start");
        t = CliRunner.Run("train", "--method", "adv-ebm", "--data", "shapes:16", "--limit", "64", "--steps", "2", "--batch", "8", "--channels", "8",
            "--energy-net", "strided", "--pgd-data-steps", "2", "--pgd-steps", "3", "--r1-reg", "0.01", "--sample-every", "0", "--threads", "1", "--out", adv);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        var advLast = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllLines(Path.Combine(adv, "log.jsonl")).Last())!;
        Assert.Equal(1, advLast["pgd_steps"]!.GetValue<double>());    // the curriculum starts at 1 and waits a 50-step AUROC window
        Assert.InRange(advLast["auroc"]!.GetValue<double>(), 0, 1);
        string bad = Path.Combine(dir, "bad");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--energy-net", "resnet", "--out", bad), 2, "--energy-net");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--adam-betas", "1.5,0.9", "--out", bad), 2, "--adam-betas");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--adam-betas", "0.9", "--out", bad), 2, "--adam-betas");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--data-noise", "-1", "--out", bad), 2, "--data-noise");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "adv-ebm", "--pgd-data-steps", "-1", "--out", bad), 2, "--pgd-data-steps");
    }

    [Trait("Category", "System")]
    [Fact]
    public void FashionMnistEbmDefaultsToTheRecipeAndToyDefaultsStay()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ebm-defaults-").FullName;
        string fm = Path.Combine(dir, "fm"), toy = Path.Combine(dir, "toy");
        var t = CliRunner.Run("train", "--method", "ebm", "--data", "fashion-mnist", "--limit", "32", "--steps", "1", "--batch", "4",
            "--sgld-steps", "1", "--sample-every", "0", "--threads", "1", "--out", fm);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fm, "config.json"))))
        {
            var root = config.RootElement;
            var e = root.GetProperty("settings");
            Assert.Equal(1e-4, root.GetProperty("learning_rate").GetDouble());
            Assert.Equal(0, root.GetProperty("adam_beta1").GetDouble());
            Assert.Equal(0.1, root.GetProperty("grad_clip").GetDouble());
            Assert.Equal("strided", e.GetProperty("energy_net").GetString());
            Assert.False(e.GetProperty("spectral_norm").GetBoolean());
            Assert.Equal(10, e.GetProperty("sgld_step_size").GetDouble());
            Assert.Equal(0.03, e.GetProperty("sgld_grad_clip").GetDouble());
            Assert.True(e.GetProperty("sgld_clamp").GetBoolean());
            Assert.Equal(0.1, e.GetProperty("energy_regularizer").GetDouble());
        }
        t = CliRunner.Run("train", "--method", "ebm", "--data", "8gaussians", "--limit", "200", "--steps", "1", "--width", "16",
            "--sgld-steps", "1", "--sample-every", "0", "--threads", "1", "--out", toy);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        using (var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(toy, "config.json"))))
        {
            var root = config.RootElement;
            var e = root.GetProperty("settings");
            Assert.Equal(128, root.GetProperty("batch_size").GetInt32());
            Assert.Equal(0.9, root.GetProperty("adam_beta1").GetDouble());
            Assert.Equal(1, e.GetProperty("sgld_step_size").GetDouble());
            Assert.Equal(0.1, e.GetProperty("sgld_grad_clip").GetDouble());
            Assert.False(e.GetProperty("sgld_clamp").GetBoolean());
            Assert.Equal("cnn", e.GetProperty("energy_net").GetString());
        }
    }
}
