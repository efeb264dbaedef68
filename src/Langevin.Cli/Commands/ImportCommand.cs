using Langevin.Interop;

namespace Langevin.Cli.Commands;

/// <summary><c>langevin import --weights FILE.safetensors --config CONFIG.json --out RUN</c>: a PyTorch state dict as a new run folder.</summary>
public sealed class ImportCommand : ICommand
{
    public string Name => "import";
    public string Summary => "a safetensors state dict + its export config (PyTorch's or langevin export's) as a new run folder that sample, eval and report open";
    public string Usage => "langevin import --weights FILE.safetensors --config CONFIG.json --out RUN";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("weights", "FILE.safetensors", "the state dict: F32 (F16, BF16, F64 are converted), keys as the network's state_dict (NAME.key for several components)"),
        new("config", "CONFIG.json", $"the export config ({PyTorchStateDict.Format}, as langevin export writes it): the run's config, item shape, components, step"),
        new("out", "RUN", "the run folder to create (must not exist, or be empty); nothing is written unless every key, shape and value checks out"),
    ];

    public int Run(ParsedArgs a)
    {
        string weights = a.String("weights") ?? throw new UsageException("import: give the state dict: --weights FILE.safetensors");
        string config = a.String("config") ?? throw new UsageException("import: give its export config: --config CONFIG.json");
        string run = a.String("out") ?? throw new UsageException("import: give the run folder to create: --out RUN");
        var r = PyTorchStateDict.Import(weights, config, run);
        Console.WriteLine($"imported {r.Tensors} tensors into {r.RunDir} ({r.Method}, {string.Join(", ", r.Components)}; checkpoint {r.CheckpointPath})");
        a.Result["run"] = r.RunDir;
        a.Result["checkpoint"] = r.CheckpointPath;
        a.Result["step"] = r.Step;
        return 0;
    }
}
