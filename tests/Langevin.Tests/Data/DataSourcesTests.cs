using Langevin.Data;
using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class DataSourcesTests
{
    [Fact]
    public void ToySpecsDrawSeededPointsAndNameTheToy()
    {
        using var a = DataSources.Load("checkerboard", new DataOptions(Seed: 4, ToyCount: 1000));
        using var b = DataSources.Load("Checkerboard", new DataOptions(Seed: 4, ToyCount: 1000));
        Assert.Equal(new long[] { 1000, 2 }, a.X.shape);
        Assert.Equal("checkerboard", a.ToyName);
        Assert.False(a.IsImage);
        Assert.Equal(new long[] { 2 }, a.ItemShape);
        Assert.Null(a.Labels);
        Assert.True(a.X.eq(b.X).all().item<bool>());
        using var limited = DataSources.Load("moons", new DataOptions(ToyCount: 1000, Limit: 10));
        Assert.Equal(10, limited.Count);
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("moons:5", new DataOptions()));
    }

    [Fact]
    public void UnknownSpecsAndBadOptionsAreUsageErrorsListingTheForms()
    {
        var e = Assert.ThrowsAny<UsageException>(() => DataSources.Load("imagenet", new DataOptions()));
        Assert.DoesNotContain('\n', e.Message);
        foreach (var form in new[] { "checkerboard", "fashion-mnist:DIR[:test]", "cifar10:DIR[:test]", "npy:FILE", "shapes:32" })
            Assert.Contains(form, e.Message);
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("images:", new DataOptions()));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("cifar10", new DataOptions()));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("npy:", new DataOptions()));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("shapes:abc", new DataOptions()));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("shapes:16", new DataOptions(Limit: 0)));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load("images:/tmp", new DataOptions(ImageSize: 0)));
    }

    [Fact]
    public void CatalogListsEveryToyAndForm()
    {
        var specs = DataSources.Catalog.Select(c => c.Spec).ToList();
        foreach (var name in Toy2D.Names) Assert.Contains(name, specs);
        Assert.Contains("fashion-mnist[:test]", specs);
        Assert.Contains("mnist:DIR[:test]", specs);
        Assert.Contains("images:DIR", specs);
        Assert.Contains("npy:FILE,labels=LABELS", specs);
        Assert.All(DataSources.Catalog, c => Assert.False(string.IsNullOrWhiteSpace(c.Description)));
    }

    [Fact]
    public void MissingIdxFoldersSayHowToGetThem()
    {
        var e = Assert.Throws<DataException>(() => DataSources.Load("fashion-mnist:/nonexistent/fm:test", new DataOptions()));
        Assert.StartsWith("fashion-mnist: /nonexistent/fm not found; give fashion-mnist:DIR", e.Message);
        var m = Assert.Throws<DataException>(() => DataSources.Load("mnist:/nonexistent/m", new DataOptions()));
        Assert.Contains("give mnist:DIR", m.Message);
    }

    [Fact]
    public void MnistFolderWithSplitsLoads()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte.gz"), IdxReaderTests.Gzip(IdxReaderTests.Idx([4, 28, 28], i => (byte)i)));
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), IdxReaderTests.Gzip(IdxReaderTests.Idx([4], i => (byte)i)));
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxReaderTests.Idx([2, 28, 28], _ => 255));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), IdxReaderTests.Idx([2], _ => 9));
        using var train = DataSources.Load($"mnist:{dir.Path}", new DataOptions());
        Assert.Equal(new long[] { 4, 1, 28, 28 }, train.X.shape);
        Assert.Equal(-1f, train.X[0, 0, 0, 0].item<float>());
        Assert.Equal(new long[] { 0, 1, 2, 3 }, train.Labels!.data<long>().ToArray());
        using var test = DataSources.Load($"mnist:{dir.Path}:test", new DataOptions());
        Assert.Equal(2, test.Count);
        Assert.Equal(1f, test.X.min().item<float>());
        Assert.Equal("mnist:" + dir.Path + ":test", test.Spec);
    }

    [Fact]
    public void ShapesSpecsGenerateLabelledImages()
    {
        using var ds = DataSources.Load("shapes:16", new DataOptions(Limit: 64));
        Assert.Equal(new long[] { 64, 3, 16, 16 }, ds.X.shape);
        Assert.True(ds.IsImage);
        Assert.Equal(new long[] { 64 }, ds.Labels!.shape);
        using var gray = DataSources.Load("shapes:32", new DataOptions(Limit: 8, Grayscale: true));
        Assert.Equal(new long[] { 8, 1, 32, 32 }, gray.X.shape);
    }

    static Dataset LoadNpy(TempDir dir, Tensor t, DataOptions? options = null)
    {
        string path = dir.File($"{Guid.NewGuid():N}.npy");
        NpyFile.Write(path, t);
        return DataSources.Load($"npy:{path}", options ?? new DataOptions());
    }

    [Fact]
    public void NpyPointsAreTakenAsGiven()
    {
        using var dir = new TempDir();
        using var p = tensor(new double[] { 1, -20, 3.5, 400 }, [2, 2]);
        using var ds = LoadNpy(dir, p);
        Assert.False(ds.IsImage);
        Assert.Null(ds.ToyName);
        Assert.Equal(new float[] { 1, -20, 3.5f, 400 }, ds.X.data<float>().ToArray());
    }

    [Fact]
    public void NpyImagesAreScaledToMinusOneOne()
    {
        using var dir = new TempDir();
        using var u8 = tensor(new byte[] { 0, 255, 51, 102 }, [1, 2, 2], ScalarType.Byte);
        using (var ds = LoadNpy(dir, u8))
        {
            Assert.Equal(new long[] { 1, 1, 2, 2 }, ds.X.shape);
            Assert.Equal(new[] { -1f, 1f, -0.6f, -0.2f }, ds.X.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
        }
        using var unit = tensor(new float[] { 0, 1, 0.5f, 0.25f }, [1, 1, 2, 2]);
        using (var ds = LoadNpy(dir, unit)) Assert.Equal(new[] { -1f, 1f, 0f, -0.5f }, ds.X.data<float>().ToArray());
        using var signed = tensor(new float[] { -1, 1, 0.5f, 0.25f }, [1, 1, 2, 2]);
        using (var ds = LoadNpy(dir, signed)) Assert.Equal(new[] { -1f, 1f, 0.5f, 0.25f }, ds.X.data<float>().ToArray());
        using var rgb = rand([5, 3, 4, 4]);
        using (var ds = LoadNpy(dir, rgb, new DataOptions(Limit: 2, Grayscale: true))) Assert.Equal(new long[] { 2, 1, 4, 4 }, ds.X.shape);
    }

    [Fact]
    public void BadNpyDataIsADataException()
    {
        using var dir = new TempDir();
        using var nan = tensor(new float[] { 0, float.NaN }, [1, 2]);
        Assert.Contains("NaN", Assert.Throws<DataException>(() => LoadNpy(dir, nan)).Message);
        using var inf = tensor(new float[] { 0, float.PositiveInfinity, 0, 0 }, [1, 1, 2, 2]);
        Assert.Throws<DataException>(() => LoadNpy(dir, inf));
        using var wide = tensor(new float[] { 0, 3, 0, 0 }, [1, 1, 2, 2]);
        Assert.Contains("scale them", Assert.Throws<DataException>(() => LoadNpy(dir, wide)).Message);
        using var nhwc = zeros([2, 4, 4, 3]);
        Assert.Contains("channels-last", Assert.Throws<DataException>(() => LoadNpy(dir, nhwc)).Message);
        using var flat = zeros([7]);
        Assert.Throws<DataException>(() => LoadNpy(dir, flat));
        Assert.Throws<DataException>(() => DataSources.Load("npy:/nonexistent.npy", new DataOptions()));
    }

    [Fact]
    public void DatasetRejectsWrongTensors()
    {
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([3], ScalarType.Float32)));
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([3, 2], ScalarType.Float64)));
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([3, 2]), zeros([2], ScalarType.Int64)));
        using var ok = new Dataset("x", zeros([3, 1, 2, 2]), zeros([3], ScalarType.Int64));
        Assert.Equal("x: 3 x [1, 2, 2] images, 1 classes", ok.ToString());
    }
}
