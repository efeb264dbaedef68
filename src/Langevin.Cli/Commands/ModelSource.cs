using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>Loads a trained method from `--run RUN` (its latest checkpoint) or `--checkpoint FILE`, with EMA weights by default.</summary>
public static class ModelSource
{
    public static readonly IReadOnlyList<OptionSpec> Specs =
    [
        new("run", "RUN", "a run folder (uses its latest checkpoint)"),
        new("checkpoint", "FILE", "a checkpoint .safetensors file"),
        new("no-ema", null, "use the raw weights instead of their EMA"),
        new("seed", "S", "random seed (default 0)"),
        new("device", "cpu|cuda", "compute device (default cpu)"),
        new("threads", "N", "CPU threads (default: the core count)"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
    ];

    /// <summary>--grid FILE.png and/or --out FILE.npy, at least one: where an image task writes (inpaint, interpolate).</summary>
    public static (string? Grid, string? Out) ImageOutputs(ParsedArgs a, string command)
    {
        string? grid = a.String("grid"), output = a.String("out");
        if (grid is null && output is null) throw new UsageException($"{command}: give --grid FILE.png and/or --out FILE.npy");
        return (grid, output);
    }

    /// <summary>Sets threads, resolves the device, loads the model onto it and makes the seeded generator there.</summary>
    public static (IGenerativeMethod Method, Generator Generator) Open(ParsedArgs a, string command)
    {
        ComputeDevice.SetThreads(a.Int("threads"));
        var device = ComputeDevice.Resolve(a.String("device", "cpu"));
        var method = Load(a, command);
        method.To(device);
        return (method, new Generator((ulong)(a.Int("seed") ?? 0), device));
    }

    /// <summary>
    /// `--model analytic:FILE.json` (null when --model is absent): the exact Gaussian-mixture denoiser in `--dtype`
    /// (default <paramref name="defaultDtype"/>), refusing the options that only trained models take.
    /// </summary>
    public static Langevin.Models.GaussianMixtureScore? Analytic(ParsedArgs a, string command, string defaultDtype)
    {
        if (a.String("model") is not { } model)
        {
            if (a.Has("dtype")) throw new UsageException("--dtype applies to analytic models (--model analytic:FILE.json) only");
            return null;
        }
        const string prefix = "analytic:";
        if (!model.StartsWith(prefix, StringComparison.Ordinal))
            throw new UsageException($"--model must be analytic:FILE.json (got '{model}'); trained models are given with --run or --checkpoint");
        if (a.Has("run") || a.Has("checkpoint")) throw new UsageException($"{command}: give either --model or --run/--checkpoint, not both");
        if (a.Has("no-ema")) throw new UsageException("--no-ema applies to trained models only");
        if (a.String("device", "cpu") != "cpu") throw new UsageException("--device: analytic models run on the CPU (they cost no network evaluations)");
        var dtype = a.String("dtype", defaultDtype) switch
        {
            "float32" => ScalarType.Float32,
            "float64" => ScalarType.Float64,
            var d => throw new UsageException($"--dtype must be float32 or float64 (got '{d}')"),
        };
        ComputeDevice.SetThreads(a.Int("threads"));
        return Langevin.Models.AnalyticMixtureFile.Load(model[prefix.Length..], dtype);
    }

    public static IGenerativeMethod Load(ParsedArgs a, string command)
    {
        string? runDir = a.String("run"), file = a.String("checkpoint");
        if ((runDir is null) == (file is null))
            throw new UsageException($"{command}: give exactly one of --run RUN or --checkpoint FILE");
        return runDir is not null ? TrainedRuns.OpenRun(runDir, !a.Flag("no-ema")) : TrainedRuns.OpenCheckpoint(file!, !a.Flag("no-ema"));
    }

    /// <summary>--data SPEC (default: the run's data, its held-out split where it has one), its first <paramref name="n"/> items,
    /// refused in one line when its items are not the model's shape.</summary>
    public static (Langevin.Data.Dataset Data, string Spec) HeldOutData(ParsedArgs a, IGenerativeMethod method, int n)
    {
        string spec = a.String("data") ?? Langevin.Data.HeldOutSplit.SpecOrSelf(method.Config.Data);
        var data = Langevin.Data.DataSources.Load(spec, new Langevin.Data.DataOptions(Seed: a.Int("seed") ?? 0, Limit: n));
        if (data.ItemShape.SequenceEqual(method.ItemShape)) return (data, spec);
        data.Dispose();
        throw new UsageException($"--data: {spec} has items [{string.Join(", ", data.ItemShape)}], the model was trained on [{string.Join(", ", method.ItemShape)}]");
    }

    /// <summary>The latest checkpoint of a run folder (for options that name further runs, e.g. `sample --compose`).</summary>
    public static IGenerativeMethod LoadRun(string runDir, bool noEma, string option) => TrainedRuns.OpenRun(runDir, !noEma, setting: option.TrimStart('-'));
}
