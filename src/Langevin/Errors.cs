namespace Langevin;

/// <summary>
/// A problem with what the user gave us (an option, a file, a dataset), reported as one line and an exit code,
/// never as a stack trace. Programmer errors stay ordinary exceptions.
/// </summary>
public abstract class LangevinException(string message, int exitCode, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>Process exit code: 2 for usage errors, 1 for data errors.</summary>
    public int ExitCode { get; } = exitCode;
}

/// <summary>Bad command-line usage: an unknown option or data spec, an invalid value, a wrong combination. Exit code 2.</summary>
public sealed class UsageException(string message, Exception? inner = null) : LangevinException(message, 2, inner);

/// <summary>Bad or missing data: a corrupt or truncated file, a wrong shape, NaN, a missing dataset. Exit code 1.</summary>
public sealed class DataException(string message, Exception? inner = null) : LangevinException(message, 1, inner);

/// <summary>Training could not go on (the loss became NaN or infinite). Exit code 1; the last good checkpoint stays.</summary>
public sealed class TrainingDivergedException(string message) : LangevinException(message, 1);
