using CsCheck;
using Langevin.Data;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class Cifar10ReaderTests
{
    // Record i: label i % 10, pixel byte j = (i + j) % 251.
    internal static byte[] Batch(int n, int first = 0)
    {
        var bytes = new byte[n * Cifar10Reader.RecordBytes];
        for (int i = 0; i < n; i++)
        {
            bytes[i * Cifar10Reader.RecordBytes] = (byte)((first + i) % 10);
            for (int j = 0; j < 3072; j++) bytes[i * Cifar10Reader.RecordBytes + 1 + j] = (byte)((first + i + j) % 251);
        }
        return bytes;
    }

    static readonly byte[] Valid = Batch(2);

    [Fact]
    public void RecordsBecomeChannelFirstImagesAndLabels()
    {
        var (x, y) = Cifar10Reader.Parse(Batch(3), "b");
        using (x) using (y)
        {
            Assert.Equal(new long[] { 3, 3, 32, 32 }, x.shape);
            Assert.Equal(new long[] { 0, 1, 2 }, y.data<long>().ToArray());
            // Byte j of record i is channel j / 1024, row (j % 1024) / 32, column j % 32.
            Assert.Equal((byte)((2 + 1024 + 5 * 32 + 7) % 251), x[2, 1, 5, 7].item<byte>());
            Assert.Equal((byte)((1 + 2048 + 31 * 32 + 31) % 251), x[1, 2, 31, 31].item<byte>());
        }
    }

    [Fact]
    public void SplitsReadTheBatchFilesFromTheFolderOrItsSubfolder()
    {
        using var dir = new TempDir();
        string root = Directory.CreateDirectory(dir.File("cifar-10-batches-bin")).FullName;
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(Path.Combine(root, $"data_batch_{b}.bin"), Batch(2, 2 * b));
        File.WriteAllBytes(Path.Combine(root, "test_batch.bin"), Batch(3));
        var (x, y) = Cifar10Reader.ReadSplit(dir.Path, test: false);
        using (x) using (y) { Assert.Equal(10, x.shape[0]); Assert.Equal(new long[] { 2, 3, 4, 5, 6, 7, 8, 9, 0, 1 }, y.data<long>().ToArray()); }
        var (tx, ty) = Cifar10Reader.ReadSplit(root, test: true);
        using (tx) using (ty) Assert.Equal(3, tx.shape[0]);

        using var ds = DataSources.Load($"cifar10:{dir.Path}:test", new DataOptions(Grayscale: true));
        Assert.Equal(new long[] { 3, 1, 32, 32 }, ds.X.shape);
        Assert.True(ds.X.min().item<float>() >= -1 && ds.X.max().item<float>() <= 1);
    }

    [Fact]
    public void MissingOrPythonVersionSaysWhatToDownload()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() => Cifar10Reader.ReadSplit(dir.Path, test: false));
        Assert.Contains("data_batch_1.bin", e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
        File.WriteAllBytes(dir.File("data_batch_1"), [1, 2, 3]);
        Assert.Contains("Python", Assert.Throws<DataException>(() => Cifar10Reader.ReadSplit(dir.Path, test: false)).Message);
        Assert.Throws<DataException>(() => DataSources.Load("cifar10:/nonexistent/cifar", new DataOptions()));
    }

    static void OnlyDataException(byte[] bytes)
    {
        try { var (x, y) = Cifar10Reader.Parse(bytes, "fuzz"); x.Dispose(); y.Dispose(); }
        catch (DataException e) { Assert.DoesNotContain('\n', e.Message); Assert.StartsWith("fuzz:", e.Message); }
    }

    [Fact]
    public void RandomBytesTruncationsAndMutationsOnlyEverThrowDataException()
    {
        Gen.Byte.Array[0, 7000].Sample(OnlyDataException, iter: Fuzz.Iter(200));
        // every cut that is not a whole number of 3,073-byte records is invalid (a cut at one record is a valid 1-record file)
        Gen.Int[0, Valid.Length - 1].Where(n => n == 0 || n % 3073 != 0)
            .Sample(n => { Assert.Throws<DataException>(() => Cifar10Reader.Parse(Valid.AsSpan(0, n), "t")); }, iter: Fuzz.Iter(200));
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Byte).Sample((pos, value) =>
        {
            var copy = (byte[])Valid.Clone();
            copy[pos] = value;
            OnlyDataException(copy);
        }, iter: Fuzz.Iter(300));
        Assert.Contains("label 200", Assert.Throws<DataException>(() => Cifar10Reader.Parse([200, .. new byte[3072]], "bad")).Message);
    }
}
