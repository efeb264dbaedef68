using Langevin.IO;
using Langevin.Tests.Cli;
using static TorchSharp.torch;

namespace Langevin.Tests.Interop;

/// <summary>
/// `langevin export` / `langevin import` as a user runs them: an imported PyTorch state dict samples and reports; bad
/// input is one line on stderr with exit code 1 (data) or 2 (usage), no stack trace, and no run folder left behind.
/// </summary>
public sealed class InteropCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-interop-cli-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    string In(string name) => Path.Combine(_dir, name);

    static readonly string Weights = InteropTests.Fixture("score_mlp.safetensors"), Config = InteropTests.Fixture("score_mlp.json");

    CliRunner.Result Import(string weights, string config, string run = "run") =>
        CliRunner.Run("import", "--weights", weights, "--config", config, "--out", In(run));

    /// <summary>The fixture's tensors changed by <paramref name="edit"/>, written to a new file.</summary>
    string Edited(string name, Action<Dictionary<string, Tensor>> edit)
    {
        using var fixture = SafetensorsFile.Read(Weights);
        var tensors = fixture.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        edit(tensors);
        string path = In(name);
        SafetensorsFile.Write(path, tensors);
        foreach (var t in tensors.Values) t.Dispose();
        return path;
    }

    void AssertRefused(CliRunner.Result r, int exitCode, string mustContain, string run = "run")
    {
        CliRunner.AssertFails(r, exitCode, mustContain);
        Assert.False(Directory.Exists(In(run)), $"{run} was left behind");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir, ".*"));   // nor a temporary folder
    }

    [Fact]
    public void AnImportedPyTorchRunSamplesReportsAndExports()
    {
        var i = Import(Weights, Config);
        Assert.True(i.ExitCode == 0, i.Stderr);
        Assert.Contains("imported 6 tensors", i.Stdout);
        var s = CliRunner.Run("sample", "--run", In("run"), "--n", "32", "--out", In("s.npy"), "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        Assert.True(File.Exists(In("s.npy")));
        var r = CliRunner.Run("report", In("run"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var e = CliRunner.Run("export", "--run", In("run"), "--out", In("export"), "--no-ema");
        Assert.True(e.ExitCode == 0, e.Stderr);
        Assert.Contains("raw weights of step 0", e.Stdout);
        Assert.Equal(File.ReadAllBytes(Weights), File.ReadAllBytes(Path.Combine(In("export"), "model.safetensors")));
        // exporting over a run would replace its files: refused
        CliRunner.AssertFailsWith(CliRunner.Run("export", "--run", In("run"), "--out", In("run")), 2, $"--out: {In("run")} holds a run; export into a folder of its own");
    }

    [Fact]
    public void AMissingKeyIsNamedWithTheFile()
    {
        string w = Edited("missing.safetensors", t => t.Remove("net.2.bias"));
        AssertRefused(Import(w, Config), 1, $"error: {w}: lacks 'net.2.bias' (the network {Config} describes)");
    }

    [Fact]
    public void AnUnexpectedKeyIsNamed()
    {
        string w = Edited("extra.safetensors", t => t["net.9.weight"] = zeros(2, 2));
        AssertRefused(Import(w, Config), 1, $"{w}: has 'net.9.weight', which the network lacks");
    }

    [Fact]
    public void AWrongShapeIsNamed()
    {
        string w = Edited("shape.safetensors", t => t["net.4.weight"] = zeros(3, 16));
        AssertRefused(Import(w, Config), 1, $"{w}: has 'net.4.weight' of shape [3, 16], the network's is [2, 16]");
    }

    [Fact]
    public void ATruncatedFileIsADataError()
    {
        byte[] bytes = File.ReadAllBytes(Weights);
        string w = In("truncated.safetensors");
        File.WriteAllBytes(w, bytes[..(bytes.Length - 100)]);
        AssertRefused(Import(w, Config), 1, $"error: {w}: not a valid safetensors file");
        File.WriteAllBytes(w, bytes[..5]);
        AssertRefused(Import(w, Config), 1, $"{w}: not a valid safetensors file (file of 5 bytes is shorter than the 8-byte header length)");
    }

    [Fact]
    public void ANaNWeightIsRefused()
    {
        string w = Edited("nan.safetensors", t => t["net.0.weight"][3, 5].fill_(float.NaN));
        AssertRefused(Import(w, Config), 1, $"error: {w}: tensor 'net.0.weight' holds NaN or Inf values");
    }

    [Fact]
    public void AnIntegerTensorIsRefused()
    {
        string w = Edited("int.safetensors", t => t["net.0.bias"] = zeros(16, dtype: int64));
        AssertRefused(Import(w, Config), 1, $"{w}: tensor 'net.0.bias' is Int64, the network's is Float32; re-save it as F32");
    }

    [Fact]
    public void AWrongConfigIsRefused()
    {
        // the config of another width: every layer is mis-shaped, the first is named
        string wide = In("wide.json");
        File.WriteAllText(wide, File.ReadAllText(Config).Replace("\"width\": 16", "\"width\": 32"));
        AssertRefused(Import(Weights, wide), 1, $"{Weights}: has 'net.0.weight' of shape [16, 58], the network's is [32, 58]");
        // the U-Net's config with the MLP's weights
        AssertRefused(Import(Weights, InteropTests.Fixture("unet.json")), 1, $"{Weights}: lacks 'temb.0.weight'");
        // a run's config.json is not an export config
        string runConfig = In("config.json");
        File.WriteAllText(runConfig, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Config)).RootElement.GetProperty("config").GetRawText());
        AssertRefused(Import(Weights, runConfig), 1, $"{runConfig}: not a langevin-export/1 export config (it is a run's config.json");
        // an invalid run config inside
        string bad = In("bad.json");
        File.WriteAllText(bad, File.ReadAllText(Config).Replace("\"timesteps\": 1000", "\"timesteps\": -5"));
        AssertRefused(Import(Weights, bad), 1, $"{bad}: its stored config is invalid");
        string broken = In("broken.json");
        File.WriteAllText(broken, File.ReadAllText(Config)[..200]);
        AssertRefused(Import(Weights, broken), 1, $"{broken}: not valid JSON");
    }

    [Fact]
    public void UsageErrorsExitTwo()
    {
        CliRunner.AssertFailsWith(CliRunner.Run("import", "--weights", Weights, "--out", In("run")), 2, "import: give its export config: --config CONFIG.json");
        CliRunner.AssertFailsWith(CliRunner.Run("export", "--out", In("x")), 2, "export: give the run folder: langevin export --run RUN --out DIR");
        CliRunner.AssertFailsWith(CliRunner.Run("export", "--run", In("nothing"), "--out", In("x")), 2, $"--run: {In("nothing")} is not a folder");
        CliRunner.AssertFails(CliRunner.Run("import", "--weights", In("absent.safetensors"), "--config", Config, "--out", In("run")), 1, "absent.safetensors: file not found");
        Directory.CreateDirectory(In("taken"));
        File.WriteAllText(Path.Combine(In("taken"), "keep.txt"), "mine");
        CliRunner.AssertFailsWith(Import(Weights, Config, "taken"), 2, $"--out: {In("taken")} already exists; import into a new folder");
        Assert.Equal("mine", File.ReadAllText(Path.Combine(In("taken"), "keep.txt")));
        Assert.False(Directory.Exists(In("x")));
    }

    [Fact]
    public void HelpSaysWhatTheCommandsDo()
    {
        var e = CliRunner.Run("export", "--help");
        Assert.Equal(0, e.ExitCode);
        Assert.Contains("langevin export --run RUN --out DIR [--no-ema]", e.Stdout);
        Assert.Contains("model.safetensors and model.json", e.Stdout);
        var i = CliRunner.Run("import", "--help");
        Assert.Equal(0, i.ExitCode);
        Assert.Contains("langevin import --weights FILE.safetensors --config CONFIG.json --out RUN", i.Stdout);
        var overview = CliRunner.Run("--help").Stdout;
        Assert.Contains("  export ", overview);
        Assert.Contains("  import ", overview);
    }
}
