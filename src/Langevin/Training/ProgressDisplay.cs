using System.Diagnostics;
using Spectre.Console;

namespace Langevin.Training;

/// <summary>Where long work reports how far it is.</summary>
public interface IProgressSink
{
    /// <summary><paramref name="done"/> units out of the total; <paramref name="status"/> e.g. "loss 0.123".</summary>
    void Report(long done, string status = "");
}

/// <summary>
/// A Spectre.Console progress bar with status, rate and ETA on a terminal; plain periodic lines when output is
/// redirected, when the CI variable is set, or with --quiet (every 10 s and at the end).
/// </summary>
public static class ProgressDisplay
{
    /// <summary>A sink that shows nothing (a data-parallel rank other than 0).</summary>
    public static readonly IProgressSink None = new NoSink();

    sealed class NoSink : IProgressSink
    {
        public void Report(long done, string status = "") { }
    }

    public static bool Interactive(bool quiet) =>
        !quiet && !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static void Run(string title, long total, long start, bool quiet, string unit, Action<IProgressSink> work)
    {
        if (Interactive(quiet))
        {
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                    new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, total));
                    task.Value = start;
                    work(new SpectreSink(task, title, start, unit));
                    task.Value = task.MaxValue;
                });
        }
        else
        {
            var sink = new PlainSink(title, total, start, unit);
            work(sink);
            sink.Finish();
        }
    }

    sealed class SpectreSink(ProgressTask task, string title, long start, string unit) : IProgressSink
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        public void Report(long done, string status)
        {
            double rate = (done - start) / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            task.Description = Markup.Escape($"{title} {status} {rate:F1} {unit}/s".Replace("  ", " "));
            task.Value = done;
        }
    }

    sealed class PlainSink(string title, long total, long start, string unit) : IProgressSink
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        TimeSpan _last = TimeSpan.Zero;
        long _done = -1, _printed = -1;
        string _status = "";

        public void Report(long done, string status)
        {
            (_done, _status) = (done, status);
            if (_clock.Elapsed - _last >= TimeSpan.FromSeconds(10)) Print();
        }

        public void Finish() { if (_done >= 0 && _done != _printed) Print(); }

        void Print()
        {
            (_last, _printed) = (_clock.Elapsed, _done);
            double rate = (_done - start) / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            if (total <= 0) { Console.WriteLine($"[{title}] {_done} {_status} {rate:F1} {unit}/s".Replace("  ", " ")); return; } // unknown total (adaptive)
            double eta = rate > 0 ? (total - _done) / rate : double.NaN;
            string etaText = double.IsFinite(eta) ? TimeSpan.FromSeconds(Math.Round(eta)).ToString() : "?";
            Console.WriteLine($"[{title}] {_done}/{total} ({100.0 * _done / Math.Max(1, total):F0}%) {_status} {rate:F1} {unit}/s ETA {etaText}".Replace("  ", " "));
        }
    }
}
