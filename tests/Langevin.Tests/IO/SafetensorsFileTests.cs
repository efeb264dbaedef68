using System.Buffers.Binary;
using System.Text;
using Langevin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.IO;

public sealed class SafetensorsFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("langevin-st-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Builds a file the way the reference writer does: u64 LE length, JSON padded with spaces to 8, data.</summary>
    internal static byte[] Build(string json, byte[] data, bool pad = true)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        int n = pad ? (header.Length + 7) / 8 * 8 : header.Length;
        var bytes = new byte[8 + n + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)n);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, n - header.Length).Fill((byte)' ');
        data.CopyTo(bytes, 8 + n);
        return bytes;
    }

    static byte[] F32(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>What <c>safetensors.torch.save_file({"bias": ..., "weight": ...}, f, metadata={"format": "pt"})</c> writes.</summary>
    internal static byte[] ReferenceFile() => Build(
        """{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}""",
        F32(0.5f, -1f, 1f, 2f, 3f, 4f));

    [Fact]
    public void WritesTheReferenceBytes()
    {
        using var bias = tensor(new[] { 0.5f, -1f });
        using var weight = tensor(new[] { 1f, 2f, 3f, 4f }, [2, 2]);
        // Insertion order differs from name order on purpose.
        var tensors = new Dictionary<string, Tensor> { ["weight"] = weight, ["bias"] = bias };
        byte[] written = SafetensorsFile.ToBytes(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(ReferenceFile(), written);
        Assert.Equal(0, (written.Length - 8 - 24) % 8);
    }

    [Fact]
    public void ReadsTheReferenceBytes()
    {
        using var c = SafetensorsFile.Parse(ReferenceFile(), "ref.safetensors");
        Assert.Equal("pt", c.Metadata["format"]);
        Assert.Equal([2L, 2L], c.Tensors["weight"].shape);
        Assert.Equal([1f, 2f, 3f, 4f], c.Tensors["weight"].data<float>().ToArray());
        Assert.Equal([0.5f, -1f], c.Tensors["bias"].data<float>().ToArray());
    }

    [Fact]
    public void ReadsEntriesInAnyOrderAndUnpaddedHeaders()
    {
        // The reference writer puts wider dtypes first; our reader must not assume name order.
        byte[] data = [.. BitConverter.GetBytes(7L), .. F32(1f, 2f)];
        var bytes = Build("""{"b":{"dtype":"I64","shape":[1,1],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", data, pad: false);
        using var c = SafetensorsFile.Parse(bytes, "x");
        Assert.Empty(c.Metadata);
        Assert.Equal(7L, c.Tensors["b"].item<long>());
        Assert.Equal(ScalarType.Int64, c.Tensors["b"].dtype);
        Assert.Equal([1f, 2f], c.Tensors["a"].data<float>().ToArray());
    }

    public static TheoryData<string> Dtypes => ["F32", "F64", "F16", "BF16", "I64", "I32", "U8", "BOOL"];

    static Tensor Sample(string dtype, long[] shape)
    {
        using var g = new Generator(seed: 1);
        using var r = randn(shape, generator: g) * 10;
        return dtype switch
        {
            "F32" => r.to_type(ScalarType.Float32),
            "F64" => r.to_type(ScalarType.Float64),
            "F16" => r.to_type(ScalarType.Float16),
            "BF16" => r.to_type(ScalarType.BFloat16),
            "I64" => r.to_type(ScalarType.Int64),
            "I32" => r.to_type(ScalarType.Int32),
            "U8" => r.abs().to_type(ScalarType.Byte),
            "BOOL" => r.gt(0),
            _ => throw new ArgumentException(dtype),
        };
    }

    [Theory, MemberData(nameof(Dtypes))]
    public void RoundTripsEachDtype(string dtype)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["m.weight"] = Sample(dtype, [3, 4]),
            ["scalar"] = Sample(dtype, []),
            ["empty"] = Sample(dtype, [0, 5]),
            ["v"] = Sample(dtype, [7]),
        };
        string path = Path.Combine(dir, $"{dtype}.safetensors");
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["step"] = "12", ["note"] = "é \"q\"\n" });
        using var c = SafetensorsFile.Read(path);
        Assert.Equal("12", c.Metadata["step"]);
        Assert.Equal("é \"q\"\n", c.Metadata["note"]);
        Assert.Equal(tensors.Keys.Order(), c.Tensors.Keys.Order());
        foreach (var (name, t) in tensors)
        {
            var back = c.Tensors[name];
            Assert.Equal(t.dtype, back.dtype);
            Assert.Equal(t.shape, back.shape);
            Assert.True(TensorAssert.Same(t, back), $"{dtype} {name} differs");
        }
        var header = SafetensorsFile.ReadHeader(path);
        Assert.Equal(4, header.Entries.Count);
        Assert.Equal(new FileInfo(path).Length, header.DataStart + header.Entries.Max(e => e.End));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void WritesNonContiguousTensorsByValueAndEmptyDictionaries()
    {
        using var t = arange(6, dtype: ScalarType.Float32).reshape(2, 3).t();
        var bytes = SafetensorsFile.ToBytes(new Dictionary<string, Tensor> { ["t"] = t });
        using var c = SafetensorsFile.Parse(bytes, "x");
        Assert.True(TensorAssert.Same(t, c.Tensors["t"]));
        using var none = SafetensorsFile.Parse(SafetensorsFile.ToBytes(new Dictionary<string, Tensor>()), "x");
        Assert.Empty(none.Tensors);
    }

    [Fact]
    public void RejectsUnsupportedDtypesOnWrite()
    {
        using var t = ones(2, dtype: ScalarType.Int16);
        Assert.Throws<ArgumentException>(() => SafetensorsFile.ToBytes(new Dictionary<string, Tensor> { ["t"] = t }));
    }

    public static TheoryData<string, string, int, string> BadHeaders => new()
    {
        { "[]", "", 0, "not a JSON object" },
        { "{\"a\":", "", 0, "not valid UTF-8 JSON" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "", 4, "ends at byte 8" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "", 8, "needs 12 bytes" },
        { """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "", 8, "not a non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""", "", 8, "not a non-negative integer" },
        { """{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""", "", 8, "unsupported dtype 'C64'" },
        { """{"a":{"dtype":"F32","shape":[2]}}""", "", 8, "lacks dtype, shape or data_offsets" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}""", "", 8, "not [begin, end]" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "", 8, "end before they begin" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "", 12, "overlaps" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "", 12, "belong to no tensor" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "", 12, "the tensors cover 8" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "", 16, "twice" },
        { """{"__metadata__":{"k":1}}""", "", 0, "is not a string" },
        { """{"__metadata__":[]}""", "", 0, "not an object of strings" },
        { """{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}""", "", 0, "impossibly large" },
        { """{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}""", "", 1, "holds byte 2" },
        { """{"a\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", "", 1, "not valid Unicode" },
    };

    [Theory, MemberData(nameof(BadHeaders))]
    public void RejectsBadHeadersWithOneLine(string json, string _, int dataBytes, string expected)
    {
        var data = Enumerable.Repeat((byte)2, dataBytes).ToArray();
        var ex = Assert.Throws<DataException>(() => SafetensorsFile.Parse(Build(json, data), "bad.safetensors").Dispose());
        Assert.StartsWith("bad.safetensors: not a valid safetensors file (", ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.EndsWith("; re-save it", ex.Message);
    }

    [Fact]
    public void RejectsBadHeaderLengths()
    {
        var huge = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, 9999999);
        var ex = Assert.Throws<DataException>(() => SafetensorsFile.Parse(huge, "f"));
        Assert.Equal("f: not a valid safetensors file (header length 9999999 exceeds the file); re-save it", ex.Message);
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        Assert.Contains("100000000-byte limit", Assert.Throws<DataException>(() => SafetensorsFile.Parse(huge, "f")).Message);
        Assert.Contains("shorter than", Assert.Throws<DataException>(() => SafetensorsFile.Parse(new byte[3], "f")).Message);
    }

    [Fact]
    public void MissingFileIsADataError()
    {
        string path = Path.Combine(dir, "nope.safetensors");
        Assert.Equal($"{path}: file not found", Assert.Throws<DataException>(() => SafetensorsFile.Read(path)).Message);
        Assert.Throws<DataException>(() => SafetensorsFile.ReadHeader(path));
    }
}
