using SkiaSharp;
using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// What an image folder holds: its image files in reading order (ordinal path order) and, when the folder is split
/// into class sub-folders, each file's label (the index of its class in <see cref="ClassNames"/>).
/// </summary>
public sealed record ImageFolderListing(IReadOnlyList<string> Files, IReadOnlyList<int>? Labels, IReadOnlyList<string>? ClassNames);

/// <summary>
/// A folder of PNG / JPEG images (searched recursively, read in ordinal path order), decoded with SkiaSharp.
/// When every image lies under a sub-folder of the folder and there are at least two such sub-folders, each
/// sub-folder is a class (as torchvision's <c>ImageFolder</c>): the label is its index among the sub-folders' names in
/// ordinal order. Images directly in the folder carry no labels; a mix of the two layouts is refused.
/// Each image is scaled so its shorter side is <c>size</c> and centre-cropped to size×size (equivalently: the centred
/// square of side min(w, h) is resampled to size×size with bilinear + mipmap filtering, which stays smooth when
/// shrinking by large factors). Transparent pixels are composited over black. Grayscale uses the ITU-R BT.601 luma
/// 0.299 R + 0.587 G + 0.114 B (as PIL's "L" mode).
/// </summary>
public static class ImageFolderReader
{
    /// <summary>File extensions read (case-insensitive).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg"];

    const int MaxSide = 1 << 14;
    const long MaxPixels = 1L << 26;   // 64 Mpixel: bounds memory for a hostile header

    /// <summary>The image files under <paramref name="dir"/>, recursively, sorted by ordinal path.</summary>
    public static IReadOnlyList<string> ListImages(string dir)
    {
        if (!Directory.Exists(dir)) throw new DataException($"images: folder {dir} not found; give images:DIR with DIR a folder of .png/.jpg files");
        try
        {
            var files = Directory.EnumerateFiles(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .ToList();
            files.Sort(StringComparer.Ordinal);
            return files;
        }
        catch (IOException e) { throw new DataException($"images: cannot list {dir} ({IdxReader.OneLine(e.Message)})"); }
        catch (UnauthorizedAccessException) { throw new DataException($"images: cannot list {dir} (permission denied)"); }
    }

    /// <summary>
    /// The image files under <paramref name="dir"/> (as <see cref="ListImages"/>) with their class labels when the
    /// images lie in two or more class sub-folders.
    /// </summary>
    /// <exception cref="DataException">Some images lie directly in <paramref name="dir"/> and some in sub-folders.</exception>
    public static ImageFolderListing List(string dir)
    {
        var files = ListImages(dir);
        // The first folder under dir of each file, or null for a file directly in dir.
        var classOf = files.Select(f => Path.GetRelativePath(dir, f).Split(Separators, 2) is [var top, _] ? top : null).ToList();
        int flat = classOf.Count(c => c is null);
        if (flat == files.Count) return new ImageFolderListing(files, null, null);
        if (flat > 0)
        {
            string top = Path.GetFileName(files[classOf.IndexOf(null)]), sub = classOf.First(c => c is not null)!;
            throw new DataException($"images: {dir} holds images both directly in it (e.g. {top}) and in sub-folders (e.g. {sub}{Path.DirectorySeparatorChar}); " +
                "for class labels move every image into a sub-folder named after its class, for unlabelled images keep them all directly in the folder");
        }
        var names = classOf.OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        if (names.Count < 2) return new ImageFolderListing(files, null, null);
        var index = names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return new ImageFolderListing(files, classOf.Select(c => index[c!]).ToList(), names);
    }

    static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <summary>
    /// Reads every image (or the first <paramref name="limit"/> in <see cref="ListImages"/> order): uint8 [N, C, size, size],
    /// C = 1 when <paramref name="grayscale"/>, else 3; with int64 [N] labels and the class names when the folder is split
    /// into class sub-folders (see <see cref="List"/>), else null.
    /// </summary>
    public static (Tensor Images, Tensor? Labels, IReadOnlyList<string>? ClassNames) ReadWithLabels(string dir, int size, bool grayscale = false, int? limit = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var listing = List(dir);
        var files = listing.Files;
        if (files.Count == 0) throw new DataException($"images: {dir} holds no .png, .jpg or .jpeg files; give images:DIR with DIR a folder of images");
        int n = limit is int l ? Math.Min(Math.Max(l, 0), files.Count) : files.Count;
        int c = grayscale ? 1 : 3;
        long item = (long)c * size * size;
        var all = new byte[n * item];
        for (int i = 0; i < n; i++) DecodeInto(ReadBytes(files[i]), files[i], size, grayscale, all.AsSpan((int)(i * item), (int)item));
        var labels = listing.Labels is { } y ? tensor(y.Take(n).Select(v => (long)v).ToArray(), [n], ScalarType.Int64) : null;
        return (tensor(all, [n, c, size, size], ScalarType.Byte), labels, listing.ClassNames);
    }

    /// <summary>The images of <see cref="ReadWithLabels"/> without their labels.</summary>
    public static Tensor Read(string dir, int size, bool grayscale = false, int? limit = null)
    {
        var (images, labels, _) = ReadWithLabels(dir, size, grayscale, limit);
        labels?.Dispose();
        return images;
    }

    /// <summary>Reads one image file: uint8 [C, size, size].</summary>
    public static Tensor ReadFile(string path, int size, bool grayscale = false) => Decode(ReadBytes(path), path, size, grayscale);

    /// <summary>Decodes, resizes and crops one encoded image: uint8 [C, size, size]; <paramref name="name"/> names it in errors.</summary>
    public static Tensor Decode(byte[] encoded, string name, int size, bool grayscale = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        int c = grayscale ? 1 : 3;
        var result = new byte[c * size * size];
        DecodeInto(encoded, name, size, grayscale, result);
        return tensor(result, [c, size, size], ScalarType.Byte);
    }

    static byte[] ReadBytes(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (UnauthorizedAccessException) { throw new DataException($"{path}: permission denied"); }
        catch (IOException e) { throw new DataException($"{path}: read error ({IdxReader.OneLine(e.Message)})"); }
    }

    static void DecodeInto(byte[] encoded, string name, int size, bool grayscale, Span<byte> output)
    {
        string Bad(string what) => $"{name}: {what}; replace or remove the file";
        if (encoded.Length == 0) throw new DataException(Bad("empty file"));
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new DataException(Bad("not a PNG or JPEG image SkiaSharp can decode"));
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
            throw new DataException(Bad($"is a {codec.EncodedFormat} image, only PNG and JPEG are read"));
        // Skia decodes a PNG cut after its last IDAT chunk without complaint; a whole file ends with IEND and its CRC.
        if (codec.EncodedFormat == SKEncodedImageFormat.Png)
        {
            int iend = encoded.AsSpan().LastIndexOf("\0\0\0\0IEND"u8);
            if (iend < 0 || encoded.Length - iend < 12) throw new DataException(Bad("truncated PNG (no complete IEND chunk)"));
        }
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0 || w > MaxSide || h > MaxSide || (long)w * h > MaxPixels)
            throw new DataException(Bad($"image size {w}x{h} is outside 1..{MaxSide} per side or above {MaxPixels} pixels"));

        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var source = new SKBitmap();
        if (!source.TryAllocPixels(info)) throw new DataException(Bad($"cannot allocate {w}x{h} pixels"));
        var status = codec.GetPixels(info, source.GetPixels());
        if (status != SKCodecResult.Success)
            throw new DataException(Bad(status == SKCodecResult.IncompleteInput ? "truncated image data" : $"cannot decode ({status})"));
        source.SetImmutable();

        // Shorter side to `size`, then centre crop == the centred min(w,h) square resampled to size×size. The square
        // is cut out first (whole pixels) so the filter clamps at its edges instead of reading the cropped-away pixels.
        int side = Math.Min(w, h);
        var crop = SKRectI.Create((w - side) / 2, (h - side) / 2, side, side);
        using var target = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        using (var whole = SKImage.FromBitmap(source))
        using (var square = whole.Subset(crop))
        {
            canvas.Clear(SKColors.Black);
            canvas.DrawImage(square, SKRect.Create(0, 0, size, size), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
            canvas.Flush();
        }

        // Premultiplied RGB is the image composited over black.
        ReadOnlySpan<byte> rgba = target.GetPixelSpan();
        int plane = size * size;
        for (int p = 0; p < plane; p++)
        {
            byte r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            if (grayscale) output[p] = Luma(r, g, b);
            else { output[p] = r; output[plane + p] = g; output[2 * plane + p] = b; }
        }
    }

    // ITU-R BT.601 luma, rounded.
    static byte Luma(byte r, byte g, byte b) => (byte)Math.Clamp((int)MathF.Round(0.299f * r + 0.587f * g + 0.114f * b), 0, 255);
}
