using Langevin.Reports;

namespace Langevin.Cli.Commands;

/// <summary>A command whose first bare argument is the value of one of its options (<c>langevin report RUN</c>).</summary>
public interface IPositionalCommand
{
    /// <summary>The option a leading bare argument fills.</summary>
    string PositionalOption { get; }
}

/// <summary><c>langevin report RUN</c>: the run as one self-contained HTML page; <c>--runs A,B,…</c> or <c>--runs FOLDER</c>: runs side by side.</summary>
public sealed class ReportCommand : ICommand, IPositionalCommand
{
    public string Name => "report";
    public string Summary => "a self-contained HTML page of a run (summary, latest samples, metrics, loss, all samples, details), or of several runs side by side";
    public string Usage => "langevin report RUN [--out FILE.html] | langevin report --runs RUN1,RUN2,...|FOLDER [--out FILE.html]";
    public string PositionalOption => "run";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("run", "RUN", "the run folder (also the first bare argument)"),
        new("runs", "RUN1,RUN2,...|FOLDER", "compare runs on one page: loss curves overlaid, latest samples in a row, metrics side by side (a FOLDER: the runs in it)"),
        new("out", "FILE.html", "where to write the page (default RUN/report.html; with --runs FOLDER, FOLDER/report.html, else ./runs-report.html)"),
    ];

    public int Run(ParsedArgs a)
    {
        if (a.String("runs") is { } list)
        {
            if (a.Has("run")) throw new UsageException("report: give one run (langevin report RUN) or --runs, not both");
            var dirs = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (dirs.Length == 0) throw new UsageException("--runs needs run folders (RUN1,RUN2,...) or one folder of runs");
            string page = RunReport.WriteComparison(dirs, a.String("out"));
            Console.WriteLine($"wrote {page} ({RunReport.Runs(dirs).Count} runs)");
            a.Result["report"] = Path.GetFullPath(page);
            return 0;
        }
        string run = a.String("run") ?? throw new UsageException("report: give the run folder: langevin report RUN (or --runs RUN1,RUN2,...)");
        string path = RunReport.Write(run, a.String("out"));
        Console.WriteLine($"wrote {path}");
        a.Result["report"] = Path.GetFullPath(path);
        return 0;
    }
}
