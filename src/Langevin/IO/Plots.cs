using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>
/// PNG plots drawn with ScottPlot 5, rendered headless to bytes and written atomically. Text is set in the DejaVu Sans the
/// library ships (<see cref="ShippedFont"/>), so pictures are labelled alike on every machine; <c>LANGEVIN_FONT</c> names
/// another TrueType file to use instead.
/// </summary>
public static class Plots
{
    public const int Width = 640, Height = 640;
    public const int MaxScatterPoints = 20_000;

    static readonly Lazy<string?> Font = new(ResolveFont);

    /// <summary>The font family used for text: the shipped DejaVu Sans, or the file <c>LANGEVIN_FONT</c> names.</summary>
    public static string? FontFamily => Font.Value;

    /// <summary>Points [N, 2] as small markers on square axes; at most <see cref="MaxScatterPoints"/> (the first) are drawn.</summary>
    public static void Scatter(string path, Tensor points, string title, (double lo, double hi)? range = null)
    {
        var (xs, ys) = Columns(points, MaxScatterPoints);
        var plt = NewPlot(title);
        plt.Add.Markers(xs, ys, ScottPlot.MarkerShape.FilledCircle, 2f, ScottPlot.Colors.Navy.WithAlpha(0.6));
        if (range is var (lo, hi)) plt.Axes.SetLimits(lo, hi, lo, hi);
        else if (xs.Length > 0)
        {
            // Square data limits: one span for both axes, centred on each axis' data.
            double cx = (xs.Min() + xs.Max()) / 2, cy = (ys.Min() + ys.Max()) / 2;
            double half = Math.Max(Math.Max(xs.Max() - xs.Min(), ys.Max() - ys.Min()) / 2 * 1.05, 1e-9);
            plt.Axes.SetLimits(cx - half, cx + half, cy - half, cy + half);
        }
        Save(path, plt, Width, Height);
    }

    /// <summary>A 2-D histogram of points [N, 2] over <paramref name="range"/>² with <paramref name="bins"/>² cells, as a heatmap.</summary>
    public static void Density(string path, Tensor points, string title, (double lo, double hi) range, int bins = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (!(range.hi > range.lo)) throw new ArgumentException($"density plot: empty range [{range.lo}, {range.hi}]");
        var (xs, ys) = Columns(points, int.MaxValue);
        var counts = new double[bins, bins]; // [row, column]; row 0 is drawn at the top
        double width = (range.hi - range.lo) / bins;
        for (int i = 0; i < xs.Length; i++)
        {
            double fx = (xs[i] - range.lo) / width, fy = (ys[i] - range.lo) / width;
            if (!(fx >= 0 && fx < bins && fy >= 0 && fy < bins)) continue; // outside, or NaN
            counts[bins - 1 - (int)fy, (int)fx]++;
        }
        var plt = NewPlot(title);
        var heat = plt.Add.Heatmap(counts);
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        heat.Extent = new ScottPlot.CoordinateRect(range.lo, range.hi, range.lo, range.hi);
        plt.Add.ColorBar(heat);
        plt.Axes.SetLimits(range.lo, range.hi, range.lo, range.hi);
        Save(path, plt, Width + 80, Height);
    }

    /// <summary>
    /// Training loss: raw values faint, an exponential moving average (span ≈ 2% of the run, at least 10 steps)
    /// on top; the y axis is logarithmic when every loss is positive.
    /// </summary>
    public static void LossCurve(string path, IReadOnlyList<(long Step, double Loss)> points, string title)
    {
        ArgumentNullException.ThrowIfNull(points);
        var finite = points.Where(p => double.IsFinite(p.Loss)).ToArray();
        double[] xs = finite.Select(p => (double)p.Step).ToArray();
        double[] ys = finite.Select(p => p.Loss).ToArray();
        bool logY = ys.Length > 0 && ys.All(y => y > 0);
        double[] ema = new double[ys.Length];
        double alpha = 2.0 / (Math.Max(10, ys.Length / 50) + 1); // EMA with span N: α = 2 / (N + 1)
        for (int i = 0; i < ys.Length; i++)
            ema[i] = i == 0 ? ys[0] : alpha * ys[i] + (1 - alpha) * ema[i - 1];

        var plt = NewPlot(title);
        plt.XLabel("step");
        plt.YLabel("loss");
        var raw = plt.Add.ScatterLine(xs, logY ? ys.Select(Math.Log10).ToArray() : ys, ScottPlot.Colors.SteelBlue.WithAlpha(0.3));
        raw.LineWidth = 1;
        raw.LegendText = "loss";
        var smooth = plt.Add.ScatterLine(xs, logY ? ema.Select(Math.Log10).ToArray() : ema, ScottPlot.Colors.DarkBlue);
        smooth.LineWidth = 2;
        smooth.LegendText = "moving average";
        if (logY) LogTicks(plt.Axes.Left, ys);
        plt.ShowLegend(ScottPlot.Alignment.UpperRight);
        Save(path, plt, 800, 500);
    }

    /// <summary>General line plot (e.g. quality against NFE); log axes plot log10 of the values with decade ticks.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel,
        IReadOnlyList<(string Label, double[] X, double[] Y)> series, bool logX = false, bool logY = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plt = NewPlot(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < series.Count; s++)
        {
            var (label, x, y) = series[s];
            if (x.Length != y.Length) throw new ArgumentException($"line plot: series '{label}' has {x.Length} x values and {y.Length} y values");
            // Points a log axis cannot show (≤ 0) and non-finite values are left out.
            var keep = Enumerable.Range(0, x.Length)
                .Where(i => double.IsFinite(x[i]) && double.IsFinite(y[i]) && (!logX || x[i] > 0) && (!logY || y[i] > 0)).ToArray();
            double[] px = keep.Select(i => logX ? Math.Log10(x[i]) : x[i]).ToArray();
            double[] py = keep.Select(i => logY ? Math.Log10(y[i]) : y[i]).ToArray();
            var line = plt.Add.ScatterLine(px, py, palette.GetColor(s));
            line.LineWidth = 2;
            line.MarkerSize = 6;
            line.MarkerShape = ScottPlot.MarkerShape.FilledCircle;
            line.LegendText = label;
        }
        if (logX) LogTicks(plt.Axes.Bottom, series.SelectMany(t => t.X));
        if (logY) LogTicks(plt.Axes.Left, series.SelectMany(t => t.Y));
        if (series.Count > 1 || (series.Count == 1 && series[0].Label.Length > 0)) plt.ShowLegend(ScottPlot.Edge.Right); // beside the axes, never over a line
        Save(path, plt, series.Count > 1 ? 900 : 800, 500);
    }

    static ScottPlot.Plot NewPlot(string title)
    {
        var plt = new ScottPlot.Plot();
        if (FontFamily is string family) plt.Font.Set(family);
        plt.Title(title);
        return plt;
    }

    /// <summary>
    /// Ticks for an axis showing log10 of the data: labels at 1, 2 and 5 × 10^k inside the data's range (so a range shorter
    /// than a decade still gets labels), or at powers of ten with log-spaced minor ticks when the range spans many decades.
    /// </summary>
    static void LogTicks(ScottPlot.IAxis axis, IEnumerable<double> values)
    {
        var v = values.Where(x => double.IsFinite(x) && x > 0).ToArray();
        if (v.Length > 0 && Math.Log10(v.Max() / v.Min()) <= 3)
        {
            double lo = v.Min(), hi = v.Max();
            // 1-2-5 per decade; a narrower range (a loss from 0.47 to 0.93 holds only 0.5) takes every digit, then halves
            double[][] mantissas = [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9], [.. Enumerable.Range(2, 18).Select(i => i / 2.0)]];
            foreach (var set in mantissas)
            {
                var manual = new ScottPlot.TickGenerators.NumericManual();
                int labelled = 0;
                for (int k = (int)Math.Floor(Math.Log10(lo)); k <= (int)Math.Ceiling(Math.Log10(hi)); k++)
                    foreach (double m in set)
                    {
                        double t = m * Math.Pow(10, k);
                        if (t < lo / 1.05 || t > hi * 1.05) continue;
                        manual.AddMajor(Math.Log10(t), t.ToString("G4", System.Globalization.CultureInfo.InvariantCulture));
                        labelled++;
                    }
                if (labelled >= 2) { axis.TickGenerator = manual; return; }
            }
        }
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = x => Math.Pow(10, x).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    static (double[] X, double[] Y) Columns(Tensor points, int max)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.dim() != 2 || points.shape[1] != 2)
            throw new ArgumentException($"plot: expected points [N, 2], got [{string.Join(", ", points.shape)}]");
        using var scope = NewDisposeScope();
        var p = points.detach().cpu();
        if (p.shape[0] > max) p = p[TensorIndex.Slice(0, max)];
        // (TorchSharp's data<T>().ToArray() throws on an empty tensor.)
        var d = p.numel() == 0 ? [] : p.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var xs = new double[d.Length / 2];
        var ys = new double[d.Length / 2];
        for (int i = 0; i < xs.Length; i++) (xs[i], ys[i]) = (d[2 * i], d[2 * i + 1]);
        return (xs, ys);
    }

    static void Save(string path, ScottPlot.Plot plt, int width, int height)
    {
        byte[] png = plt.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
    }

    static string? ResolveFont()
    {
        if (!ScottPlot.Fonts.FontResolvers.Any(r => r is ShippedFont)) ScottPlot.Fonts.FontResolvers.Add(new ShippedFont());
        string? file = Environment.GetEnvironmentVariable("LANGEVIN_FONT");
        return !string.IsNullOrEmpty(file) && File.Exists(file) && Register(file) is { } own ? own : ShippedFont.Family;
    }

    static string? Register(string file)
    {
        using var probe = SKTypeface.FromFile(file);
        if (probe is null || probe.GlyphCount == 0) return null;
        const string name = "Langevin Plot Font";
        ScottPlot.Fonts.AddFontFile(name, file, bold: false, italic: false);
        ScottPlot.Fonts.AddFontFile(name, file, bold: true, italic: false);
        return name;
    }
}
