using Langevin.Data;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;
namespace Langevin.Tests;
public class Scratch
{
    [Fact]
    public void Probe()
    {
        var lines = new List<string>();
        var m = UniformSquaresScore.Checkerboard();
        foreach (var (smin, L, T) in new[] { (0.1, 20, 50), (0.2, 15, 50), (0.05, 25, 50), (0.1, 20, 20) })
        {
            var sigmas = new GeometricSigmas(11.3, smin, L);
            var sampler = new AnnealedLangevinSampler(sigmas, T, NcsnV2Techniques.StepSize(sigmas, T));
            using var gen = new Generator(4);
            const int n = 1000;
            using var x = sampler.Sample(m, randn([n, 2], generator: gen, dtype: float64) * 11.3, gen);
            var pts = x.to(float32).data<float>().ToArray();
            int on = 0;
            for (int i = 0; i < n; i++) if (Toy2D.CheckerboardSquare(pts[2 * i], pts[2 * i + 1]) >= 0) on++;
            lines.Add($"smin {smin} L {L} T {T}: on {on / (double)n}");
        }
        File.WriteAllLines("/tmp/probe.txt", lines);
    }
}
