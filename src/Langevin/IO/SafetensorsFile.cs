using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.IO;

/// <summary>One tensor entry of a safetensors header: its dtype code, shape and byte range in the data section.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, long Begin, long End);

/// <summary>The header of a safetensors file, validated against the file's length.</summary>
public sealed record SafetensorsHeader(IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart);

/// <summary>Tensors (CPU, in the file's dtype) and string metadata read from a safetensors file. Disposing frees the tensors.</summary>
public sealed class SafetensorsContent(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
{
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>
/// The safetensors format (huggingface/safetensors, "Format" in its README): an unsigned 64-bit little-endian header
/// length N, N bytes of UTF-8 JSON mapping names to <c>{"dtype","shape","data_offsets":[begin,end]}</c> plus an
/// optional <c>"__metadata__"</c> string→string map, then the data section: little-endian, C-order tensor bytes,
/// contiguous and covering the whole section. Headers are untrusted input: every field is validated as the reference
/// implementation does (<c>Metadata::validate</c>), and any defect raises a one-line <see cref="DataException"/>.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The reference implementation's bound on the header (<c>MAX_HEADER_SIZE</c>, 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    const string MetadataKey = "__metadata__";

    static readonly Dictionary<ScalarType, string> Codes = new()
    {
        [ScalarType.Float32] = "F32", [ScalarType.Float64] = "F64", [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16", [ScalarType.Int64] = "I64", [ScalarType.Int32] = "I32",
        [ScalarType.Byte] = "U8", [ScalarType.Bool] = "BOOL",
    };

    static readonly Dictionary<string, (ScalarType Type, int Size)> Types = new()
    {
        ["F32"] = (ScalarType.Float32, 4), ["F64"] = (ScalarType.Float64, 8), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["U8"] = (ScalarType.Byte, 1), ["BOOL"] = (ScalarType.Bool, 1),
    };

    // ---------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="tensors"/> atomically (temp file + rename). Entries are sorted by name with contiguous
    /// data_offsets; the compact JSON header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        AtomicFile.Write(path, stream => WriteTo(stream, tensors, metadata));
    }

    /// <summary>The bytes <see cref="Write"/> would write.</summary>
    public static byte[] ToBytes(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var memory = new MemoryStream();
        WriteTo(memory, tensors, metadata);
        return memory.ToArray();
    }

    /// <summary>
    /// Header first, then each tensor's bytes straight from its (CPU, contiguous) storage: no managed copy of the data,
    /// so a checkpoint of N MB does not leave N MB-sized arrays in the .NET large-object heap each time it is saved.
    /// </summary>
    static void WriteTo(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = tensors.Keys.ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        var json = new StringBuilder("{");
        if (metadata is not null)
        {
            json.Append('"').Append(MetadataKey).Append("\":{");
            bool first = true;
            foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!first) json.Append(',');
                first = false;
                AppendString(json, k).Append(':');
                AppendString(json, v);
            }
            json.Append('}');
        }
        using var scope = NewDisposeScope();                 // detach/cpu/contiguous each make a tensor handle
        var data = new Tensor[names.Length];
        long offset = 0;
        for (int i = 0; i < names.Length; i++)
        {
            string name = names[i];
            if (name == MetadataKey) throw new ArgumentException($"safetensors: '{MetadataKey}' is reserved and cannot name a tensor");
            Tensor t = tensors[name];
            if (!Codes.TryGetValue(t.dtype, out string? code))
                throw new ArgumentException($"safetensors: tensor '{name}' has unsupported dtype {t.dtype}");
            var c = data[i] = t.detach().cpu().contiguous();
            long length = c.numel() * c.ElementSize;
            if (json.Length > 1) json.Append(',');
            AppendString(json, name).Append(":{\"dtype\":\"").Append(code).Append("\",\"shape\":[")
                .Append(string.Join(",", c.shape.Select(d => d.ToString(CultureInfo.InvariantCulture))))
                .Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + length).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += length;
        }
        json.Append('}');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        int padded = (header.Length + 7) / 8 * 8;
        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)padded);
        stream.Write(size);
        stream.Write(header);
        for (int i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var c in data)
            if (c.numel() > 0) stream.Write(c.bytes);
    }

    /// <summary>JSON string escaping as serde_json writes it (quote, backslash and control characters only).</summary>
    static StringBuilder AppendString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch < 0x20) sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        return sb.Append('"');
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Reads every tensor of a safetensors file into CPU tensors of the file's dtypes.</summary>
    public static SafetensorsContent Read(string path)
    {
        byte[] bytes = Guard(path, () =>
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (fs.Length > Array.MaxLength)
                throw new DataException($"{path}: safetensors file of {fs.Length} bytes is too large to load (limit {Array.MaxLength}); split it");
            var buffer = new byte[fs.Length];
            fs.ReadExactly(buffer);
            return buffer;
        });
        return Parse(bytes, path);
    }

    /// <summary>Reads and validates only the header (a few reads, however large the file).</summary>
    public static SafetensorsHeader ReadHeader(string path) => Guard(path, () =>
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> prefix = stackalloc byte[8];
        if (fs.Length < 8) throw new DataException(Bad(path, $"file of {fs.Length} bytes is shorter than the 8-byte header length"));
        fs.ReadExactly(prefix);
        long n = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(prefix), fs.Length, path);
        var header = new byte[n];
        fs.ReadExactly(header);
        return ParseHeader(header, fs.Length - 8 - n, path);
    });

    /// <summary>Parses a whole safetensors image; <paramref name="name"/> names the source in error messages.</summary>
    public static SafetensorsContent Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 8) throw new DataException(Bad(name, $"file of {bytes.Length} bytes is shorter than the 8-byte header length"));
        long n = CheckHeaderLength(BinaryPrimitives.ReadUInt64LittleEndian(bytes), bytes.Length, name);
        var header = ParseHeader(bytes.Slice(8, (int)n), bytes.Length - 8 - n, name);
        var data = bytes[(int)header.DataStart..];
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in header.Entries)
            {
                var span = data[(int)e.Begin..(int)e.End];
                var type = Types[e.Dtype].Type;
                if (type == ScalarType.Bool)
                    foreach (byte b in span)
                        if (b > 1) throw new DataException(Bad(name, $"tensor '{e.Name}' is BOOL but holds byte {b}"));
                var t = empty(e.Shape, type);
                if (span.Length > 0) span.CopyTo(t.bytes);
                tensors.Add(e.Name, t);
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return new SafetensorsContent(tensors, header.Metadata);
    }

    static string Bad(string name, string what) => $"{name}: not a valid safetensors file ({what}); re-save it";

    static T Guard<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (FileNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (UnauthorizedAccessException) { throw new DataException($"{path}: permission denied; check the file's permissions"); }
        catch (EndOfStreamException) { throw new DataException($"{path}: file changed while being read; retry"); }
    }

    static long CheckHeaderLength(ulong n, long fileLength, string name)
    {
        if (n > MaxHeaderBytes) throw new DataException(Bad(name, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit"));
        if ((long)n > fileLength - 8) throw new DataException(Bad(name, $"header length {n} exceeds the file"));
        return (long)n;
    }

    /// <summary>Validates the JSON header against a data section of <paramref name="dataLength"/> bytes.</summary>
    static SafetensorsHeader ParseHeader(ReadOnlySpan<byte> header, long dataLength, string name)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 }); }
        catch (JsonException ex)
        {
            throw new DataException(Bad(name, $"header is not valid UTF-8 JSON: {FirstLine(ex.Message)}"));
        }
        catch (ArgumentException) // the parser reports some invalid UTF-8 this way
        {
            throw new DataException(Bad(name, "header is not valid UTF-8 JSON"));
        }
        using (doc)
        {
            try { return Validate(doc.RootElement, header.Length, dataLength, name); }
            catch (InvalidOperationException) // a name or value escapes a lone UTF-16 surrogate
            {
                throw new DataException(Bad(name, "header holds a string that is not valid Unicode"));
            }
        }
    }

    static SafetensorsHeader Validate(JsonElement root, int headerLength, long dataLength, string name)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new DataException(Bad(name, "header is not a JSON object"));
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var prop in root.EnumerateObject())
        {
            string key = prop.Name;
            if (!seen.Add(key)) throw new DataException(Bad(name, $"header names '{Short(key)}' twice"));
            if (key == MetadataKey)
            {
                if (prop.Value.ValueKind != JsonValueKind.Object)
                    throw new DataException(Bad(name, $"{MetadataKey} is not an object of strings"));
                foreach (var m in prop.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String)
                        throw new DataException(Bad(name, $"{MetadataKey} value of '{Short(m.Name)}' is not a string"));
                    if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                        throw new DataException(Bad(name, $"{MetadataKey} names '{Short(m.Name)}' twice"));
                }
                continue;
            }
            entries.Add(ParseEntry(key, prop.Value, name));
        }

        // Reference rule: sorted by offsets, each tensor starts where the previous ended, the last ends the section.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expectedBegin = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expectedBegin)
                throw new DataException(Bad(name, e.Begin < expectedBegin
                    ? $"tensor '{Short(e.Name)}' overlaps another tensor"
                    : $"data bytes {expectedBegin}..{e.Begin} belong to no tensor"));
            if (e.End > dataLength)
                throw new DataException(Bad(name, $"tensor '{Short(e.Name)}' ends at byte {e.End} of a {dataLength}-byte data section"));
            expectedBegin = e.End;
        }
        if (expectedBegin != dataLength)
            throw new DataException(Bad(name, $"data section holds {dataLength} bytes, the tensors cover {expectedBegin}"));
        return new SafetensorsHeader(entries, metadata, 8 + headerLength);
    }

    static SafetensorsEntry ParseEntry(string key, JsonElement v, string name)
    {
        string tensor = $"tensor '{Short(key)}'";
        if (v.ValueKind != JsonValueKind.Object) throw new DataException(Bad(name, $"{tensor} is not an object"));
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var f in v.EnumerateObject())
        {
            switch (f.Name)
            {
                case "dtype":
                    if (dtype is not null || f.Value.ValueKind != JsonValueKind.String)
                        throw new DataException(Bad(name, $"{tensor} has a bad dtype field"));
                    dtype = f.Value.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw new DataException(Bad(name, $"{tensor} has two shape fields"));
                    shape = Integers(f.Value, name, $"{tensor} shape");
                    break;
                case "data_offsets":
                    if (offsets is not null) throw new DataException(Bad(name, $"{tensor} has two data_offsets fields"));
                    offsets = Integers(f.Value, name, $"{tensor} data_offsets");
                    if (offsets.Length != 2) throw new DataException(Bad(name, $"{tensor} data_offsets is not [begin, end]"));
                    break;
                default:
                    throw new DataException(Bad(name, $"{tensor} has unknown field '{Short(f.Name)}'"));
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw new DataException(Bad(name, $"{tensor} lacks dtype, shape or data_offsets"));
        if (!Types.TryGetValue(dtype, out var type))
            throw new DataException(Bad(name, $"{tensor} has unsupported dtype '{Short(dtype)}' (supported: {string.Join(", ", Types.Keys)})"));
        if (shape.Length > 64) throw new DataException(Bad(name, $"{tensor} has {shape.Length} dimensions"));
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw new DataException(Bad(name, $"{tensor} data_offsets [{begin}, {end}] end before they begin"));

        // numel·itemsize must equal end − begin; multiply with an overflow guard (the size cannot exceed long range).
        long bytesNeeded = type.Size;
        if (shape.Contains(0)) bytesNeeded = 0;
        else
            foreach (long d in shape)
            {
                if (bytesNeeded > long.MaxValue / d) throw new DataException(Bad(name, $"{tensor} shape is impossibly large"));
                bytesNeeded *= d;
            }
        if (bytesNeeded != end - begin)
            throw new DataException(Bad(name, $"{tensor} shape needs {bytesNeeded} bytes but data_offsets span {end - begin}"));
        return new SafetensorsEntry(key, dtype, shape, begin, end);
    }

    static long[] Integers(JsonElement v, string name, string what)
    {
        if (v.ValueKind != JsonValueKind.Array) throw new DataException(Bad(name, $"{what} is not an array of integers"));
        var list = new List<long>();
        foreach (var x in v.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out long n) || n < 0)
                throw new DataException(Bad(name, $"{what} holds {Short(x.GetRawText())}, not a non-negative integer"));
            list.Add(n);
        }
        return list.ToArray();
    }

    static string Short(string s) => s.Length <= 40 ? Sanitize(s) : Sanitize(s[..40]) + "…";

    static string Sanitize(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    static string FirstLine(string s) { int i = s.IndexOfAny(['\r', '\n']); return i < 0 ? s : s[..i]; }
}
