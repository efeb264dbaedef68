using CsCheck;
using Langevin.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class ImageFolderReaderTests
{
    // A w×h image whose pixel (x, y) has colour paint(x, y).
    internal static byte[] Encode(int w, int h, Func<int, int, SKColor> paint, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                bitmap.SetPixel(x, y, paint(x, y));
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    static readonly byte[] SmallPng = Encode(6, 5, (x, y) => new SKColor((byte)(40 * x), (byte)(50 * y), 99));

    [Fact]
    public void WideImagesAreCentreCroppedAndResized()
    {
        // 30×10: red | green | blue thirds. The shorter side (10) scales to 5 and the centre 5×5 is pure green.
        var png = Encode(30, 10, (x, _) => x < 10 ? SKColors.Red : x < 20 ? SKColors.Lime : SKColors.Blue);
        using var rgb = ImageFolderReader.Decode(png, "wide.png", 5);
        Assert.Equal(new long[] { 3, 5, 5 }, rgb.shape);
        Assert.All(rgb[0].data<byte>().ToArray(), v => Assert.Equal(0, v));
        Assert.All(rgb[1].data<byte>().ToArray(), v => Assert.Equal(255, v));
        Assert.All(rgb[2].data<byte>().ToArray(), v => Assert.Equal(0, v));
        using var gray = ImageFolderReader.Decode(png, "wide.png", 5, grayscale: true);
        Assert.Equal(new long[] { 1, 5, 5 }, gray.shape);
        Assert.All(gray.data<byte>().ToArray(), v => Assert.Equal(150, v));   // round(0.587 · 255)
    }

    [Fact]
    public void TallImagesKeepTheirMiddleAndUpscalingWorks()
    {
        var png = Encode(4, 12, (_, y) => y < 4 ? SKColors.White : y < 8 ? new SKColor(10, 20, 30) : SKColors.White);
        using var rgb = ImageFolderReader.Decode(png, "tall.png", 16);
        Assert.Equal(new long[] { 3, 16, 16 }, rgb.shape);
        Assert.Equal(new byte[] { 10, 20, 30 }, new[] { rgb[0, 8, 8].item<byte>(), rgb[1, 8, 8].item<byte>(), rgb[2, 8, 8].item<byte>() });
        Assert.Equal(30, rgb.max().item<byte>());
    }

    [Fact]
    public void JpegDecodesAndTransparencyIsOverBlack()
    {
        var jpg = Encode(8, 8, (_, _) => new SKColor(200, 100, 50), SKEncodedImageFormat.Jpeg, 95);
        using var x = ImageFolderReader.Decode(jpg, "a.jpg", 4);
        Assert.InRange(x[0].to_type(ScalarType.Float32).mean().item<float>(), 195, 205);
        Assert.InRange(x[2].to_type(ScalarType.Float32).mean().item<float>(), 45, 55);
        var png = Encode(4, 4, (_, _) => new SKColor(255, 255, 255, 0));
        using var t = ImageFolderReader.Decode(png, "clear.png", 4);
        Assert.Equal(0, t.max().item<byte>());
    }

    [Fact]
    public void FolderIsListedRecursivelyInOrderAndLoadsAsADataset()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllBytes(dir.File("b.png"), Encode(3, 3, (_, _) => SKColors.White));
        File.WriteAllBytes(dir.File("a.PNG"), Encode(3, 3, (_, _) => SKColors.Black));
        File.WriteAllBytes(dir.File(Path.Combine("sub", "c.jpg")), Encode(3, 3, (_, _) => SKColors.Gray, SKEncodedImageFormat.Jpeg));
        File.WriteAllText(dir.File("notes.txt"), "not an image");
        Assert.Equal(["a.PNG", "b.png", Path.Combine("sub", "c.jpg")], ImageFolderReader.ListImages(dir.Path).Select(p => Path.GetRelativePath(dir.Path, p)));
        // Images both directly in the folder and in a sub-folder are refused (LabelledDataTests); flattened, they load.
        Assert.Throws<DataException>(() => DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 8)));
        File.Move(dir.File(Path.Combine("sub", "c.jpg")), dir.File("c.jpg"));

        using var ds = DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 8));
        Assert.Equal(new long[] { 3, 3, 8, 8 }, ds.X.shape);
        Assert.Null(ds.Labels);
        Assert.Equal(-1f, ds.X[0].max().item<float>());
        Assert.Equal(1f, ds.X[1].min().item<float>());
        using var limited = DataSources.Load($"images:{dir.Path}", new DataOptions(ImageSize: 4, Limit: 2, Grayscale: true));
        Assert.Equal(new long[] { 2, 1, 4, 4 }, limited.X.shape);
    }

    [Fact]
    public void EmptyMissingAndCorruptFoldersAreDataExceptionsNamingTheProblem()
    {
        using var dir = new TempDir();
        Assert.Contains("no .png", Assert.Throws<DataException>(() => ImageFolderReader.Read(dir.Path, 8)).Message);
        Assert.Contains("not found", Assert.Throws<DataException>(() => ImageFolderReader.Read(dir.File("nope"), 8)).Message);
        File.WriteAllBytes(dir.File("ok.png"), SmallPng);
        File.WriteAllBytes(dir.File("zz.png"), SmallPng[..(SmallPng.Length / 2)]);
        var e = Assert.Throws<DataException>(() => ImageFolderReader.Read(dir.Path, 8));
        Assert.Contains("zz.png", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    static void OnlyDataException(byte[] bytes)
    {
        try { ImageFolderReader.Decode(bytes, "fuzz.png", 4).Dispose(); }
        catch (DataException e) { Assert.DoesNotContain('\n', e.Message); Assert.StartsWith("fuzz.png:", e.Message); }
    }

    [Fact]
    public void RandomBytesTruncationsAndMutationsOnlyEverThrowDataException()
    {
        Gen.Byte.Array[0, 100].Sample(OnlyDataException, iter: Fuzz.Iter(200));
        Gen.Int[0, SmallPng.Length - 1].Sample(n => { Assert.Throws<DataException>(() => ImageFolderReader.Decode(SmallPng[..n], "t.png", 4)); }, iter: Fuzz.Iter(200));
        Gen.Select(Gen.Int[0, SmallPng.Length - 1], Gen.Byte, Gen.Int[0, 40]).Sample((pos, value, headerPos) =>
        {
            var copy = (byte[])SmallPng.Clone();
            copy[pos] = value;
            copy[Math.Min(headerPos, copy.Length - 1)] ^= value;   // the IHDR chunk (size, depth, colour type) is in bytes 8..32
            OnlyDataException(copy);
        }, iter: Fuzz.Iter(400));
    }
}
