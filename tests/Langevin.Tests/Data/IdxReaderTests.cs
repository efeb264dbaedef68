using System.Buffers.Binary;
using System.IO.Compression;
using CsCheck;
using Langevin.Data;
using static TorchSharp.torch;

namespace Langevin.Tests.Data;

public class IdxReaderTests
{
    internal static byte[] Idx(int[] dims, Func<int, byte> value)
    {
        long count = dims.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[4 + 4 * dims.Length + count];
        bytes[2] = 0x08; bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        for (int i = 0; i < count; i++) bytes[4 + 4 * dims.Length + i] = value(i);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    static readonly byte[] Images = Idx([3, 4, 5], i => (byte)(i * 7));
    static readonly byte[] ImagesGz = Gzip(Images);

    [Fact]
    public void ReadsPlainAndGzippedImagesAndLabels()
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllBytes(dir.File("a"), Images);
        System.IO.File.WriteAllBytes(dir.File("b.gz"), ImagesGz);
        System.IO.File.WriteAllBytes(dir.File("l"), Idx([3], i => (byte)(9 - i)));
        foreach (var name in new[] { "a", "b.gz" })
        {
            using var x = IdxReader.ReadImages(dir.File(name));
            Assert.Equal(new long[] { 3, 1, 4, 5 }, x.shape);
            Assert.Equal(ScalarType.Byte, x.dtype);
            Assert.Equal(Enumerable.Range(0, 60).Select(i => (byte)(i * 7)), x.data<byte>().ToArray());
        }
        using var y = IdxReader.ReadLabels(dir.File("l"));
        Assert.Equal(new long[] { 9, 8, 7 }, y.data<long>().ToArray());
        Assert.Throws<DataException>(() => IdxReader.ReadImages(dir.File("l")));
        Assert.Throws<DataException>(() => IdxReader.ReadLabels(dir.File("a")));
    }

    [Fact]
    public void MissingFileNamesIt()
    {
        var e = Assert.Throws<DataException>(() => IdxReader.Read("/nonexistent/train-images-idx3-ubyte"));
        Assert.Contains("/nonexistent/train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void ALyingHeaderDoesNotAllocateWhatItClaims()
    {
        var bytes = Idx([1], _ => 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), 1 << 29);
        var e = Assert.Throws<DataException>(() => IdxReader.Parse(Gzip(bytes), "lie.gz"));
        Assert.Contains("truncated", e.Message);
        Assert.Throws<DataException>(() => IdxReader.Parse(bytes, "lie"));
    }

    static void OnlyDataException(byte[] bytes)
    {
        try { IdxReader.Parse(bytes, "fuzz").Dispose(); }
        catch (DataException e) { Assert.DoesNotContain('\n', e.Message); Assert.StartsWith("fuzz:", e.Message); }
    }

    [Fact]
    public void RandomBytesOnlyEverThrowDataException() =>
        Gen.Byte.Array[0, 64].Sample(OnlyDataException, iter: Fuzz.Iter(500));

    [Fact]
    public void TruncationsAreDataExceptions()
    {
        Gen.Int[0, Images.Length - 1].Sample(n => { Assert.Throws<DataException>(() => IdxReader.Parse(Images[..n], "t")); }, iter: Fuzz.Iter(200));
        Gen.Int[0, ImagesGz.Length - 1].Sample(n => { Assert.Throws<DataException>(() => IdxReader.Parse(ImagesGz[..n], "t")); }, iter: Fuzz.Iter(200));
    }

    [Fact]
    public void HeaderAndByteMutationsOnlyEverThrowDataException()
    {
        foreach (var valid in new[] { Images, ImagesGz })
            Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, 15]).Sample((pos, value, headerPos) =>
            {
                var copy = (byte[])valid.Clone();
                copy[pos] = value;
                copy[Math.Min(headerPos, copy.Length - 1)] ^= value;
                OnlyDataException(copy);
            }, iter: Fuzz.Iter(500));
    }

    [Fact]
    public void TrailingBytesAreRejected()
    {
        var e = Assert.Throws<DataException>(() => IdxReader.Parse([.. Images, 0], "extra"));
        Assert.Contains("trailing", e.Message);
    }

    [Fact]
    public void SplitsWithMismatchedCountsOrBadLabelsAreRejected()
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllBytes(dir.File("train-images-idx3-ubyte.gz"), ImagesGz);
        System.IO.File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), Idx([2], _ => 1));
        Assert.Contains("2 labels", Assert.Throws<DataException>(() => IdxReader.ReadSplit(dir.Path, test: false)).Message);
        System.IO.File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), Idx([3], i => (byte)(i * 10)));
        Assert.Contains("outside 0..9", Assert.Throws<DataException>(() => IdxReader.ReadSplit(dir.Path, test: false)).Message);
        var missing = Assert.Throws<DataException>(() => IdxReader.ReadSplit(dir.Path, test: true, "mnist", "give mnist:DIR"));
        Assert.Contains("t10k-images-idx3-ubyte", missing.Message);
        Assert.Contains("give mnist:DIR", missing.Message);
    }

    [Trait("Category", "System")]
    [Fact]
    public void RealFashionMnistLoads()
    {
        using var train = DataSources.Load("fashion-mnist", new DataOptions());
        Assert.Equal(new long[] { 60000, 1, 28, 28 }, train.X.shape);
        Assert.True(train.IsImage);
        Assert.Equal(ScalarType.Float32, train.X.dtype);
        Assert.Equal(-1f, train.X.min().item<float>());
        Assert.Equal(1f, train.X.max().item<float>());
        Assert.Equal(new long[] { 1, 28, 28 }, train.ItemShape);
        using var counts = train.Labels!.bincount(null);
        Assert.Equal(Enumerable.Repeat(6000L, 10), counts.data<long>().ToArray());

        using var test = DataSources.Load("fashion-mnist:test", new DataOptions(Limit: 100));
        Assert.Equal(new long[] { 100, 1, 28, 28 }, test.X.shape);
        Assert.Equal(new long[] { 100 }, test.Labels!.shape);
    }
}
