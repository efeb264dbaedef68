using Langevin.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Metrics;

public class SlicedWassersteinTests
{
    [Fact]
    public void ShiftedGaussiansGiveTheClosedForm()
    {
        // For P = N(0, I) and Q = N(μ, I) in 2-D each projection's W₂ is |θ·μ|, so SW₂ = |μ|/√2.
        using var gen = new Generator(3);
        using var a = randn([5000, 2], generator: gen, dtype: float64);
        using var b = randn([5000, 2], generator: gen, dtype: float64) + tensor(new double[] { 3, 4 });
        double swd = SlicedWasserstein.Distance(a, b, 4000, gen);      // Monte-Carlo error over directions ≈ 0.6%
        Assert.InRange(swd, 5 / Math.Sqrt(2) * 0.97, 5 / Math.Sqrt(2) * 1.03);
        Assert.Equal(0, SlicedWasserstein.Distance(a, a, 50, gen), 12);
        Assert.Throws<DataException>(() => SlicedWasserstein.Distance(a, b[..100], 10, gen));
    }
}
