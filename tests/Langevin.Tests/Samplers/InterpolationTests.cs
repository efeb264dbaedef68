using Langevin.Models;
using Langevin.Samplers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary><see cref="Interpolation"/> called directly on an exact mixture denoiser: rows are pairs, their ends reconstruct the pair.</summary>
public class InterpolationTests(ITestOutputHelper output)
{
    [Fact]
    public void EachRowRunsFromOneImageOfItsPairToTheOtherInsideTheirMode()
    {
        // two modes ±½·1 of a 4-pixel image; by symmetry the flow keeps the sign of x·1, so the latents of one mode fill a half-space,
        // and a slerp between two of them (a great-circle arc inside that cone) decodes to the same mode all the way
        using var mixture = new GaussianMixtureScore([0.5, 0.5], [[-0.5, -0.5, -0.5, -0.5], [0.5, 0.5, 0.5, 0.5]], 0.1);
        using var method = new AnalyticDenoisingModel(mixture, [1, 2, 2]);
        var gen = new Generator(6);
        using var a = randn([2, 1, 2, 2], generator: gen) * 0.1 - 0.5;
        using var b = randn([2, 1, 2, 2], generator: gen) * 0.1 + 0.5;
        using var images = cat([a, b]);                                   // pair 0 from the − mode, pair 1 from the + mode
        const int frames = 5, steps = 200;
        Assert.Equal(2 * Interpolation.Plan(method, steps).Steps, Interpolation.Evaluations(method, steps));
        int reported = 0;
        using var rows = Interpolation.Between(method, images, frames, steps, k => reported = k);
        Assert.Equal(Interpolation.Evaluations(method, steps), reported);
        Assert.Equal(new long[] { 2 * frames, 1, 2, 2 }, rows.shape);
        for (int p = 0; p < 2; p++)
        {
            double first = (rows[p * frames] - images[2 * p]).abs().max().item<float>(), last = (rows[p * frames + frames - 1] - images[2 * p + 1]).abs().max().item<float>();
            output.WriteLine($"pair {p}: ends reconstruct to {first:E2}, {last:E2}; frame means {string.Join(", ", Enumerable.Range(0, frames).Select(f => rows[p * frames + f].mean().item<float>().ToString("F3")))}");
            Assert.True(first < 0.05 && last < 0.05, "the ends reconstruct the inverted images");
            for (int f = 0; f < frames; f++)
                Assert.True(p == 0 ? rows[p * frames + f].mean().item<float>() < -0.3 : rows[p * frames + f].mean().item<float>() > 0.3, $"frame {f} of pair {p} leaves its mode");
        }
        Assert.Throws<UsageException>(() => Interpolation.Between(method, images[..3], frames, steps));
        Assert.Throws<UsageException>(() => Interpolation.Between(method, images, 1, steps));
    }
}
