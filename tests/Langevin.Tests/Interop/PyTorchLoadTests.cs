using System.Diagnostics;
using System.Globalization;
using Langevin.Interop;
using Langevin.Methods;
using Langevin.Tests.Models;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Interop;

/// <summary>
/// Runs trained here, exported, and loaded by PyTorch itself (Debian's python3-torch, which tests/system.sh installs):
/// make_interop_fixtures.py check builds the PyTorch class the export names, load_state_dict(strict=True), and prints its
/// output on the fixture input, which must equal ours.
/// </summary>
[Trait("Category", "System")]
[Collection(GlobalTorchRng.Name)]
public sealed class PyTorchLoadTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-pytorch-load-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    [Theory]
    [InlineData("score_mlp")]
    [InlineData("unet")]
    public async Task PyTorchLoadsOurExportStrictlyAndComputesWhatWeCompute(string stem)
    {
        bool mlp = stem == "score_mlp";
        using var g = new Generator(3);
        using var data = mlp ? randn([256, 2], generator: g) : randn([32, 3, 8, 8], generator: g).clamp(-1, 1);
        var config = new TrainConfig
        {
            Settings = new DdpmConfig(), Data = "test-data", Steps = 3, BatchSize = 8, CheckpointEvery = 3, SampleEvery = 0, LogEvery = 1,
            Seed = 2, Threads = 1, EmaDecay = 0.5,
            Network = mlp ? new NetworkConfig { Kind = "mlp", Width = 16, Depth = 2, FourierFeatures = 6 }
                          : new NetworkConfig { Kind = "unet", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1, AttnResolutions = [], Dropout = 0 },
        };
        string run = Path.Combine(_dir, "run"), export = Path.Combine(_dir, "export");
        Trainer.Run(new TrainRequest(config, run, Quiet: true, Previews: false), data);
        PyTorchStateDict.Export(run, export);

        string printed = await Python("check", export);
        float[] torchs = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        float[] ours = InteropTests.Output(run, stem);
        Assert.Equal(ours.Length, torchs.Length);
        double worst = ours.Zip(torchs, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{stem}: {ours.Length} outputs, largest difference between PyTorch and us {worst:G3}");
        Assert.True(worst < 1e-5, $"{stem}: PyTorch's output differs from ours by up to {worst:G3}");
    }

    /// <summary>
    /// python/langevin_torch.py, the module users load exports with, reproduces the committed fixtures' outputs from
    /// their weights: those were computed by the benchmark's PyTorch peer (shared/peers/torch_unet.py), so its
    /// ReferenceUNet is that network, not only a network our export happens to load into.
    /// </summary>
    [Fact]
    public async Task TheUsersPyTorchModuleReproducesTheOutputsOfTheNetworksThatMadeTheFixtures()
    {
        string printed = await Python("fixtures");
        output.WriteLine(printed);
        Assert.Contains("score_mlp: 10 outputs", printed);
        Assert.Contains("unet: 384 outputs", printed);
    }

    /// <summary>Runs make_interop_fixtures.py with these arguments; its standard output, or a failure with its stderr.</summary>
    static async Task<string> Python(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(InteropTests.Fixture("make_interop_fixtures.py"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(timeout.Token);
        Assert.True(p.ExitCode == 0, $"python3 (needs python3-torch) failed: {await stderr}");
        return await stdout;
    }
}
