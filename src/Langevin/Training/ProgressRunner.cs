namespace Langevin.Training;

/// <summary>
/// How library work of <paramref name="total"/> units is shown while it runs: it calls <paramref name="work"/> with a
/// sink to report to. The CLI passes <see cref="ProgressRunners.Display"/> (a bar or plain lines); a C# caller may pass
/// <see cref="ProgressRunners.Silent"/>.
/// </summary>
public delegate void ProgressRunner(string title, long total, string unit, Action<IProgressSink> work);

public static class ProgressRunners
{
    /// <summary><see cref="ProgressDisplay.Run"/> from 0, quiet or not.</summary>
    public static ProgressRunner Display(bool quiet) => (title, total, unit, work) => ProgressDisplay.Run(title, total, 0, quiet, unit, work);

    /// <summary>Runs the work and shows nothing.</summary>
    public static ProgressRunner Silent { get; } = (_, _, _, work) => work(new SilentSink());

    sealed class SilentSink : IProgressSink
    {
        public void Report(long done, string status = "") { }
    }
}
