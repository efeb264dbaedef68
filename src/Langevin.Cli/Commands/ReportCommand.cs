using Langevin.Reports;

namespace Langevin.Cli.Commands;

/// <summary>A command whose first bare argument is the value of one of its options (<c>langevin report RUN</c>).</summary>
public interface IPositionalCommand
{
    /// <summary>The option a leading bare argument fills.</summary>
    string PositionalOption { get; }
}

/// <summary><c>langevin report RUN</c>: the run as one self-contained HTML page.</summary>
public sealed class ReportCommand : ICommand, IPositionalCommand
{
    public string Name => "report";
    public string Summary => "a self-contained HTML page of a run: config, loss, samples, trajectory, metrics, comparison";
    public string Usage => "langevin report RUN [--out FILE.html]";
    public string PositionalOption => "run";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("run", "RUN", "the run folder (also the first bare argument)"),
        new("out", "FILE.html", "where to write the page (default RUN/report.html)"),
    ];

    public int Run(ParsedArgs a)
    {
        string run = a.String("run") ?? throw new UsageException("report: give the run folder: langevin report RUN");
        string path = RunReport.Write(run, a.String("out"));
        Console.WriteLine($"wrote {path}");
        a.Result["report"] = Path.GetFullPath(path);
        return 0;
    }
}
