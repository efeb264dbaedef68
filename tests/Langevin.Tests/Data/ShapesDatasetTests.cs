using Langevin.Data;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class ShapesDatasetTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void ImagesAreRgbInMinusOneToOneWithBalancedLabels(int size)
    {
        using var gen = new Generator(3);
        var (x, y) = ShapesDataset.GenerateWithLabels(3000, size, gen);
        using (x) using (y)
        {
            Assert.Equal(new long[] { 3000, 3, size, size }, x.shape);
            Assert.Equal(ScalarType.Float32, x.dtype);
            Assert.True(x.min().item<float>() >= -1f && x.max().item<float>() <= 1f);
            for (int k = 0; k < 3; k++)
            {
                double frac = y.eq(k).sum().item<long>() / 3000.0;
                Assert.InRange(frac, 1 / 3.0 - 0.04, 1 / 3.0 + 0.04);
            }
            // Every image shows a shape: a clear fraction of its pixels differ from the background corner pixel.
            using var corner = x[.., .., 0..1, 0..1];
            using var differs = x.sub(corner).abs().amax([1]).gt(0.3f).to_type(ScalarType.Float32).mean([1, 2]);
            Assert.True(differs.min().item<float>() > 0.03f, $"an image has only {differs.min().item<float>():P1} shape pixels");
        }
    }

    [Fact]
    public void SameSeedSameImages()
    {
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var a = ShapesDataset.Generate(50, 16, g1);
        using var b = ShapesDataset.Generate(50, 16, g2);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void TenThousandImagesAt32HaveTheirShapeAndRange()
    {
        // Generation speed is a benchmark matter (no timed unit tests); this checks the large case is well-formed.
        using var gen = new Generator(0);
        using var x = ShapesDataset.Generate(10_000, 32, gen);
        Assert.Equal(new long[] { 10_000, 3, 32, 32 }, x.shape);
        Assert.True((x >= -1).all().item<bool>() && (x <= 1).all().item<bool>());
        Assert.True(x.isfinite().all().item<bool>());
    }
}
