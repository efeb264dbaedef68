using Langevin.Energy;
using Langevin.IO;
using Langevin.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary><see cref="OodSets"/> called directly: the default sets, chain-start noise for points, corruptions of images and .npy files.</summary>
public class OodSetsTests
{
    static readonly AnalyticEnergyModel Points = new(x => x.square().sum([1]), [2], (-3, 3));
    static readonly AnalyticEnergyModel Images = new(x => x.square().flatten(1).sum([1]), [1, 4, 4], (-1, 1));

    [Fact]
    public void ImagesDefaultToTheirCorruptionsAndPointsToNoise()
    {
        Assert.Equal(["noise", "flip", "rotate"], OodSets.Defaults([1, 28, 28]));
        Assert.Equal(["noise"], OodSets.Defaults([2]));
    }

    [Fact]
    public void NoiseForPointsIsTheModelsChainStart()
    {
        using var inData = zeros(50, 2);
        using var noise = OodSets.Make("noise", inData, Points, new Generator(1), new Generator(7));
        using var start = Points.InitialState(50, new Generator(7));
        Assert.Equal(new long[] { 50, 2 }, noise.shape);
        Assert.Equal(DeviceType.CPU, noise.device_type);
        Assert.Equal(0, (noise - start).abs().max().item<double>());
        Assert.True(noise.ge(-3).all().item<bool>() && noise.le(3).all().item<bool>());
        var e = Assert.Throws<UsageException>(() => OodSets.Make("flip", inData, Points, new Generator(1), new Generator(7)));
        Assert.Equal("'flip' applies to images; for points use noise or npy:FILE", e.Message);
    }

    [Fact]
    public void ImageSetsAreExactCorruptionsOfTheInDistributionImages()
    {
        using var inData = rand([6, 1, 4, 4], generator: new Generator(2)) * 2 - 1;
        using var flip = OodSets.Make("flip", inData, Images, new Generator(1), new Generator(1));
        using var rotate = OodSets.Make("rotate", inData, Images, new Generator(1), new Generator(1));
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(inData[0, 0, 3 - i, j].item<float>(), flip[0, 0, i, j].item<float>());        // upside down
                Assert.Equal(inData[0, 0, j, 3 - i].item<float>(), rotate[0, 0, i, j].item<float>());      // 90° counter-clockwise
            }
        using var noise = OodSets.Make("noise", inData, Images, new Generator(1), new Generator(1));
        Assert.Equal(inData.shape, noise.shape);
        Assert.True(noise.ge(-1).all().item<bool>() && noise.le(1).all().item<bool>());
        Assert.Throws<UsageException>(() => OodSets.Make("blur", inData, Images, new Generator(1), new Generator(1)));
    }

    [Fact]
    public void NpyImagesInTheUnitRangeMapToMinusOneOneAndPointsStayAsTheyAre()
    {
        using var dir = new TempDir();
        using var unit = rand([3, 1, 4, 4], generator: new Generator(3));
        NpyFile.Write(dir.File("images.npy"), unit);
        using var inData = zeros(1, 1, 4, 4);
        using var images = OodSets.Make("npy:" + dir.File("images.npy"), inData, Images, new Generator(1), new Generator(1));
        Assert.Equal(0, (images - (unit * 2 - 1)).abs().max().item<float>());
        using var pts = randn([5, 2], float64, generator: new Generator(4));
        NpyFile.Write(dir.File("points.npy"), pts);
        using var points = OodSets.Make("npy:" + dir.File("points.npy"), zeros(1, 2), Points, new Generator(1), new Generator(1));
        Assert.Equal(ScalarType.Float32, points.dtype);
        Assert.Equal(0, (points - pts.to(float32)).abs().max().item<float>());
        Assert.Throws<DataException>(() => OodSets.Make("npy:" + dir.File("points.npy"), inData, Images, new Generator(1), new Generator(1)));
        Assert.Throws<DataException>(() => OodSets.Make("npy:" + dir.File("missing.npy"), inData, Images, new Generator(1), new Generator(1)));
    }
}
