using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.IO;
using Langevin.Metrics;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// The one command that shows it working: NCSN on the checkerboard, 10,000 samples, their picture, the loss curve,
/// and metrics.json with the samples' sliced Wasserstein distance to fresh data beside the floor (a second fresh
/// data set) and the ceiling (a Gaussian fitted to the data).
/// </summary>
public sealed class DemoCommand : ICommand
{
    public const int SampleCount = 10_000;

    public string Name => "demo";
    public string Summary => "train NCSN on the checkerboard and write samples, pictures and metrics (a few minutes)";
    public string Usage => "langevin demo [--out DIR] [--steps N] [--seed S] [any train option except --data/--method]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("out", "DIR", "output folder (default demo)"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
        .. TrainOptions.GeneralSpecs.Where(o => o.Name is not ("data" or "method" or "config")),
        .. TrainOptions.SpecsOf(Langevin.Methods.NcsnMethod.Registration),
    ];

    public static TrainConfig DefaultConfig => Langevin.Methods.NcsnMethod.CheckerboardDemo;

    public int Run(ParsedArgs a)
    {
        string dir = a.String("out", "demo");
        var config = TrainOptions.Build(a, DefaultConfig);
        bool quiet = a.Flag("quiet");
        string runDir = Path.Combine(dir, "run");
        if (Directory.Exists(runDir))
        {
            // A demo replaces its own previous output; any other folder is left alone.
            string stored = Path.Combine(runDir, "config.json");
            bool ownDemo = File.Exists(stored) && TrainConfig.FromJson(File.ReadAllText(stored), stored) is { Settings: Langevin.Methods.NcsnConfig, Data: "checkerboard" };
            if (!ownDemo) throw new UsageException($"--out: {Path.GetFullPath(runDir)} exists and is not a demo run; choose another --out");
            Console.WriteLine($"replacing the previous demo in {Path.GetFullPath(dir)}");
            Directory.Delete(runDir, recursive: true);
        }

        using var data = DataSources.Load(config.Data, new DataOptions(Seed: config.Seed));
        Console.WriteLine($"demo: NCSN on the checkerboard ({data.X.shape[0]} points), {config.Steps} steps → {Path.GetFullPath(dir)}");
        var result = Trainer.Run(new TrainRequest(config, runDir, Quiet: quiet), data.X);

        using var ckpt = Checkpoint.Load(result.Checkpoint);
        using var method = Methods.MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        ckpt.LoadForSampling(method);
        using var gen = new Generator((ulong)config.Seed + 1);
        Tensor? drawn = null;
        ProgressDisplay.Run("sample", method.FunctionEvaluations, 0, quiet, "NFE", p =>
            drawn = method.Sample(SampleCount, gen, onStep: (done, _) => p.Report(done)));
        using var samples = drawn!;

        NpyFile.Write(Path.Combine(dir, "samples.npy"), samples);
        Plots.Scatter(Path.Combine(dir, "samples.png"), samples, $"NCSN samples (N = {SampleCount}, EMA weights)", (-4.5, 4.5));
        File.Copy(new RunFolder(runDir).LossPlotPath, Path.Combine(dir, "loss.png"), overwrite: true);

        var metrics = CheckerboardEvaluation.Evaluate(samples, data.X, config.Seed);
        metrics["training_steps"] = result.Step;
        metrics["training_seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1);
        var ncsn = ckpt.Config.SettingsAs<Langevin.Methods.NcsnConfig>();
        metrics["sampler"] = $"annealed Langevin, {ncsn.Levels} levels × {ncsn.StepsPerLevel} steps, ε = {ncsn.StepSize:G3}";
        metrics["nfe"] = method.FunctionEvaluations;
        AtomicFile.WriteAllText(Path.Combine(dir, "metrics.json"), metrics.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        Console.WriteLine($"sliced Wasserstein (N = {SampleCount}): samples {metrics["swd_samples"]}, floor {metrics["swd_floor"]}, ceiling {metrics["swd_ceiling"]}");
        Console.WriteLine($"on the checkerboard's squares: {metrics["on_support"]}; square shares {metrics["square_min_share"]}–{metrics["square_max_share"]}");
        Console.WriteLine($"wrote {Path.Combine(dir, "samples.npy")}, samples.png, loss.png, metrics.json");
        a.Result["folder"] = Path.GetFullPath(dir);
        a.Result["metrics"] = metrics.DeepClone();
        return 0;
    }
}
