using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// CIFAR-10 binary batches (<c>cifar-10-binary.tar.gz</c>): records of 1 label byte (0..9) and 3072 image bytes
/// (1024 red, 1024 green, 1024 blue, each 32×32 row-major). Bad input raises <see cref="DataException"/>.
/// </summary>
public static class Cifar10Reader
{
    /// <summary>Bytes per record: 1 label + 3·32·32 pixels.</summary>
    public const int RecordBytes = 1 + 3 * 32 * 32;

    /// <summary>Where to get the data, for error messages.</summary>
    public const string HowToGet =
        "download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it and give cifar10:DIR";

    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads one batch file: images uint8 [N, 3, 32, 32], labels int64 [N].</summary>
    public static (Tensor Images, Tensor Labels) ReadBatch(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DataException($"{path}: file not found; {HowToGet}"); }
        catch (DirectoryNotFoundException) { throw new DataException($"{path}: file not found; {HowToGet}"); }
        catch (UnauthorizedAccessException) { throw new DataException($"{path}: permission denied"); }
        catch (IOException e) { throw new DataException($"{path}: read error ({IdxReader.OneLine(e.Message)})"); }
        return Parse(bytes, path);
    }

    /// <summary>Parses the bytes of one batch file; <paramref name="name"/> names the source in error messages.</summary>
    public static (Tensor Images, Tensor Labels) Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new DataException($"{name}: empty file; {HowToGet}");
        if (bytes.Length % RecordBytes != 0)
            throw new DataException($"{name}: {bytes.Length} bytes is not a whole number of {RecordBytes}-byte records; the file is truncated or not a CIFAR-10 binary batch, download it again");
        int n = bytes.Length / RecordBytes;
        var labels = new long[n];
        var pixels = new byte[(long)n * (RecordBytes - 1)];
        for (int i = 0; i < n; i++)
        {
            var record = bytes.Slice(i * RecordBytes, RecordBytes);
            if (record[0] > 9)
                throw new DataException($"{name}: record {i} has label {record[0]}, CIFAR-10 labels are 0..9; the file is corrupt or not a CIFAR-10 binary batch (CIFAR-100 is not supported)");
            labels[i] = record[0];
            record[1..].CopyTo(pixels.AsSpan(i * (RecordBytes - 1)));
        }
        return (tensor(pixels, [n, 3, 32, 32], ScalarType.Byte), tensor(labels, [n]));
    }

    /// <summary>
    /// Reads the train split (<c>data_batch_1..5.bin</c>, 50,000 images) or the test split (<c>test_batch.bin</c>,
    /// 10,000) from <paramref name="dir"/> or its <c>cifar-10-batches-bin</c> subfolder.
    /// </summary>
    public static (Tensor Images, Tensor Labels) ReadSplit(string dir, bool test)
    {
        string root = dir;
        string nested = Path.Combine(dir, "cifar-10-batches-bin");
        if (!File.Exists(Path.Combine(dir, "test_batch.bin")) && Directory.Exists(nested)) root = nested;
        string[] names = test ? ["test_batch.bin"] : [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];
        foreach (var file in names)
        {
            string path = Path.Combine(root, file);
            if (File.Exists(path)) continue;
            if (File.Exists(Path.Combine(root, Path.GetFileNameWithoutExtension(file))))
                throw new DataException($"cifar10: {root} holds the Python (pickle) version of CIFAR-10, which is not supported; download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html instead");
            throw new DataException($"cifar10: {path} not found; {HowToGet}");
        }
        var parts = new List<(Tensor Images, Tensor Labels)>();
        try
        {
            foreach (var file in names) parts.Add(ReadBatch(Path.Combine(root, file)));
            if (parts.Count == 1) { var only = parts[0]; parts.Clear(); return only; }
            return (cat(parts.Select(p => p.Images).ToArray(), 0), cat(parts.Select(p => p.Labels).ToArray(), 0));
        }
        finally
        {
            foreach (var (x, y) in parts) { x.Dispose(); y.Dispose(); }
        }
    }
}
