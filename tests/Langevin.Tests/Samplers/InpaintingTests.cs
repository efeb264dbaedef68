using Langevin.Methods;
using Langevin.Models;
using Langevin.Samplers;
using Langevin.Tests.Energy;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary><see cref="InpaintingMask"/> and <see cref="Inpainting"/> called directly, on each of the three paths.</summary>
public class InpaintingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("right-half", 7 * 5)]       // columns 4..8 of 9
    [InlineData("left-half", 7 * 4)]        // columns 0..3
    [InlineData("bottom-half", 4 * 9)]      // rows 3..6 of 7
    [InlineData("top-half", 3 * 9)]         // rows 0..2
    [InlineData("center", 4 * 4)]           // rows 1..4 × columns 2..5
    public void AMaskHidesItsExactPixels(string kind, int unknownPerPlane)
    {
        long[] shape = [2, 3, 7, 9];
        using var m = InpaintingMask.Make(kind, shape);
        Assert.Equal(shape, m.shape);
        Assert.Equal(ScalarType.Float32, m.dtype);
        Assert.True((m.eq(0) | m.eq(1)).all().item<bool>());
        Assert.Equal(2 * 3 * (63 - unknownPerPlane), m.sum().item<float>());
        // the same plane in every image and channel
        Assert.True(m.eq(m[0, 0]).all().item<bool>());
        using var unknown = m[0, 0].eq(0);
        var (rows, columns) = kind switch
        {
            "right-half" => ((0, 7), (4, 9)),
            "left-half" => ((0, 7), (0, 4)),
            "bottom-half" => ((3, 7), (0, 9)),
            "top-half" => ((0, 3), (0, 9)),
            _ => ((1, 5), (2, 6)),
        };
        Assert.True(unknown[rows.Item1..rows.Item2, columns.Item1..columns.Item2].all().item<bool>());
    }

    [Fact]
    public void AnEvenImageSplitsInHalvesAndQuarters()
    {
        using var right = InpaintingMask.Make("right-half", [1, 1, 28, 28]);
        Assert.True(right[.., .., .., ..14].eq(1).all().item<bool>() && right[.., .., .., 14..].eq(0).all().item<bool>());
        using var center = InpaintingMask.Make("center", [1, 1, 28, 28]);
        Assert.Equal(28 * 28 - 14 * 14, center.sum().item<float>());
        Assert.True(center[.., .., 7..21, 7..21].eq(0).all().item<bool>());
        Assert.Throws<UsageException>(() => InpaintingMask.Make("diagonal", [1, 1, 4, 4]));
        Assert.Throws<ArgumentException>(() => InpaintingMask.Make("center", [4, 4]));
        Assert.Equal(["right-half", "left-half", "top-half", "bottom-half", "center"], InpaintingMask.Kinds);
    }

    [Fact]
    public void EnergyDescentFillsTheUnknownPixelsFromTheEnergyAndKeepsTheKnownOnes()
    {
        // E = Σ (x − ½)²/2s² is separable, so with the known pixels clamped the unknown ones are N(½, s²) each; the own sampler is
        // ULA of step h = ε²/2, whose stationary variance is s²/(1 − h/2s²) exactly
        const double s = 0.05, eps = 0.02;
        using var ebm = new AnalyticEnergyModel(x => (x - 0.5).square().flatten(1).sum([1]) / (2 * s * s), [1, 4, 4], (-1, 1), eps, sampleSteps: 200);
        Assert.Equal(InpaintingPath.EnergyDescent, Inpainting.PathFor(ebm));
        Assert.Equal(200, Inpainting.ProgressTotal(ebm));
        Assert.Equal(50, Inpainting.ProgressTotal(ebm, 50));
        var gen = new Generator(3);
        using var observed = rand([256, 1, 4, 4], generator: gen) * 2 - 1;
        using var mask = InpaintingMask.Make("right-half", observed.shape);
        int reported = 0;
        using var x = Inpainting.Run(ebm, observed, mask, gen, onProgress: k => reported = k);
        Assert.Equal(200, reported);
        Assert.Equal(observed.shape, x.shape);
        Assert.Equal(0, (x - observed.to(x.dtype)).mul(mask.to(x.dtype)).abs().max().item<double>());                 // the known pixels are kept exactly
        using var filled = x.masked_select(mask.eq(0)).to(float64);
        double mean = filled.mean().item<double>(), variance = filled.var().item<double>();
        double expected = s * s / (1 - eps * eps / 2 / (2 * s * s)), se = Math.Sqrt(expected / filled.shape[0]);
        output.WriteLine($"unknown pixels: mean {mean:F4} (0.5 ± {se:F4}), variance {variance:E3} (ULA {expected:E3})");
        Assert.InRange(mean, 0.5 - 4 * se, 0.5 + 4 * se);
        Assert.InRange(variance, 0.85 * expected, 1.15 * expected);
    }

    [Fact]
    public void ReplacementFillsTheUnknownPixelsFromTheConditionalOfTheKnownOnes()
    {
        // two components far apart: the known left column of a 2×2 image says which one, and the right column follows it
        // (replacement only approximates the conditional; at the default 100 steps its mean is within 0.015 of it)
        using var mixture = new GaussianMixtureScore([0.5, 0.5], [[-0.5, -0.5, -0.5, -0.5], [0.5, 0.5, 0.5, 0.5]], 0.1);
        using var method = new AnalyticDenoisingModel(mixture, [1, 2, 2]);
        Assert.Equal(InpaintingPath.Replacement, Inpainting.PathFor(method));
        Assert.Equal(Inpainting.DefaultReplacementSteps, Inpainting.ProgressTotal(method));
        var gen = new Generator(4);
        const int n = 200;
        using var observed = cat([full([n, 1, 2, 2], -0.5f), full([n, 1, 2, 2], 0.5f)]);
        using var mask = InpaintingMask.Make("right-half", observed.shape);
        int reported = 0;
        using var x = Inpainting.Run(method, observed, mask, gen, onProgress: k => reported = k);
        Assert.Equal(Inpainting.DefaultReplacementSteps, reported);
        Assert.Equal(0, (x - observed).mul(mask).abs().max().item<float>());                 // the known pixels are kept exactly
        double a = x[..n, .., .., 1].mean().item<float>(), b = x[n.., .., .., 1].mean().item<float>();
        double sa = x[..n, .., .., 1].std().item<float>();
        output.WriteLine($"unknown column: mean {a:F4} given −½, {b:F4} given ½; std {sa:F4} (0.1)");
        Assert.Equal(-0.5, a, 0.03);
        Assert.Equal(0.5, b, 0.03);
        Assert.InRange(sa, 0.07, 0.13);
    }

    [Fact]
    public void NcsnInpaintsByAnnealedLangevinAndKeepsTheKnownPixels()
    {
        var config = new TrainConfig
        {
            Network = new NetworkConfig { Kind = "unet", BaseChannels = 8, ChannelMults = [1], NumResBlocks = 1 },
            Settings = new NcsnConfig { SigmaMax = 1, SigmaMin = 0.1, Levels = 2, StepsPerLevel = 2, StepSize = 1e-4 },
        };
        manual_seed(0);
        using var ncsn = new NcsnMethod(config, [1, 8, 8]);
        Assert.Equal(InpaintingPath.AnnealedLangevin, Inpainting.PathFor(ncsn));
        Assert.Equal(ncsn.FunctionEvaluations, Inpainting.ProgressTotal(ncsn));
        var gen = new Generator(5);
        using var observed = rand([3, 1, 8, 8], generator: gen) * 2 - 1;
        using var mask = InpaintingMask.Make("center", observed.shape);
        int reported = 0;
        using var x = Inpainting.Run(ncsn, observed, mask, gen, onProgress: k => reported = k);
        Assert.Equal(ncsn.FunctionEvaluations, reported);
        Assert.Equal(0, (x - observed).mul(mask).abs().max().item<float>());                 // the final denoised state keeps the observation
        Assert.True(x.isfinite().all().item<bool>());
        Assert.Throws<UsageException>(() => Inpainting.ProgressTotal(ncsn, 10));
    }

    [Fact]
    public void PointsAndBadInputsAreOneLineErrors()
    {
        using var points = new AnalyticEnergyModel(x => x.square().sum([1]), [2], (-1, 1));
        using var image = new AnalyticEnergyModel(x => x.square().flatten(1).sum([1]), [1, 4, 4], (-1, 1));
        var gen = new Generator(6);
        using var x = zeros(2, 2);
        using var m = ones(2, 2);
        Assert.Throws<UsageException>(() => Inpainting.Run(points, x, m, gen));
        using var wrong = zeros(2, 1, 8, 8);
        using var wrongMask = ones(2, 1, 8, 8);
        Assert.Throws<UsageException>(() => Inpainting.Run(image, wrong, wrongMask, gen));
        Assert.Throws<UsageException>(() => Inpainting.ProgressTotal(image, 0));
    }
}
