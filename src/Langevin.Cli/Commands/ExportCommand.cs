using Langevin.Interop;

namespace Langevin.Cli.Commands;

/// <summary><c>langevin export --run RUN --out DIR [--no-ema]</c>: the run's weights as a PyTorch state dict (safetensors) + its JSON config.</summary>
public sealed class ExportCommand : ICommand
{
    public string Name => "export";
    public string Summary => "a run's weights as one PyTorch-loadable safetensors state dict (F32) + a JSON config beside it (docs/interop.md)";
    public string Usage => "langevin export --run RUN --out DIR [--no-ema]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("run", "RUN", "the run folder (its latest checkpoint is exported)"),
        new("out", "DIR", $"the folder to write {PyTorchStateDict.WeightsFile} and {PyTorchStateDict.ConfigFile} into (created if needed; files there are replaced)"),
        new("no-ema", null, "export each component's raw weights instead of its EMA (the EMA is what sampling uses)"),
    ];

    public int Run(ParsedArgs a)
    {
        string run = a.String("run") ?? throw new UsageException("export: give the run folder: langevin export --run RUN --out DIR");
        string dir = a.String("out") ?? throw new UsageException("export: give the output folder: --out DIR");
        var r = PyTorchStateDict.Export(run, dir, ema: !a.Flag("no-ema"));
        string keys = r.Components.Count == 1 ? "keys as the network's state_dict" : $"keys NAME.key for {string.Join(", ", r.Components.Select(c => c.Name))}";
        Console.WriteLine($"wrote {r.WeightsPath} ({r.Tensors} tensors, {r.Weights} weights of step {r.Step}, F32; {keys})");
        Console.WriteLine($"wrote {r.ConfigPath}");
        foreach (var c in r.Components)
            Console.WriteLine($"  {c.Name}: {c.Module}, {c.Parameters:N0} parameters; PyTorch class: {c.PyTorchClass ?? "none in this repository (keys follow PyTorch's naming)"}");
        a.Result["weights"] = Path.GetFullPath(r.WeightsPath);
        a.Result["config"] = Path.GetFullPath(r.ConfigPath);
        a.Result["step"] = r.Step;
        a.Result["tensors"] = r.Tensors;
        return 0;
    }
}
