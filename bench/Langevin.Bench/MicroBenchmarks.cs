using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Langevin.Metrics;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Bench;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the hot paths: one sampler step's own overhead (the exact mixture denoiser is
/// nearly free, so a DDIM/UniPC step over it measures the sampler's tensor algebra) beside one forward of the 2-D MLP
/// and of the reference U-Net; and the 2-D metrics on 10,000 samples.
/// </summary>
[MemoryDiagnoser]
public class HotPaths
{
    GaussianMixtureScore _mixture = null!;
    ScoreMlp _mlp = null!;
    UNet _unet = null!;
    Tensor _points = null!, _reference = null!, _t = null!, _images = null!, _timages = null!;
    double[] _twoSteps = [], _uniSigmas = [];
    Generator _gen = null!;

    [GlobalSetup]
    public void Setup()
    {
        Langevin.Training.ComputeDevice.SetThreads(Environment.ProcessorCount);   // as the CLI does
        manual_seed(0);
        _mixture = new GaussianMixtureScore([0.3, 0.7], [[-1.5, 0.5], [1.5, -0.5]], 0.4, ScalarType.Float32);
        _mlp = new ScoreMlp();
        _mlp.eval();
        _unet = new UNet(UNetConfig.Reference);
        _unet.eval();
        _points = randn(10_000, 2);
        _reference = randn(10_000, 2);
        _t = full([10_000], 500f);
        _images = randn(32, 1, 28, 28);
        _timages = full([32], 500f);
        _twoSteps = [1.0, 0.5, 0];
        _uniSigmas = [1.0, 0.7, 0.5, 0];
        _gen = new Generator(0);
    }

    [Benchmark(Description = "DDIM step over the exact mixture (10,000 points)")]
    public void DdimStep() { using var x = DiffusionSamplers.Ddim(_mixture, _points, _twoSteps); }

    [Benchmark(Description = "UniPC 3 steps over the exact mixture (10,000 points)")]
    public void UniPcSteps() { using var x = DiffusionSamplers.UniPc(_mixture, _points, _uniSigmas); }

    [Benchmark(Description = "exact mixture denoiser alone (10,000 points)")]
    public void MixtureDenoise() { using var s = full([10_000], 0.5f); using var d = _mixture.Denoise(_points, s); }

    [Benchmark(Description = "MLP forward (3×256, 10,000 points)")]
    public void MlpForward() { using var _ = no_grad(); using var y = _mlp.forward(_points, _t); }

    [Benchmark(Description = "reference U-Net forward (batch 32)")]
    public void UNetForward() { using var _ = no_grad(); using var y = _unet.forward(_images, _timages); }

    [Benchmark(Description = "sliced Wasserstein, 10,000 vs 10,000, 256 projections")]
    public double SlicedWasserstein2() => SlicedWasserstein.Distance(_points, _reference, 256, _gen);

    [Benchmark(Description = "MMD² (RBF, 3 bandwidths), 10,000 vs 10,000")]
    public double Mmd() => MaximumMeanDiscrepancy.Squared(_points, _reference, MaximumMeanDiscrepancy.DefaultBandwidths(_reference));
}

internal static class MicroBenchmarks
{
    /// <summary>Runs <see cref="HotPaths"/> in-process with a short job and prints the medians as JSON (last line).</summary>
    public static int Run(string[] args)
    {
        var job = Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5);
        var config = ManualConfig.CreateMinimumViable().AddJob(job).WithOptions(ConfigOptions.DisableLogFile);
        Summary summary = BenchmarkRunner.Run<HotPaths>(config, args);
        var json = new JsonObject();
        foreach (var report in summary.Reports)
            if (report.ResultStatistics is { } stats)
                json[report.BenchmarkCase.Descriptor.WorkloadMethod.Name + "_median_us"] = Math.Round(stats.Median / 1000, 1);
        Console.WriteLine(json.ToJsonString());
        return summary.HasCriticalValidationErrors ? 1 : 0;
    }
}
