using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>
/// NumPy <c>.npy</c> files (format versions 1.0–3.0; float32, float64, uint8, and on request int32 / int64;
/// little-endian, C order). Spec: numpy.lib.format. Every header field is validated; bad files raise
/// <see cref="DataException"/>.
/// </summary>
public static partial class NpyFile
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    const int MaxHeaderBytes = 1 << 16;

    /// <param name="integers">Also accept int32 and int64 arrays (<c>&lt;i4</c>, <c>&lt;i8</c>), e.g. class labels.</param>
    public static Tensor Read(string path, bool integers = false)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (UnauthorizedAccessException) { throw new DataException($"{path}: permission denied"); }
        return Parse(bytes, path, integers);
    }

    /// <summary>Parses a whole .npy image; <paramref name="name"/> names the source in error messages.</summary>
    /// <param name="integers">Also accept int32 and int64 arrays (<c>&lt;i4</c>, <c>&lt;i8</c>).</param>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string name, bool integers = false)
    {
        // Parts of the header are echoed back: replace control characters so the message stays on one line.
        string Bad(string what) => $"{name}: not a valid .npy file ({new string(what.Select(ch => char.IsControl(ch) ? ' ' : ch).ToArray())}); write it with numpy.save as float32, float64 or uint8";
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic)) throw new DataException(Bad("missing the \\x93NUMPY magic"));
        byte major = bytes[6];
        int headerLen, headerStart;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); headerStart = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new DataException(Bad("truncated header"));
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            if (len > MaxHeaderBytes) throw new DataException(Bad($"header of {len} bytes is too large"));
            headerLen = (int)len; headerStart = 12;
        }
        else throw new DataException(Bad($"unsupported format version {major}"));
        if (headerStart + headerLen > bytes.Length) throw new DataException(Bad("truncated header"));

        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLen)).Trim();
        var m = HeaderPattern().Match(header);
        if (!m.Success) throw new DataException(Bad("header is not a dict with descr, fortran_order and shape"));
        string descr = m.Groups["descr"].Value;
        if (m.Groups["fortran"].Value == "True") throw new DataException(Bad("Fortran order is not supported; save a C-contiguous array"));

        var shape = new List<long>();
        foreach (var part in m.Groups["shape"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long d) || d < 0)
                throw new DataException(Bad($"bad shape dimension '{part}'"));
            shape.Add(d);
        }

        (ScalarType type, int itemSize) = descr switch
        {
            "<f4" => (ScalarType.Float32, 4),
            "<f8" => (ScalarType.Float64, 8),
            "|u1" or "<u1" => (ScalarType.Byte, 1),
            "<i4" when integers => (ScalarType.Int32, 4),
            "<i8" when integers => (ScalarType.Int64, 8),
            _ => throw new DataException(Bad($"dtype '{descr}' is not supported (use <f4, <f8{(integers ? ", <i4, <i8" : "")} or |u1)"))
        };

        // Guard before multiplying: an unchecked product of huge dimensions can wrap around to a small count.
        const long MaxCount = int.MaxValue / 8;
        long count = shape.Contains(0) ? 0 : 1;
        foreach (long d in shape)
        {
            if (d > MaxCount || (count > 0 && d > MaxCount / count)) throw new DataException(Bad("array too large"));
            count *= d;
        }
        long dataStart = headerStart + headerLen;
        long expected = count * itemSize;
        if (bytes.Length - dataStart != expected)
            throw new DataException(Bad($"data holds {bytes.Length - dataStart} bytes, the header's shape needs {expected}"));

        var data = bytes.Slice((int)dataStart, (int)expected);
        long[] dims = shape.ToArray();
        return type switch
        {
            ScalarType.Float32 => tensor(ToArray<float>(data), dims),
            ScalarType.Float64 => tensor(ToArray<double>(data), dims),
            ScalarType.Int32 => tensor(ToArray<int>(data), dims),
            ScalarType.Int64 => tensor(ToArray<long>(data), dims),
            _ => tensor(data.ToArray(), dims, ScalarType.Byte),
        };
    }

    static T[] ToArray<T>(ReadOnlySpan<byte> data) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(data).ToArray();

    /// <summary>Writes a float32, float64, uint8, int32 or int64 tensor atomically (temp file + rename).</summary>
    public static void Write(string path, Tensor t) => AtomicFile.WriteAllBytes(path, ToBytes(t));

    public static byte[] ToBytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        string descr = c.dtype switch
        {
            ScalarType.Float32 => "<f4",
            ScalarType.Float64 => "<f8",
            ScalarType.Byte => "|u1",
            ScalarType.Int32 => "<i4",
            ScalarType.Int64 => "<i8",
            _ => throw new ArgumentException($"npy: unsupported dtype {c.dtype}")
        };
        string shape = c.shape.Length == 1 ? $"({c.shape[0]},)" : "(" + string.Join(", ", c.shape) + ")";
        // As numpy.lib.format._write_array_header: spare spaces so the first axis can grow to 21 digits in place,
        // then 1–64 spaces and '\n' so that the data starts at a multiple of 64 (ARRAY_ALIGN).
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        if (c.shape.Length > 0) dict += new string(' ', 21 - c.shape[0].ToString(CultureInfo.InvariantCulture).Length);
        int pad = 64 - (10 + dict.Length + 1) % 64;
        string header = dict + new string(' ', pad) + "\n";

        byte[] data = c.numel() == 0 ? [] : c.bytes.ToArray();
        var result = new byte[10 + header.Length + data.Length];
        Magic.CopyTo(result, 0);
        result[6] = 1; result[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, result.AsSpan(10));
        data.CopyTo(result, 10 + header.Length);
        return result;
    }

    [GeneratedRegex(@"^\{\s*'descr'\s*:\s*'(?<descr>[<>|=][a-zA-Z]\d+)'\s*,\s*'fortran_order'\s*:\s*(?<fortran>True|False)\s*,\s*'shape'\s*:\s*\((?<shape>[\d\s,]*)\)\s*,?\s*\}$")]
    private static partial Regex HeaderPattern();
}
