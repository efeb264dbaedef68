using System.Reflection;
using SkiaSharp;

namespace Langevin.IO;

/// <summary>
/// DejaVu Sans, regular and bold, shipped inside the library (Bitstream Vera licence: Assets/Fonts/LICENSE-DejaVu.txt) and
/// served to ScottPlot from memory, so that every plot carries the same labels on any machine, with or without system fonts.
/// </summary>
sealed class ShippedFont : ScottPlot.IFontResolver
{
    public const string Family = "DejaVu Sans (Langevin)";

    readonly SKData _regular = Load("Langevin.Fonts.DejaVuSans.ttf"), _bold = Load("Langevin.Fonts.DejaVuSans-Bold.ttf");

    static SKData Load(string resource)
    {
        using var stream = typeof(ShippedFont).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the library lacks its embedded font {resource}");
        return SKData.Create(stream);
    }

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
        fontName == Family ? SKTypeface.FromData(bold ? _bold : _regular) : null;

    public SKTypeface? CreateTypeface(string fontName, ScottPlot.FontWeight weight, ScottPlot.FontSlant slant, ScottPlot.FontSpacing spacing) =>
        CreateTypeface(fontName, (int)weight >= 600, slant != ScottPlot.FontSlant.Upright);
}
