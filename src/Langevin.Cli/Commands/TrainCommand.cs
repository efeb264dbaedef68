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

    public int Run(ParsedArgs a)
    {
        var config = TrainOptions.Build(a, new TrainConfig());
        string runDir = a.String("out") ?? Path.Combine("runs", $"{config.Method}-{SafeName(config.Data)}");
        bool resume = a.Flag("resume");
        if (resume && File.Exists(Path.Combine(runDir, "config.json")))
        {
            // On resume the run's own data spec governs.
            var stored = TrainConfig.FromJson(File.ReadAllText(Path.Combine(runDir, "config.json")), Path.Combine(runDir, "config.json"));
            config = config with { Data = stored.Data, DataLimit = stored.DataLimit };
        }
        using var data = DataSources.Load(config.Data, new DataOptions(Seed: config.Seed, Limit: config.DataLimit));
        Console.WriteLine($"training {config.Method} on {config.Data}: {data.X.shape[0]} items of shape [{string.Join(", ", data.ItemShape)}] → {Path.GetFullPath(runDir)}");
        var result = Trainer.Run(new TrainRequest(config, runDir, resume, a.Flag("quiet")), data.X);
        Console.WriteLine($"done: step {result.Step}, loss {result.LastLoss:F4}, {result.Elapsed.TotalSeconds:F0} s; checkpoint {result.Checkpoint}");
        return 0;
    }

    public static string SafeName(string spec) =>
        new(Path.GetFileName(spec.TrimEnd('/')).Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
}
