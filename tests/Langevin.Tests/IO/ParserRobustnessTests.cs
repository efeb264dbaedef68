using CsCheck;
using Langevin.IO;
using TorchSharp;

namespace Langevin.Tests.IO;

/// <summary>
/// Untrusted files reach <see cref="NpyFile.Parse"/> and <see cref="SafetensorsFile.Parse"/>: whatever the bytes,
/// the only exception allowed out is <see cref="DataException"/> (never IndexOutOfRange, Overflow, Json, Argument...).
/// </summary>
public sealed class ParserRobustnessTests
{
    static void Npy(byte[] bytes)
    {
        try { NpyFile.Parse(bytes, "fuzz.npy").Dispose(); }
        catch (DataException ex) { Assert.DoesNotContain('\n', ex.Message); }
    }

    static void Safetensors(byte[] bytes)
    {
        try { SafetensorsFile.Parse(bytes, "fuzz.safetensors").Dispose(); }
        catch (DataException ex) { Assert.DoesNotContain('\n', ex.Message); }
    }

    static byte[] ValidNpy()
    {
        using var t = torch.arange(6, dtype: torch.ScalarType.Float32).reshape(2, 3);
        return NpyFile.ToBytes(t);
    }

    static byte[] ValidSafetensors()
    {
        using var a = torch.arange(6, dtype: torch.ScalarType.Float32).reshape(2, 3);
        using var b = torch.ones(3, dtype: torch.ScalarType.Bool);
        using var c = torch.zeros(2, dtype: torch.ScalarType.Int64);
        return SafetensorsFile.ToBytes(new Dictionary<string, torch.Tensor> { ["a"] = a, ["b"] = b, ["c"] = c },
            new Dictionary<string, string> { ["format"] = "pt" });
    }

    static int SafetensorsHeaderEnd(byte[] file) => 8 + (int)BitConverter.ToUInt64(file, 0);

    [Fact]
    public void RandomBytes()
    {
        Gen.Byte.Array[0, 200].Sample(Npy, iter: Fuzz.Iter(3000));
        Gen.Byte.Array[0, 200].Sample(Safetensors, iter: Fuzz.Iter(3000));
        // Random bytes behind a plausible prefix get past the magic / length checks.
        var npyPrefix = ValidNpy()[..8];
        Gen.Byte.Array[0, 200].Sample(tail => Npy([.. npyPrefix, .. tail]), iter: Fuzz.Iter(2000));
        Gen.Byte.Array[0, 200].Sample(tail => Safetensors([(byte)tail.Length, 0, 0, 0, 0, 0, 0, 0, .. tail]), iter: Fuzz.Iter(2000));
    }

    [Fact]
    public void EveryTruncation()
    {
        var npy = ValidNpy();
        for (int n = 0; n < npy.Length; n++) Assert.Throws<DataException>(() => NpyFile.Parse(npy.AsSpan(0, n), "t.npy"));
        var st = ValidSafetensors();
        for (int n = 0; n < st.Length; n++) Assert.Throws<DataException>(() => SafetensorsFile.Parse(st.AsSpan(0, n), "t.safetensors"));
    }

    [Fact]
    public void EverySingleByteMutationOfTheHeader()
    {
        var npy = ValidNpy();
        int npyHeaderEnd = npy.Length - 24;
        var st = ValidSafetensors();
        int stHeaderEnd = SafetensorsHeaderEnd(st);
        foreach (var (file, end, parse) in new[] { (npy, npyHeaderEnd, (Action<byte[]>)Npy), (st, stHeaderEnd, Safetensors) })
            for (int i = 0; i < end; i++)
            {
                var copy = (byte[])file.Clone();
                for (int v = 0; v < 256; v++)
                {
                    copy[i] = (byte)v;
                    parse(copy);
                }
            }
    }

    [Fact]
    public void RandomMultiByteMutations()
    {
        var npy = ValidNpy();
        var st = ValidSafetensors();
        int stEnd = SafetensorsHeaderEnd(st);
        // Up to 4 bytes overwritten with characters that keep the header text-like, so more mutants parse deeper.
        var chars = Gen.OneOf(Gen.Byte, Gen.OneOfConst("0123456789,:[]{}\" -.eE".Select(c => (byte)c).ToArray()));
        Gen.Select(Gen.Int[0, npy.Length - 25], chars).Array[1, 4].Sample(edits =>
        {
            var copy = (byte[])npy.Clone();
            foreach (var (i, v) in edits) copy[i] = v;
            Npy(copy);
        }, iter: Fuzz.Iter(3000));
        Gen.Select(Gen.Int[0, stEnd - 1], chars).Array[1, 4].Sample(edits =>
        {
            var copy = (byte[])st.Clone();
            foreach (var (i, v) in edits) copy[i] = v;
            Safetensors(copy);
        }, iter: Fuzz.Iter(3000));
    }
}
