using Langevin.Data;
using Langevin.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

/// <summary>Class labels and names from every source that has them: class sub-folders, a labels .npy, the built-in sets.</summary>
public class LabelledDataTests
{
    // A 3×3 PNG of one grey level v: it loads as the constant 2v/255 − 1.
    static void WriteGrey(TempDir dir, string relative, byte v)
    {
        string path = dir.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ImageFolderReaderTests.Encode(3, 3, (_, _) => new SKColor(v, v, v)));
    }

    static float Level(byte v) => 2 * v / 255f - 1;

    static long[] Longs(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void ClassSubFoldersGiveLabelsByOrdinalFolderOrderAndKeepTheNames()
    {
        using var dir = new TempDir();
        // Ordinal order puts "Zebra" before "bird" (Z = 0x5A < b = 0x62); a nested folder belongs to its top folder.
        WriteGrey(dir, Path.Combine("cat", "b.png"), 200);
        WriteGrey(dir, Path.Combine("cat", "a.png"), 150);
        WriteGrey(dir, Path.Combine("dog", "c.png"), 0);
        WriteGrey(dir, Path.Combine("bird", "d.png"), 50);
        WriteGrey(dir, Path.Combine("Zebra", "stripes", "e.png"), 255);
        File.WriteAllText(dir.File("README.txt"), "not an image: does not make the layout mixed");

        var listing = ImageFolderReader.List(dir.Path);
        Assert.Equal(["Zebra", "bird", "cat", "dog"], listing.ClassNames!);
        Assert.Equal([Path.Combine("Zebra", "stripes", "e.png"), Path.Combine("bird", "d.png"), Path.Combine("cat", "a.png"), Path.Combine("cat", "b.png"), Path.Combine("dog", "c.png")],
            listing.Files.Select(f => Path.GetRelativePath(dir.Path, f)));
        Assert.Equal([0, 1, 2, 2, 3], listing.Labels!);

        using var ds = DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 4, Grayscale: true));
        Assert.Equal(new long[] { 5, 1, 4, 4 }, ds.X.shape);
        Assert.Equal(new long[] { 0, 1, 2, 2, 3 }, Longs(ds.Labels!));
        Assert.Equal(["Zebra", "bird", "cat", "dog"], ds.ClassNames!);
        // Each label sits with its own image: the grey levels in file order.
        byte[] levels = [255, 50, 150, 200, 0];
        for (int i = 0; i < levels.Length; i++)
        {
            Assert.Equal(Level(levels[i]), ds.X[i].min().item<float>(), 1e-6f);
            Assert.Equal(Level(levels[i]), ds.X[i].max().item<float>(), 1e-6f);
        }
        Assert.EndsWith("5 x [1, 4, 4] images, 4 classes", ds.ToString());
    }

    [Fact]
    public void LimitKeepsTheFirstImagesInReadingOrderWithTheirLabelsAndAllClassNames()
    {
        using var dir = new TempDir();
        WriteGrey(dir, Path.Combine("a", "1.png"), 10);
        WriteGrey(dir, Path.Combine("a", "2.png"), 20);
        WriteGrey(dir, Path.Combine("b", "1.png"), 30);
        WriteGrey(dir, Path.Combine("c", "1.png"), 40);
        using var ds = DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 2, Limit: 3));
        Assert.Equal(new long[] { 0, 0, 1 }, Longs(ds.Labels!));
        Assert.Equal(Level(30), ds.X[2].max().item<float>(), 1e-6f);
        Assert.Equal(["a", "b", "c"], ds.ClassNames!);
        Assert.EndsWith("3 classes", ds.ToString());
    }

    [Fact]
    public void FlatFoldersAndASingleSubFolderHaveNoLabels()
    {
        using var flat = new TempDir();
        WriteGrey(flat, "x.png", 1);
        WriteGrey(flat, "y.png", 2);
        using (var ds = DataSources.Load($"images:{flat.Path}", new DataOptions(ImageSize: 2)))
        {
            Assert.Equal(2, ds.Count);
            Assert.Null(ds.Labels);
            Assert.Null(ds.ClassNames);
        }
        using var one = new TempDir();
        WriteGrey(one, Path.Combine("only", "x.png"), 1);
        WriteGrey(one, Path.Combine("only", "y.png"), 2);
        Directory.CreateDirectory(one.File("empty"));   // a folder with no images is no class
        using (var ds = DataSources.Load($"images:{one.Path}", new DataOptions(ImageSize: 2)))
        {
            Assert.Equal(2, ds.Count);
            Assert.Null(ds.Labels);
            Assert.Null(ds.ClassNames);
            Assert.DoesNotContain("classes", ds.ToString());
        }
    }

    [Fact]
    public void ImagesBothAtTheTopAndInSubFoldersAreRefusedInOneLine()
    {
        using var dir = new TempDir();
        WriteGrey(dir, "loose.png", 1);
        WriteGrey(dir, Path.Combine("cat", "a.png"), 2);
        WriteGrey(dir, Path.Combine("dog", "b.png"), 3);
        var e = Assert.Throws<DataException>(() => DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 2)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.StartsWith($"images: {dir.Path} holds images both directly in it (e.g. loose.png) and in sub-folders (e.g. cat{Path.DirectorySeparatorChar})", e.Message);
        Assert.Contains("move every image into a sub-folder named after its class", e.Message);
        Assert.Throws<DataException>(() => ImageFolderReader.List(dir.Path));
    }

    static string WriteNpy(TempDir dir, Tensor t)
    {
        string path = dir.File($"{Guid.NewGuid():N}.npy");
        NpyFile.Write(path, t);
        return path;
    }

    [Theory]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Byte)]
    public void NpyLabelsRoundTripAsInt64(ScalarType dtype)
    {
        using var dir = new TempDir();
        using var points = tensor(new float[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, [5, 2]);
        using var y = tensor(new long[] { 3, 0, 7, 0, 1 }).to_type(dtype);
        string x = WriteNpy(dir, points), labels = WriteNpy(dir, y);
        string spec = $"npy:{x},labels={labels}";
        using var ds = DataSources.Load(spec, new DataOptions());
        Assert.Equal(spec, ds.Spec);
        Assert.Equal(ScalarType.Int64, ds.Labels!.dtype);
        Assert.Equal(new long[] { 3, 0, 7, 0, 1 }, Longs(ds.Labels));
        Assert.Null(ds.ClassNames);
        Assert.True(ds.X.eq(points).all().item<bool>());
        Assert.EndsWith("8 classes", ds.ToString());
        using var plain = DataSources.Load($"npy:{x}", new DataOptions());
        Assert.Null(plain.Labels);
    }

    [Fact]
    public void NpyLimitNarrowsImagesAndLabelsAlike()
    {
        using var dir = new TempDir();
        using var images = arange(6 * 4, ScalarType.Byte).reshape(6, 1, 2, 2);
        using var y = tensor(new long[] { 5, 4, 3, 2, 1, 0 });
        using var ds = DataSources.Load($"npy:{WriteNpy(dir, images)},labels={WriteNpy(dir, y)}", new DataOptions(Limit: 4));
        Assert.Equal(new long[] { 4, 1, 2, 2 }, ds.X.shape);
        Assert.Equal(new long[] { 5, 4, 3, 2 }, Longs(ds.Labels!));
        Assert.Equal(Level(15), ds.X[3, 0, 1, 1].item<float>(), 1e-6f);
    }

    [Fact]
    public void BadNpyLabelsAreOneLineErrorsNamingTheFile()
    {
        using var dir = new TempDir();
        using var points = zeros([4, 2]);
        string x = WriteNpy(dir, points);
        DataException Refused(string labels)
        {
            var e = Assert.Throws<DataException>(() => DataSources.Load($"npy:{x},labels={labels}", new DataOptions()));
            Assert.StartsWith($"{labels}: ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return e;
        }

        using var three = tensor(new long[] { 0, 1, 2 });
        Assert.Contains($"holds 3 labels but {x} holds 4 items", Refused(WriteNpy(dir, three)).Message);
        using var floats = tensor(new float[] { 0, 1, 2, 3 });
        Assert.Contains("labels must be integers (int64, int32 or uint8), this array is float32", Refused(WriteNpy(dir, floats)).Message);
        using var matrix = zeros([4, 1], ScalarType.Int64);
        Assert.Contains("1-D array [N]", Refused(WriteNpy(dir, matrix)).Message);
        using var negative = tensor(new int[] { 0, -1, 2, -3 });
        Assert.Contains("2 labels are negative", Refused(WriteNpy(dir, negative)).Message);
        // int16 ('<i2'): the header names a dtype the reader does not take.
        string int16 = dir.File("int16.npy");
        using (var i4 = zeros([4], ScalarType.Int32))
            File.WriteAllBytes(int16, System.Text.Encoding.Latin1.GetBytes(System.Text.Encoding.Latin1.GetString(NpyFile.ToBytes(i4)).Replace("<i4", "<i2")));
        Assert.Contains("dtype '<i2' is not supported", Refused(int16).Message);
        Assert.Contains("file not found", Refused(dir.File("missing.npy")).Message);

        Assert.ThrowsAny<UsageException>(() => DataSources.Load($"npy:{x},labels=", new DataOptions()));
        Assert.ThrowsAny<UsageException>(() => DataSources.Load($"npy:,labels={x}", new DataOptions()));
    }

    [Fact]
    public void ShapesNameTheirClassesInShapeKindOrder()
    {
        Assert.Equal(Enum.GetValues<ShapeKind>().Select(k => k.ToString().ToLowerInvariant()), ShapesDataset.ClassNames);
        Assert.Equal(["circle", "square", "triangle"], ShapesDataset.ClassNames);
        using var ds = DataSources.Load("shapes:16", new DataOptions(Limit: 6));
        Assert.Same(ShapesDataset.ClassNames, ds.ClassNames);
        Assert.EndsWith("3 classes", ds.ToString());
    }

    [Trait("Category", "System")]
    [Fact]
    public void FashionMnistNamesItsTenClasses()
    {
        using var ds = DataSources.Load("fashion-mnist:test", new DataOptions(Limit: 3));
        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], ds.ClassNames!);
        // The first three test items are an ankle boot, a pullover and a pair of trousers (labels 9, 2, 1).
        Assert.Equal(["Ankle boot", "Pullover", "Trouser"], Longs(ds.Labels!).Select(l => ds.ClassNames![(int)l]));
        Assert.EndsWith("3 x [1, 28, 28] images, 10 classes", ds.ToString());
    }

    [Fact]
    public void IdxAndCifarFoldersNameTheirClasses()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), IdxReaderTests.Idx([2, 28, 28], _ => 0));
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), IdxReaderTests.Idx([2], i => (byte)(7 * i)));
        using (var mnist = DataSources.Load($"mnist:{dir.Path}", new DataOptions()))
            Assert.Equal(["0", "7"], Longs(mnist.Labels!).Select(l => mnist.ClassNames![(int)l]));
        var record = new byte[Cifar10Reader.RecordBytes];
        record[0] = 3;
        File.WriteAllBytes(dir.File("test_batch.bin"), record);
        using var cifar = DataSources.Load($"cifar10:{dir.Path}:test", new DataOptions());
        Assert.Equal("cat", cifar.ClassNames![(int)cifar.Labels![0].item<long>()]);
        Assert.Equal(10, cifar.ClassNames.Count);
    }

    [Fact]
    public void DatasetChecksClassNamesAgainstItsLabels()
    {
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([2, 2]), classNames: ["a", "b"]));
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([2, 2]), tensor(new long[] { 0, 2 }), classNames: ["a", "b"]));
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([2, 2]), tensor(new long[] { 0, -1 }), classNames: ["a", "b"]));
        Assert.Throws<ArgumentException>(() => new Dataset("x", zeros([2, 2]), tensor(new int[] { 0, 1 })));
        using var ok = new Dataset("x", zeros([2, 2]), tensor(new long[] { 0, 0 }), classNames: ["a", "b"]);
        Assert.Equal("x: 2 x [2] points, 2 classes", ok.ToString());
    }
}
