using Langevin.Data;

namespace Langevin.Cli.Commands;

public sealed class DatasetsCommand : ICommand
{
    public string Name => "datasets";
    public string Summary => "list the data specs --data accepts";
    public string Usage => "langevin datasets";
    public IReadOnlyList<OptionSpec> Options { get; } = [];

    public int Run(ParsedArgs a)
    {
        int width = DataSources.Catalog.Max(c => c.Spec.Length) + 2;
        var list = new System.Text.Json.Nodes.JsonArray();
        foreach (var (spec, description) in DataSources.Catalog)
        {
            Console.WriteLine($"{spec.PadRight(width)}{description}");
            list.Add(new System.Text.Json.Nodes.JsonObject { ["spec"] = spec, ["description"] = description });
        }
        a.Result["datasets"] = list;
        return 0;
    }
}
