using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Langevin.Adversarial;
using Langevin.Interop;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Tests.Models;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Interop;

/// <summary>
/// Import of state dicts PyTorch wrote (make_interop_fixtures.py) and export back: the imported network computes what
/// PyTorch computed, an export holds exactly the imported tensors in a valid safetensors file, and export → import →
/// export is byte-identical.
/// </summary>
[Collection(GlobalTorchRng.Name)]
public sealed class InteropTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-interop-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    internal static string Fixture(string name, [CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, name);

    string In(string name) => Path.Combine(_dir, name);

    /// <summary>Mirrors mlp_input() of make_interop_fixtures.py: x[b, d] = 2 sin(0.7 (2 b + d) + 0.3); t = [0, 3, 250, 700, 999].</summary>
    internal static (Tensor X, Tensor T) MlpInput()
    {
        var n = arange(10, dtype: float64);
        return ((2 * sin(0.7 * n + 0.3)).reshape(5, 2).to(float32), tensor(new float[] { 0, 3, 250, 700, 999 }));
    }

    /// <summary>Mirrors unet_input(): x[b, c, i, j] = sin(0.1 (64 c + 8 i + j) + b), b &lt; 2; t = [3, 700].</summary>
    internal static (Tensor X, Tensor T) UNetInput()
    {
        var n = arange(3 * 8 * 8, dtype: float64);
        return (stack([sin(0.1 * n), sin(0.1 * n + 1)]).reshape(2, 3, 8, 8).to(float32), tensor(new float[] { 3, 700 }));
    }

    /// <summary>Same shape, dtype and every element (torch.equal).</summary>
    static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    internal static float[] Expected(string stem) =>
        File.ReadAllLines(Fixture(stem + "_output.txt")).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Our network's output, as the run opens for sampling, on the fixture's input.</summary>
    internal static float[] Output(string runDir, string stem)
    {
        using var scope = NewDisposeScope();
        using var method = TrainedRuns.OpenRun(runDir);
        var network = (nn.Module<Tensor, Tensor, Tensor>)((SingleNetworkMethod)method).Network;
        var (x, t) = stem == "score_mlp" ? MlpInput() : UNetInput();
        using var _ = no_grad();
        return network.forward(x, t).flatten().data<float>().ToArray();
    }

    [Theory]
    [InlineData("score_mlp", "ScoreMlp")]
    [InlineData("unet", "UNet")]
    public void AnImportedPyTorchStateDictComputesWhatPyTorchComputed(string stem, string module)
    {
        var r = PyTorchStateDict.Import(Fixture(stem + ".safetensors"), Fixture(stem + ".json"), In("run"));
        Assert.Equal(0, r.Step);
        Assert.True(File.Exists(Path.Combine(r.RunDir, "config.json")));
        using (var method = TrainedRuns.OpenRun(r.RunDir))
            Assert.Equal(module, ((SingleNetworkMethod)method).Network.GetType().Name);
        float[] ours = Output(r.RunDir, stem), torchs = Expected(stem);
        Assert.Equal(torchs.Length, ours.Length);
        double worst = ours.Zip(torchs, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{stem}: {ours.Length} outputs, largest difference from PyTorch's {worst:G3}");
        Assert.True(worst < 1e-5, $"{stem}: largest difference from PyTorch's output {worst:G3}");
    }

    [Theory]
    [InlineData("score_mlp")]
    [InlineData("unet")]
    public void TheExportOfAnImportHoldsThePyTorchTensorsExactlyAsPlainF32(string stem)
    {
        PyTorchStateDict.Import(Fixture(stem + ".safetensors"), Fixture(stem + ".json"), In("run"));
        var e = PyTorchStateDict.Export(In("run"), In("export"));
        Assert.Equal((Path.Combine(In("export"), "model.safetensors"), "ema", 0L), (e.WeightsPath, e.Weights, e.Step));

        using var fixture = SafetensorsFile.Read(Fixture(stem + ".safetensors"));
        using var exported = SafetensorsFile.Read(e.WeightsPath);
        Assert.Equal(fixture.Tensors.Keys.Order(StringComparer.Ordinal), exported.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (k, t) in fixture.Tensors)
        {
            var ours = exported.Tensors[k];
            Assert.Equal(ScalarType.Float32, ours.dtype);
            using var want = t.to(float32);                 // the U-Net fixture is F16: its values, widened exactly
            Assert.True(Same(want, ours), $"{stem}: '{k}' differs");
        }
        Assert.Equal("pt", exported.Metadata["format"]);

        // a header PyTorch's loaders take: sorted keys, F32, offsets contiguous from 0 to the end of the file, 8-byte alignment
        var header = SafetensorsFile.ReadHeader(e.WeightsPath);
        byte[] bytes = File.ReadAllBytes(e.WeightsPath);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).Where(p => p != "__metadata__").ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        long offset = 0;
        foreach (var entry in header.Entries.OrderBy(x => x.Begin))
        {
            Assert.Equal("F32", entry.Dtype);
            Assert.Equal(offset, entry.Begin);
            offset = entry.End;
        }
        Assert.Equal(bytes.Length, header.DataStart + offset);
        if (stem == "score_mlp")   // PyTorch's F32 file and ours are the same bytes: same key order, compact header, padding
            Assert.Equal(File.ReadAllBytes(Fixture(stem + ".safetensors")), bytes);

        var manifest = JsonDocument.Parse(File.ReadAllText(e.ConfigPath)).RootElement;
        var c = manifest.GetProperty("components")[0];
        Assert.Equal(("langevin-export/1", "", stem == "unet" ? "ReferenceUNet" : "ScoreMlp"),
            (manifest.GetProperty("format").GetString(), c.GetProperty("prefix").GetString(), c.GetProperty("pytorch_class").GetString()));
        var pyArgs = JsonDocument.Parse(File.ReadAllText(Fixture(stem + ".json"))).RootElement.GetProperty("components")[0].GetProperty("pytorch_args");
        Assert.True(JsonElement.DeepEquals(pyArgs, c.GetProperty("pytorch_args")), $"{stem}: pytorch_args {c.GetProperty("pytorch_args")} vs the script's {pyArgs}");
    }

    [Theory]
    [InlineData("score_mlp")]
    [InlineData("unet")]
    public void ExportImportExportIsByteIdentical(string stem)
    {
        PyTorchStateDict.Import(Fixture(stem + ".safetensors"), Fixture(stem + ".json"), In("a"));
        var first = PyTorchStateDict.Export(In("a"), In("export-a"));
        PyTorchStateDict.Import(first.WeightsPath, first.ConfigPath, In("b"));
        var second = PyTorchStateDict.Export(In("b"), In("export-b"));
        Assert.Equal(File.ReadAllBytes(first.WeightsPath), File.ReadAllBytes(second.WeightsPath));
        Assert.Equal(File.ReadAllText(first.ConfigPath), File.ReadAllText(second.ConfigPath));
        Assert.Equal(Output(In("a"), stem), Output(In("b"), stem));
    }

    /// <summary>A trained GAN: two components, keys NAME.key, the EMA (gen only) or --no-ema's raw weights, the step kept.</summary>
    [Fact]
    public void ARunOfSeveralComponentsExportsNamePrefixedKeysAndRoundTrips()
    {
        using var g = new Generator(11);
        using var data = randn([256, 2], generator: g) * 0.1 + 1;
        var config = new TrainConfig
        {
            Settings = new GanConfig(), Data = "test-points", Steps = 3, BatchSize = 32, CheckpointEvery = 3, SampleEvery = 0, LogEvery = 1,
            Seed = 1, Threads = 1, GradClip = 0, Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 2 },
        };
        var trained = Trainer.Run(new TrainRequest(config, In("gan"), Quiet: true, Previews: false), data);
        var ema = PyTorchStateDict.Export(In("gan"), In("ema"));
        var raw = PyTorchStateDict.Export(In("gan"), In("raw"), ema: false);
        Assert.Equal((3L, "raw"), (raw.Step, raw.Weights));
        Assert.Equal(["gen.", "disc."], ema.Components.Select(c => c.Prefix).Order(StringComparer.Ordinal).Reverse());

        using (var ckpt = Checkpoint.Load(trained.Checkpoint))
        using (var e = SafetensorsFile.Read(ema.WeightsPath))
        using (var w = SafetensorsFile.Read(raw.WeightsPath))
        {
            Assert.All(e.Tensors.Keys, k => Assert.True(k.StartsWith("gen.", StringComparison.Ordinal) || k.StartsWith("disc.", StringComparison.Ordinal), k));
            foreach (var (name, part) in ckpt.Components)
                foreach (var (k, t) in part.Weights)
                {
                    Assert.True(Same(w.Tensors[$"{name}.{k}"], t), $"raw {name}.{k}");
                    Assert.True(Same(e.Tensors[$"{name}.{k}"], part.SamplingWeights[k]), $"ema {name}.{k}");
                }
            Assert.Null(ckpt.For("disc").Ema);
            Assert.Contains(ckpt.For("gen").Weights, kv => !Same(kv.Value, ckpt.For("gen").Ema![kv.Key]));
        }

        var imported = PyTorchStateDict.Import(ema.WeightsPath, ema.ConfigPath, In("gan-imported"));
        Assert.Equal((3L, "gan"), (imported.Step, imported.Method));
        var again = PyTorchStateDict.Export(In("gan-imported"), In("ema-again"));
        Assert.Equal(File.ReadAllBytes(ema.WeightsPath), File.ReadAllBytes(again.WeightsPath));
        Assert.Equal(File.ReadAllText(ema.ConfigPath), File.ReadAllText(again.ConfigPath));
        using var method = TrainedRuns.OpenRun(In("gan-imported"));
        using var sg = new Generator(5);
        using var samples = method.Sample(16, sg);
        Assert.Equal([16L, 2], samples.shape);
        Assert.True(isfinite(samples).all().item<bool>());
    }

    [Fact]
    public void F64AndBF16AreConvertedAndARefusedImportLeavesNoFolder()
    {
        using var fixture = SafetensorsFile.Read(Fixture("score_mlp.safetensors"));
        SafetensorsFile.Write(In("f64.safetensors"), fixture.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(float64)));
        PyTorchStateDict.Import(In("f64.safetensors"), Fixture("score_mlp.json"), In("f64"));
        Assert.Equal(Expected("score_mlp").Length, Output(In("f64"), "score_mlp").Length);

        SafetensorsFile.Write(In("bf16.safetensors"), fixture.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(bfloat16)));
        PyTorchStateDict.Import(In("bf16.safetensors"), Fixture("score_mlp.json"), In("bf16"));

        var big = fixture.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(float64));
        big["net.0.bias"] = big["net.0.bias"] * 1e300;       // finite in F64, Inf in F32
        SafetensorsFile.Write(In("big.safetensors"), big);
        var e = Assert.Throws<DataException>(() => PyTorchStateDict.Import(In("big.safetensors"), Fixture("score_mlp.json"), In("big")));
        Assert.Contains("'net.0.bias' holds NaN or Inf values as Float32", e.Message);
        Assert.False(Directory.Exists(In("big")));
        Assert.Empty(Directory.EnumerateDirectories(_dir, ".*"));    // no temporary folder either
    }
}
