using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// IDX files (LeCun's MNIST format, also Fashion-MNIST), plain or gzipped (detected by content, not by name).
/// Only the unsigned-byte element type (0x08) is supported: that is what image and label files use.
/// Every header field and the exact data length are checked; bad input raises <see cref="DataException"/>.
/// </summary>
public static class IdxReader
{
    const int MaxDims = 4;
    const long MaxElements = 1L << 30;   // 1 GiB of uint8: far above MNIST (47 MB)

    /// <summary>Reads any uint8 IDX file into a uint8 tensor with the file's dimensions.</summary>
    public static Tensor Read(string path)
    {
        using var stream = OpenFile(path);
        return Parse(stream, path);
    }

    /// <summary>Parses an IDX image (plain or gzipped); <paramref name="name"/> names the source in error messages.</summary>
    public static Tensor Parse(byte[] bytes, string name)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Parse(stream, name);
    }

    /// <summary>Reads an image file (3 dimensions N×H×W) as uint8 [N, 1, H, W].</summary>
    public static Tensor ReadImages(string path)
    {
        var t = Read(path);
        if (t.dim() != 3)
        {
            string dims = string.Join("x", t.shape); t.Dispose();
            throw new DataException($"{path}: an IDX image file has 3 dimensions (N x H x W), this one has {dims}; pass the images file, not the labels");
        }
        using (t) return t.unsqueeze(1).contiguous();
    }

    /// <summary>Reads a label file (1 dimension) as int64 [N].</summary>
    public static Tensor ReadLabels(string path)
    {
        using var t = Read(path);
        if (t.dim() != 1)
            throw new DataException($"{path}: an IDX label file has 1 dimension, this one has {string.Join("x", t.shape)}; pass the labels file, not the images");
        return t.to_type(ScalarType.Int64);
    }

    /// <summary>
    /// Reads the train or test split of an MNIST-style folder: <c>{train,t10k}-{images-idx3,labels-idx1}-ubyte</c>,
    /// each optionally <c>.gz</c> (also the <c>train-images.idx3-ubyte</c> spelling). Images uint8 [N, 1, H, W],
    /// labels int64 [N] in 0..9.
    /// </summary>
    /// <param name="howToGet">Appended to the "not found" message: how the user can install or download the data.</param>
    public static (Tensor Images, Tensor Labels) ReadSplit(string dir, bool test, string datasetName = "mnist", string? howToGet = null)
    {
        string prefix = test ? "t10k" : "train";
        string images = FindFile(dir, [$"{prefix}-images-idx3-ubyte", $"{prefix}-images.idx3-ubyte"], datasetName, howToGet);
        string labels = FindFile(dir, [$"{prefix}-labels-idx1-ubyte", $"{prefix}-labels.idx1-ubyte"], datasetName, howToGet);
        var x = ReadImages(images);
        Tensor y;
        try { y = ReadLabels(labels); }
        catch { x.Dispose(); throw; }
        if (x.shape[0] != y.shape[0])
        {
            long nx = x.shape[0], ny = y.shape[0]; x.Dispose(); y.Dispose();
            throw new DataException($"{labels}: holds {ny} labels but {images} holds {nx} images; the two files come from different downloads, reinstall the dataset");
        }
        long bad = y.ge(10).sum().item<long>();
        if (bad > 0)
        {
            x.Dispose(); y.Dispose();
            throw new DataException($"{labels}: {bad} labels are outside 0..9; the file is corrupt, reinstall the dataset");
        }
        return (x, y);
    }

    static string FindFile(string dir, string[] names, string datasetName, string? howToGet)
    {
        foreach (var name in names)
            foreach (var candidate in new[] { name + ".gz", name })
            {
                string path = Path.Combine(dir, candidate);
                if (File.Exists(path)) return path;
            }
        string how = howToGet ?? $"give {datasetName}:DIR where DIR holds the IDX files";
        throw new DataException($"{datasetName}: {Path.Combine(dir, names[0])}[.gz] not found; {how}");
    }

    static FileStream OpenFile(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (FileNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (DirectoryNotFoundException) { throw new DataException($"{path}: file not found"); }
        catch (UnauthorizedAccessException) { throw new DataException($"{path}: permission denied"); }
        catch (IOException e) { throw new DataException($"{path}: cannot open ({e.Message})"); }
    }

    static Tensor Parse(Stream raw, string name)
    {
        string Bad(string what) => $"{name}: not a valid IDX file ({what}); the file is corrupt or truncated, download it again";
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int got = ReadFull(raw, magic);
            Stream stream = raw;
            GZipStream? gzip = null;
            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            {
                raw.Seek(0, SeekOrigin.Begin);
                stream = gzip = new GZipStream(raw, CompressionMode.Decompress, leaveOpen: true);
                got = 0;
            }
            using (gzip)
            {
                Span<byte> header = stackalloc byte[4];
                magic[..got].CopyTo(header);
                if (ReadFull(stream, header[got..]) != 4 - got) throw new DataException(Bad("truncated header"));
                if (header[0] != 0 || header[1] != 0) throw new DataException(Bad("the magic number does not start with two zero bytes"));
                if (header[2] != 0x08) throw new DataException(Bad($"element type 0x{header[2]:x2} is not unsigned byte (0x08)"));
                int ndim = header[3];
                if (ndim < 1 || ndim > MaxDims) throw new DataException(Bad($"{ndim} dimensions, expected 1 to {MaxDims}"));

                Span<byte> dimBytes = stackalloc byte[4 * MaxDims];
                if (ReadFull(stream, dimBytes[..(4 * ndim)]) != 4 * ndim) throw new DataException(Bad("truncated header"));
                var dims = new long[ndim];
                long count = 1;
                for (int i = 0; i < ndim; i++)
                {
                    int d = BinaryPrimitives.ReadInt32BigEndian(dimBytes[(4 * i)..]);
                    if (d <= 0) throw new DataException(Bad($"dimension {i} is {d}"));
                    dims[i] = d;
                    count *= d;
                    if (count > MaxElements) throw new DataException(Bad("the header's dimensions describe more than 1 GiB"));
                }

                if (gzip is null && stream.CanSeek && stream.Length - stream.Position < count)
                    throw new DataException(Bad($"truncated: the header's shape {string.Join("x", dims)} needs {count} bytes, the file holds {stream.Length - stream.Position}"));
                var (data, read) = ReadUpTo(stream, (int)count);
                if (read != count) throw new DataException(Bad($"truncated: the header's shape {string.Join("x", dims)} needs {count} bytes, the file holds {read}"));
                Span<byte> extra = stackalloc byte[1];
                if (ReadFull(stream, extra) != 0) throw new DataException(Bad($"trailing bytes after the {count} data bytes"));
                if (gzip is not null) CheckGzipSize(raw, 4 + 4 * ndim + count, Bad);
                return tensor(data, dims, ScalarType.Byte);
            }
        }
        catch (InvalidDataException e) { throw new DataException(Bad($"bad gzip stream: {OneLine(e.Message)}"), e); }
        catch (EndOfStreamException e) { throw new DataException(Bad("truncated gzip stream"), e); }
        catch (IOException e) { throw new DataException($"{name}: read error ({OneLine(e.Message)})", e); }
    }

    internal static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    // zlib checks the CRC when the gzip trailer is there, but GZipStream ends quietly when the input stops inside the
    // trailer; so compare the trailer's ISIZE (uncompressed length mod 2^32, RFC 1952 §2.3.1) with what we decoded.
    // A concatenated multi-member file fails this check; IDX downloads are single-member.
    static void CheckGzipSize(Stream raw, long decoded, Func<string, string> bad)
    {
        if (!raw.CanSeek) return;
        Span<byte> trailer = stackalloc byte[4];
        if (raw.Length < 18) throw new DataException(bad("truncated gzip stream"));
        raw.Seek(-4, SeekOrigin.End);
        if (ReadFull(raw, trailer) != 4 || BinaryPrimitives.ReadUInt32LittleEndian(trailer) != (uint)decoded)
            throw new DataException(bad("truncated gzip stream: its size trailer does not match the decoded data"));
    }

    // Reads up to `count` bytes, growing the buffer as data arrives, so a header that lies about the size of a
    // small (compressed) file cannot make us allocate the claimed size up front.
    static (byte[] Data, int Read) ReadUpTo(Stream s, int count)
    {
        var buffer = new byte[Math.Min(count, 1 << 20)];
        int total = 0;
        while (true)
        {
            total += ReadFull(s, buffer.AsSpan(total));
            if (total < buffer.Length || buffer.Length == count) return (buffer, total);
            Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
        }
    }

    internal static int ReadFull(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
