using Langevin.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.IO;

public sealed class ImageOutputTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("langevin-img-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static SKColor Pixel(SKBitmap b, int x, int y) => b.GetPixel(x, y);

    [Fact]
    public void GreyGridHasTheLayoutAndValues()
    {
        // Five 8×8 greys 0, .25, .5, .75, 1: 3 columns × 2 rows, upscaled 8× to 64 px tiles, 2 px black padding.
        using var images = arange(5, dtype: ScalarType.Float32).div(4).view(5, 1, 1, 1).expand(5, 1, 8, 8).contiguous();
        string path = Path.Combine(dir, "grid.png");
        ImageGrid.SavePng(path, images);
        using var b = SKBitmap.Decode(path);
        Assert.Equal((2 + 3 * 66, 2 + 2 * 66), (b.Width, b.Height));
        for (int i = 0; i < 5; i++)
        {
            int x = 2 + i % 3 * 66, y = 2 + i / 3 * 66;
            byte expected = (byte)Math.Round(i / 4.0 * 255);
            Assert.Equal(new SKColor(expected, expected, expected), Pixel(b, x, y));
            Assert.Equal(new SKColor(expected, expected, expected), Pixel(b, x + 63, y + 63));
        }
        Assert.Equal(SKColors.Black, Pixel(b, 0, 0));
        Assert.Equal(SKColors.Black, Pixel(b, 2 + 64, 10)); // padding between tiles
        Assert.Equal(SKColors.Black, Pixel(b, 2 + 2 * 66 + 10, 2 + 66 + 10)); // the empty sixth cell
    }

    [Fact]
    public void ColourGridClampsAndHonoursColumnsPaddingAndScale()
    {
        using var images = tensor(new float[]
        {
            1.5f, 0, 0, 1,   0, -1, 0, 0.5f,   0, 0, 1, float.NaN,   // image 0: R, G, B planes of a 2×2 image
            0, 0, 0, 0,      1, 1, 1, 1,       0, 0, 0, 0,           // image 1: all green
        }, [2, 3, 2, 2]);
        string path = Path.Combine(dir, "colour.png");
        ImageGrid.SavePng(path, images, columns: 1, padding: 0, scale: 1);
        using var b = SKBitmap.Decode(path);
        Assert.Equal((2, 4), (b.Width, b.Height));
        Assert.Equal(new SKColor(255, 0, 0), Pixel(b, 0, 0));
        Assert.Equal(new SKColor(0, 0, 0), Pixel(b, 1, 0));
        Assert.Equal(new SKColor(0, 0, 255), Pixel(b, 0, 1));
        Assert.Equal(new SKColor(255, 128, 0), Pixel(b, 1, 1)); // NaN → 0
        Assert.Equal(new SKColor(0, 255, 0), Pixel(b, 1, 3));
    }

    [Fact]
    public void GridRejectsBadShapes()
    {
        using var two = zeros(4, 2, 5, 5);
        Assert.Throws<ArgumentException>(() => ImageGrid.Tile(two));
        using var none = zeros(0, 1, 5, 5);
        Assert.Throws<ArgumentException>(() => ImageGrid.Tile(none));
    }

    static SKBitmap[] DecodeGif(string path, out SKCodec codec)
    {
        codec = SKCodec.Create(path);
        Assert.NotNull(codec);
        var frames = new SKBitmap[codec.FrameCount];
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = new SKBitmap(info);
            Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, frames[i].GetPixels(), new SKCodecOptions(i)));
        }
        return frames;
    }

    [Fact]
    public void GreyGifDecodesExactly()
    {
        // Noise defeats LZW (the table fills and clears many times); a flat frame grows codes to 12 bits.
        using var g = new Generator(seed: 5);
        using var noise = rand([1, 90, 120], generator: g);
        using var flat = full(1, 90, 120, 0.5f);
        using var ramp = linspace(0, 1, 120).expand(1, 90, 120).contiguous();
        string path = Path.Combine(dir, "grey.gif");
        GifWriter.Save(path, [noise, flat, ramp], delayCentiseconds: 7);
        var frames = DecodeGif(path, out var codec);
        using (codec)
        {
            Assert.Equal(3, codec.FrameCount);
            Assert.Equal((120, 90), (codec.Info.Width, codec.Info.Height));
            Assert.All(codec.FrameInfo, f => Assert.Equal(70, f.Duration));
            Assert.Equal(-1, codec.RepetitionCount); // loop forever
        }
        var inputs = new[] { noise, flat, ramp };
        for (int f = 0; f < 3; f++)
        {
            byte[] expected = inputs[f].mul(255).round().to_type(ScalarType.Byte).data<byte>().ToArray();
            for (int y = 0; y < 90; y++)
                for (int x = 0; x < 120; x++)
                {
                    var c = frames[f].GetPixel(x, y);
                    byte e = expected[y * 120 + x];
                    if (c != new SKColor(e, e, e)) Assert.Fail($"frame {f} pixel ({x},{y}) is {c}, expected grey {e}");
                }
            frames[f].Dispose();
        }
    }

    [Fact]
    public void ColourGifUsesTheUniformPaletteAndTilesBatches()
    {
        // A batch of 4 images [4, 3, 2, 2] per frame is tiled (2×2 grid, 2 px padding, 32× upscale).
        using var red = zeros(4, 3, 2, 2);
        red[TensorIndex.Colon, 0] = ones(4, 2, 2);
        using var cyan = ones(4, 3, 2, 2);
        cyan[TensorIndex.Colon, 0] = zeros(4, 2, 2);
        string path = Path.Combine(dir, "colour.gif");
        GifWriter.Save(path, [red, cyan], loop: false);
        var frames = DecodeGif(path, out var codec);
        using (codec)
        {
            Assert.Equal(2, codec.FrameCount);
            Assert.Equal((2 + 2 * 66, 2 + 2 * 66), (codec.Info.Width, codec.Info.Height));
            Assert.Equal(0, codec.RepetitionCount);
        }
        Assert.Equal(new SKColor(255, 0, 0), frames[0].GetPixel(10, 10));
        Assert.Equal(new SKColor(0, 255, 255), frames[1].GetPixel(100, 100));
        Assert.Equal(SKColors.Black, frames[1].GetPixel(0, 0));
        foreach (var f in frames) f.Dispose();
    }

    [Fact]
    public void GifRejectsFramesOfDifferentSizes()
    {
        using var a = zeros(1, 4, 4);
        using var b = zeros(1, 4, 5);
        Assert.Throws<ArgumentException>(() => GifWriter.Encode([a, b]));
    }
}
