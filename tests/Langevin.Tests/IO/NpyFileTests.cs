using System.Text;
using Langevin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.IO;

public sealed class NpyFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("langevin-npy-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>What <c>numpy.save(f, np.arange(6, dtype=np.float32).reshape(2, 3))</c> writes (format 1.0).</summary>
    internal static byte[] ReferenceFile()
    {
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        // numpy pads with spaces (20 spare for growing the first axis, then to alignment) and '\n' so that
        // magic + version + length (10 bytes) + header is a multiple of 64: here 128.
        string header = dict.PadRight(128 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < 6; i++) bytes.AddRange(BitConverter.GetBytes((float)i));
        return bytes.ToArray();
    }

    [Fact]
    public void WritesExactlyWhatNumpySaveWrites()
    {
        using var t = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        byte[] expected = ReferenceFile();
        Assert.Equal(128 + 24, expected.Length);
        Assert.Equal(expected, NpyFile.ToBytes(t));
        using var back = NpyFile.Parse(expected, "ref.npy");
        Assert.True(TensorAssert.Same(t, back));
    }

    public static TheoryData<string, long[]> Cases => new()
    {
        { "f4", [2, 3] }, { "f4", [5] }, { "f4", [0] }, { "f4", [3, 0, 2] }, { "f4", [] },
        { "f8", [4, 1] }, { "f8", [7] }, { "f8", [0, 3] },
        { "u1", [2, 2, 3] }, { "u1", [9] }, { "u1", [0] },
    };

    [Theory, MemberData(nameof(Cases))]
    public void RoundTrips(string kind, long[] shape)
    {
        using var scope = NewDisposeScope();
        var r = randn(shape, generator: new Generator(seed: 3)) * 50;
        Tensor t = kind switch { "f4" => r, "f8" => r.to_type(ScalarType.Float64), _ => r.abs().to_type(ScalarType.Byte) };
        string path = Path.Combine(dir, $"{kind}-{string.Join("x", shape)}.npy");
        NpyFile.Write(path, t);
        var back = NpyFile.Read(path);
        Assert.Equal(t.dtype, back.dtype);
        Assert.Equal(t.shape, back.shape);
        Assert.True(TensorAssert.Same(t, back));
        Assert.Equal(0, (File.ReadAllBytes(path).Length - t.numel() * t.ElementSize) % 64);
    }

    [Theory]
    [InlineData(ScalarType.Int32, "<i4")]
    [InlineData(ScalarType.Int64, "<i8")]
    public void IntegerArraysRoundTripOnlyWhenAsked(ScalarType dtype, string descr)
    {
        using var t = tensor(new long[] { -3, 0, 1, long.MaxValue >> 40, 7, 2 }, [2, 3]).to_type(dtype);
        byte[] bytes = NpyFile.ToBytes(t);
        Assert.Contains($"'descr': '{descr}'", Encoding.Latin1.GetString(bytes));
        using var back = NpyFile.Parse(bytes, "y.npy", integers: true);
        Assert.Equal(dtype, back.dtype);
        Assert.True(TensorAssert.Same(t, back));
        var ex = Assert.Throws<DataException>(() => NpyFile.Parse(bytes, "y.npy"));
        Assert.Equal($"y.npy: not a valid .npy file (dtype '{descr}' is not supported (use <f4, <f8 or |u1)); write it with numpy.save as float32, float64 or uint8", ex.Message);
    }

    [Fact]
    public void WrappingShapeProductsAreRejected()
    {
        // 2 · 2^62 · 2 wraps to 0 in 64-bit arithmetic: it must not pass as an empty array.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4611686018427387904, 2), }";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(dict.Length + 1), 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(dict + "\n"));
        var ex = Assert.Throws<DataException>(() => NpyFile.Parse(bytes.ToArray(), "w.npy"));
        Assert.StartsWith("w.npy: not a valid .npy file (array too large)", ex.Message);
    }

    [Fact]
    public void MissingFileIsADataError()
    {
        string path = Path.Combine(dir, "missing.npy");
        Assert.Equal($"{path}: file not found", Assert.Throws<DataException>(() => NpyFile.Read(path)).Message);
    }
}
