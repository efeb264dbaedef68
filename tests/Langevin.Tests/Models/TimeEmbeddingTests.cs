using Langevin.Models;
using static TorchSharp.torch;

namespace Langevin.Tests.Models;

public class TimeEmbeddingTests
{
    [Fact]
    public void SinusoidalEmbeddingIsHalfSinHalfCosWithGeometricFrequencies()
    {
        var t = tensor(new float[] { 0f, 1f, 250f });
        var e = TimeEmbedding.SinusoidalEmbedding(t, 8);
        Assert.Equal([3L, 8], e.shape);
        float[] values = e.data<float>().ToArray();
        float[] ts = [0f, 1f, 250f];
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 4; i++)
            {
                double freq = Math.Exp(-Math.Log(10000.0) * i / 4);
                Assert.Equal(Math.Sin(ts[b] * freq), values[b * 8 + i], 1e-4);
                Assert.Equal(Math.Cos(ts[b] * freq), values[b * 8 + 4 + i], 1e-4);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeEmbedding.SinusoidalEmbedding(t, 7));
        Assert.Throws<ArgumentException>(() => TimeEmbedding.SinusoidalEmbedding(zeros(3, 1), 8));
    }
}
