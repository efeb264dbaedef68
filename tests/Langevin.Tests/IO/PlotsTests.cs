using Langevin.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.IO;

public sealed class PlotsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("langevin-plot-").FullName;

    public void Dispose()
    {
        // Set LANGEVIN_KEEP_PLOTS to a folder to look at the pictures.
        if (Environment.GetEnvironmentVariable("LANGEVIN_KEEP_PLOTS") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            foreach (var f in Directory.GetFiles(dir)) File.Copy(f, Path.Combine(keep, Path.GetFileName(f)), overwrite: true);
        }
        Directory.Delete(dir, recursive: true);
    }

    static SKBitmap Open(string path)
    {
        var b = SKBitmap.Decode(path);
        Assert.NotNull(b);
        return b;
    }

    static int DarkPixels(SKBitmap b, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
            {
                var c = b.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 300) n++;
            }
        return n;
    }

    [Fact]
    public void TextRendersHeadlessInTheShippedFont()
    {
        // the library's own DejaVu Sans, from memory: the same labels on a machine without any system font
        string? family = Plots.FontFamily;   // registers the shipped font
        if (Environment.GetEnvironmentVariable("LANGEVIN_FONT") is not { Length: > 0 }) Assert.Equal(ShippedFont.Family, family);
        using (var regular = ScottPlot.Fonts.GetTypeface(ShippedFont.Family, bold: false, italic: false))
        using (var bold = ScottPlot.Fonts.GetTypeface(ShippedFont.Family, bold: true, italic: false))
        {
            Assert.Equal("DejaVu Sans", regular.FamilyName);
            Assert.True(regular.GlyphCount > 1000 && bold.FontStyle.Weight >= 700, $"{regular.GlyphCount} glyphs, bold weight {bold.FontStyle.Weight}");
        }
        using var points = zeros(0, 2);
        string path = Path.Combine(dir, "title.png");
        Plots.Scatter(path, points, "A Title Of Some Width", (-1, 1));
        using var b = Open(path);
        // The band above the data area holds only the title: ink there means text was drawn.
        Assert.True(DarkPixels(b, b.Width / 4, 0, 3 * b.Width / 4, 30) > 50);
    }

    [Fact]
    public void ScatterDrawsSquareAndCapsThePointCount()
    {
        using var g = new Generator(seed: 2);
        using var points = randn([30_000, 2], generator: g);
        string path = Path.Combine(dir, "scatter.png");
        Plots.Scatter(path, points, "scatter");
        using var b = Open(path);
        Assert.Equal((Plots.Width, Plots.Height), (b.Width, b.Height));
        Assert.True(DarkPixels(b, b.Width / 3, b.Height / 3, 2 * b.Width / 3, 2 * b.Height / 3) > 1000);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void DensityDrawsAHeatmap()
    {
        using var g = new Generator(seed: 3);
        using var points = randn([5_000, 2], generator: g);
        string path = Path.Combine(dir, "density.png");
        Plots.Density(path, points, "density", (-4, 4), bins: 50);
        using var b = Open(path);
        Assert.Equal(Plots.Height, b.Height);
        // Viridis: the dense centre is bright (yellow-green), the empty corner dark purple.
        var centre = b.GetPixel(b.Width / 2 - 40, b.Height / 2);
        Assert.True(centre.Green > 120, $"centre colour {centre}");
    }

    [Fact]
    public void LossCurveHandlesPositiveAndSignedLosses()
    {
        var positive = Enumerable.Range(1, 2000).Select(i => ((long)i, 10.0 / i + 0.01 * (i % 7))).ToArray();
        string a = Path.Combine(dir, "loss.png");
        Plots.LossCurve(a, positive, "loss");
        var signed = Enumerable.Range(0, 100).Select(i => ((long)i * 10, Math.Sin(i / 10.0))).Append((1000L, double.NaN)).ToArray();
        string b = Path.Combine(dir, "signed.png");
        Plots.LossCurve(b, signed, "signed loss");
        Plots.LossCurve(Path.Combine(dir, "empty.png"), [], "no steps yet");
        using var bitmap = Open(a);
        Assert.Equal((800, 500), (bitmap.Width, bitmap.Height));
        using var _ = Open(b);
    }

    [Fact]
    public void ALossWithinLessThanAnOctaveStillHasLabelledTicks()
    {
        // the demo's NCSN loss runs from 0.93 down to 0.47: one 1-2-5 tick (0.5) only, so its axis had no labels
        var narrow = Enumerable.Range(1, 500).Select(i => ((long)i, 0.47 + 0.46 / Math.Sqrt(i))).ToArray();
        var wide = Enumerable.Range(1, 500).Select(i => ((long)i, 10.0 / i)).ToArray();
        string a = Path.Combine(dir, "narrow.png"), b = Path.Combine(dir, "flat.png");
        Plots.LossCurve(a, narrow, "narrow loss");
        using var bitmap = Open(a);
        // the tick labels sit between the 'loss' axis title (x < 18) and the data area's frame
        int ink = DarkPixels(bitmap, 18, 60, FrameLeft(bitmap) - 3, bitmap.Height - 60);
        Assert.True(ink > 40, $"{ink} dark pixels where the y tick labels go");
        Plots.LossCurve(b, wide, "wide loss");
        using var reference = Open(b);
        Assert.True(DarkPixels(reference, 18, 60, FrameLeft(reference) - 3, reference.Height - 60) > 40);
    }

    /// <summary>The x of the data area's left frame: the first column dark over most of the plot's height.</summary>
    static int FrameLeft(SKBitmap b)
    {
        for (int x = 0; x < b.Width / 3; x++)
            if (DarkPixels(b, x, 60, x + 1, b.Height - 60) > 0.8 * (b.Height - 120)) return x;
        return b.Width / 3;
    }

    [Fact]
    public void LinesSupportLogAxesAndSkipUnplottablePoints()
    {
        double[] nfe = [1, 2, 5, 10, 20, 50, 100];
        string path = Path.Combine(dir, "lines.png");
        Plots.Lines(path, "FID against NFE", "NFE", "FID",
            [("euler", nfe, nfe.Select(n => 100 / n + 3).ToArray()), ("heun", nfe, [0, 80, 20, 8, 4, 3.2, 3.1])],
            logX: true, logY: true);
        using var b = Open(path);
        Assert.Equal((900, 500), (b.Width, b.Height));                  // several series: the legend sits right of the axes
        Assert.Throws<ArgumentException>(() => Plots.Lines(path, "t", "x", "y", [("bad", [1, 2], [1])]));
    }
}
