using Langevin.Distributed;
using Langevin.Data;
using Langevin.Methods;
using Langevin.Training;

namespace Langevin.Cli.Commands;

public sealed class TrainCommand : ICommand, IContextualHelp
{
    public string Name => "train";
    public string Summary => "train a model; writes RUN/config.json, log.jsonl, checkpoints/, samples/, loss.png";
    public string Usage => "langevin train --data SPEC --method NAME [--steps N] [--out RUN] [--config FILE.json] [--resume] ...";

    static readonly OptionSpec[] RunOptions =
    [
        new("out", "RUN", "run folder (default runs/METHOD-DATA)"),
        new("resume", null, "continue the run in --out from its latest checkpoint (exactly); the command that started it may be repeated"),
        new("quiet", null, "plain progress lines instead of a progress bar"),
    ];

    public IReadOnlyList<OptionSpec> Options { get; } = [.. RunOptions, .. TrainOptions.Specs];

    /// <summary>`train --help`: the general options and the methods; `train --method NAME --help`: that method's options too.</summary>
    public string HelpFor(IReadOnlyList<string> args)
    {
        int i = args.ToList().IndexOf("--method");
        var method = i >= 0 && i + 1 < args.Count ? MethodRegistry.Find(args[i + 1]) : null;
        var lines = new List<string> { Help.Format($"langevin {Name} — {Summary}", Usage, [.. RunOptions, .. TrainOptions.GeneralSpecs]) };
        if (method is null)
        {
            lines.Add("");
            lines.Add("methods ('langevin train --method NAME --help' lists a method's own options):");
            int width = MethodRegistry.All.Max(r => r.Name.Length) + 2;
            lines.AddRange(MethodRegistry.All.Select(r => $"  {r.Name.PadRight(width)}{r.Summary}"));
            return string.Join('\n', lines);
        }
        lines.Add("");
        lines.Add($"method {method.Name} — {method.Summary}");
        foreach (var c in method.Capabilities()) lines.Add($"  its runs are {c}");
        if (method.Options.Count > 0)
        {
            lines.Add("");
            lines.Add($"{method.Name} options:");
            lines.Add(Help.OptionLines(TrainOptions.SpecsOf(method)));
        }
        return string.Join('\n', lines);
    }

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
            var storedConfig = TrainConfig.FromJson(File.ReadAllText(stored), stored);
            // the command that started the run may be repeated: only a change of a fixed setting is refused
            config = TrainOptions.Build(a, storedConfig);
            if (TrainOptions.ChangedOption(config, storedConfig) is { } changed)
                throw new UsageException($"--resume continues {runDir} with its own settings; --{changed} cannot change (only --steps and how often it logs, samples and checkpoints)");
        }
        else
        {
            var start = MethodRegistry.Get(a.String("method") ?? new TrainConfig().Method).StartingConfig(a.String("data") ?? new TrainConfig().Data);
            config = TrainOptions.Build(a, start);
            runDir = a.String("out") ?? Path.Combine("runs", $"{config.Method}-{SafeName(config.Data)}");
        }
        using var data = DataSources.Load(config.Data, new DataOptions(Seed: config.Seed, Limit: config.DataLimit));
        // under mpiexec/srun: data-parallel ranks; rank 0 prints and writes, the others only train
        using var world = DataParallel.FromEnvironment();
        if (world is { IsRoot: false }) Console.SetOut(TextWriter.Null);
        Console.WriteLine($"training {config.Method} on {config.Data}: {data.X.shape[0]} items of shape [{string.Join(", ", data.ItemShape)}] → {Path.GetFullPath(runDir)}"
            + (world is null ? "" : $"; {world.Size} MPI ranks × batch {config.BatchSize} ({world.Library})"));
        TrainResult result;
        try
        {
            result = Trainer.Run(new TrainRequest(config, runDir, resume, a.Flag("quiet"), World: world, Notice: Console.WriteLine), data);
        }
        catch (LangevinException e) when (world is not null)
        {
            // the other ranks may be waiting in a collective: say why, then end them all
            Console.Error.WriteLine($"error: {MessageText.OneLine(Messages.For(e))}");
            Console.Error.Flush();
            world.Abort(LangevinCli.ExitCodeOf(e));
            throw;
        }
        if (world is not null)
            Console.WriteLine($"gradient allreduce: {world.ReducedValues / Math.Max(1, result.StepsTrained):N0} values per step, {world.AllreduceSeconds:F1} s of {result.Elapsed.TotalSeconds:F1} s on rank 0");
        Console.WriteLine(result.StepsTrained == 0
            ? $"nothing to train: {runDir} is at step {result.Step} already (last logged loss {result.LastLoss:F4}); give --steps above {result.Step} to continue it; checkpoint {result.Checkpoint}"
            : $"done: step {result.Step}, loss {result.LastLoss:F4}, {result.Elapsed.TotalSeconds:F0} s; checkpoint {result.Checkpoint}");
        a.Result["run"] = Path.GetFullPath(runDir);
        a.Result["method"] = config.Method;
        a.Result["data"] = config.Data;
        a.Result["step"] = result.Step;
        a.Result["loss"] = double.IsFinite(result.LastLoss) ? result.LastLoss : null;
        a.Result["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1);
        a.Result["checkpoint"] = result.Checkpoint;
        if (result.Config.Bf16Probe is { } probe) a.Result["bf16"] = probe.UsesBf16;
        if (world is not null)
        {
            a.Result["ranks"] = world.Size;
            a.Result["allreduce_seconds"] = Math.Round(world.AllreduceSeconds, 2);
            a.Result["allreduce_values_per_step"] = world.ReducedValues / Math.Max(1, result.StepsTrained);
        }
        return 0;
    }

    public static string SafeName(string spec) =>
        new(Path.GetFileName(spec.TrimEnd('/')).Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
}
