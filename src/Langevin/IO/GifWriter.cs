using System.Buffers.Binary;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>
/// A small animated GIF89a encoder (spec: W3C/CompuServe "Graphics Interchange Format Version 89a", 1990), chosen over
/// Magick.NET (~150 MB) because sampling animations need nothing more than one global palette and LZW.
/// Greyscale frames use the 256 greys exactly; colour frames a uniform 6×7×6 RGB palette (252 colours, no dithering).
/// </summary>
public static class GifWriter
{
    /// <summary>
    /// Writes an animation atomically. Each frame is float [C, H, W] in [0, 1] (C = 1 or 3, clamped), all of one size;
    /// a 4-D [N, C, H, W] frame is tiled first with <see cref="ImageGrid.Tile"/>'s defaults.
    /// <paramref name="delayCentiseconds"/> is the time each frame shows; <paramref name="loop"/> repeats forever.
    /// </summary>
    public static void Save(string path, IReadOnlyList<Tensor> frames, int delayCentiseconds = 8, bool loop = true)
    {
        byte[] bytes = Encode(frames, delayCentiseconds, loop);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The bytes <see cref="Save"/> would write.</summary>
    public static byte[] Encode(IReadOnlyList<Tensor> frames, int delayCentiseconds = 8, bool loop = true)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0) throw new ArgumentException("gif: no frames");
        ArgumentOutOfRangeException.ThrowIfNegative(delayCentiseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(delayCentiseconds, ushort.MaxValue);

        var images = new List<(byte[] Pixels, int Channels)>(frames.Count);
        int width = -1, height = -1;
        foreach (var f in frames)
        {
            using var frame = f.dim() == 4 ? ImageGrid.Tile(f) : f.alias();
            if (frame.dim() != 3 || frame.shape[0] is not (1 or 3))
                throw new ArgumentException($"gif: a frame must be [C, H, W] with C = 1 or 3, got [{string.Join(", ", f.shape)}]");
            int h = (int)frame.shape[1], w = (int)frame.shape[2];
            if (h is < 1 or > ushort.MaxValue || w is < 1 or > ushort.MaxValue) throw new ArgumentException($"gif: frame size {w}×{h} is outside 1..65535");
            if (width < 0) (width, height) = (w, h);
            else if (w != width || h != height) throw new ArgumentException($"gif: frames differ in size ({width}×{height} and {w}×{h})");
            images.Add((ImageGrid.ToBytesHwc(frame), (int)frame.shape[0]));
        }
        bool colour = images.Any(i => i.Channels == 3);

        var o = new MemoryStream();
        o.Write("GIF89a"u8);
        // Logical screen descriptor: size, global colour table of 2^(7+1) entries, colour resolution 8 bits.
        WriteU16(o, width); WriteU16(o, height);
        o.WriteByte(0xF7); o.WriteByte(0); o.WriteByte(0);
        for (int i = 0; i < 256; i++)
        {
            var (r, g, b) = colour ? UniformColour(i) : ((byte)i, (byte)i, (byte)i);
            o.WriteByte(r); o.WriteByte(g); o.WriteByte(b);
        }
        if (loop)
        {
            // NETSCAPE2.0 application extension: loop count 0 = forever.
            o.Write([0x21, 0xFF, 0x0B]); o.Write("NETSCAPE2.0"u8); o.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        }
        var indices = new byte[width * height];
        foreach (var (pixels, channels) in images)
        {
            // Graphic control extension: disposal 1 (leave in place), no transparency, delay in 1/100 s.
            o.Write([0x21, 0xF9, 0x04, 0x04]); WriteU16(o, delayCentiseconds); o.Write([0x00, 0x00]);
            // Image descriptor: the whole screen, no local colour table, not interlaced.
            o.WriteByte(0x2C); WriteU16(o, 0); WriteU16(o, 0); WriteU16(o, width); WriteU16(o, height); o.WriteByte(0);
            for (int p = 0; p < indices.Length; p++)
            {
                if (!colour) indices[p] = pixels[p];
                else if (channels == 1) indices[p] = UniformIndex(pixels[p], pixels[p], pixels[p]);
                else indices[p] = UniformIndex(pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]);
            }
            o.WriteByte(8); // LZW minimum code size
            WriteSubBlocks(o, Lzw(indices));
        }
        o.WriteByte(0x3B); // trailer
        return o.ToArray();
    }

    // 6 red × 7 green × 6 blue levels (green gets the extra level: the eye is most sensitive to it); 252..255 unused.
    static (byte, byte, byte) UniformColour(int i) => i >= 252 ? ((byte)0, (byte)0, (byte)0)
        : ((byte)Math.Round(i / 42 * 255 / 5.0), (byte)Math.Round(i / 6 % 7 * 255 / 6.0), (byte)Math.Round(i % 6 * 255 / 5.0));

    static byte UniformIndex(byte r, byte g, byte b) =>
        (byte)((r * 5 + 127) / 255 * 42 + (g * 6 + 127) / 255 * 6 + (b * 5 + 127) / 255);

    static void WriteU16(Stream o, int v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
        o.Write(b);
    }

    static void WriteSubBlocks(Stream o, byte[] data)
    {
        for (int i = 0; i < data.Length; i += 255)
        {
            int n = Math.Min(255, data.Length - i);
            o.WriteByte((byte)n);
            o.Write(data, i, n);
        }
        o.WriteByte(0); // block terminator
    }

    /// <summary>
    /// Variable-length-code LZW for 8-bit pixels (GIF89a appendix F): codes of 9..12 bits packed least significant bit
    /// first, a clear code first and whenever the 4096-entry table fills, widths grown as in Unix compress.
    /// </summary>
    internal static byte[] Lzw(ReadOnlySpan<byte> pixels)
    {
        const int Clear = 256, End = 257, MaxCodes = 4096;
        var output = new List<byte>(pixels.Length / 2 + 16);
        var table = new Dictionary<int, int>(MaxCodes);
        int bits = 9, next = End + 1, buffer = 0, buffered = 0;
        bool cleared = false;

        void Emit(int code)
        {
            buffer |= code << buffered;
            buffered += bits;
            while (buffered >= 8) { output.Add((byte)buffer); buffer >>= 8; buffered -= 8; }
            // The decoder learns each entry one code later, so a width grows once 'next' passes the current maximum.
            if (cleared) { bits = 9; cleared = false; }
            else if (bits < 12 && next > (1 << bits) - 1) bits++;
        }

        Emit(Clear);
        int prefix = pixels[0];
        for (int i = 1; i < pixels.Length; i++)
        {
            int key = prefix << 8 | pixels[i];
            if (table.TryGetValue(key, out int code)) { prefix = code; continue; }
            Emit(prefix);
            if (next < MaxCodes) table[key] = next++;
            else
            {
                table.Clear();
                next = End + 1;
                cleared = true;
                Emit(Clear);
            }
            prefix = pixels[i];
        }
        Emit(prefix);
        Emit(End);
        if (buffered > 0) output.Add((byte)buffer);
        return output.ToArray();
    }
}
