using Langevin.Data;
using Langevin.Training;

namespace Langevin.Cli.Commands;

public sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train a model; writes RUN/config.json, log.jsonl, checkpoints/, samples/, loss.png";
    public string Usage => "langevin train --data SPEC --method ncsn [--steps N] [--out RUN] [--config FILE.json] [--resume] ...";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("out", "RUN", "run folder (default runs/METHOD-DATA)"),
        new("resume", null, "continue the run in --out from its latest checkpoint (exactly)"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
        .. TrainOptions.Specs,
    ];

    /// <summary>What may change when a run is resumed: its length and how it reports; everything else is the run's own.</summary>
    static readonly string[] ResumeOptions = ["out", "resume", "quiet", "steps", "checkpoint-every", "sample-every", "log-every", "threads"];

    public int Run(ParsedArgs a)
    {
        bool resume = a.Flag("resume");
        TrainConfig config;
        string runDir;
        if (resume)
        {
            runDir = a.String("out") ?? throw new UsageException("--resume needs --out RUN, the run to continue");
            string stored = Path.Combine(runDir, "config.json");
            if (!File.Exists(stored)) throw new UsageException($"--resume: {stored} not found; start a new run without --resume");
            var fixedOption = TrainOptions.Specs.Select(o => o.Name).Except(ResumeOptions).FirstOrDefault(a.Has);
            if (fixedOption is not null)
                throw new UsageException($"--resume continues {runDir} with its own settings; --{fixedOption} cannot change (only --steps and how often it logs, samples and checkpoints)");
            config = TrainOptions.Build(a, TrainConfig.FromJson(File.ReadAllText(stored), stored));
        }
        else
        {
            config = TrainOptions.Build(a, TrainOptions.MethodDefaults(a.String("method") ?? "ncsn", a.String("data") ?? new TrainConfig().Data));
            runDir = a.String("out") ?? Path.Combine("runs", $"{config.Method}-{SafeName(config.Data)}");
        }
        using var data = DataSources.Load(config.Data, new DataOptions(Seed: config.Seed, Limit: config.DataLimit));
        Console.WriteLine($"training {config.Method} on {config.Data}: {data.X.shape[0]} items of shape [{string.Join(", ", data.ItemShape)}] → {Path.GetFullPath(runDir)}");
        var result = Trainer.Run(new TrainRequest(config, runDir, resume, a.Flag("quiet")), data.X);
        Console.WriteLine($"done: step {result.Step}, loss {result.LastLoss:F4}, {result.Elapsed.TotalSeconds:F0} s; checkpoint {result.Checkpoint}");
        a.Result["run"] = Path.GetFullPath(runDir);
        a.Result["method"] = config.Method;
        a.Result["data"] = config.Data;
        a.Result["step"] = result.Step;
        a.Result["loss"] = double.IsFinite(result.LastLoss) ? result.LastLoss : null;
        a.Result["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1);
        a.Result["checkpoint"] = result.Checkpoint;
        return 0;
    }

    public static string SafeName(string spec) =>
        new(Path.GetFileName(spec.TrimEnd('/')).Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
}
