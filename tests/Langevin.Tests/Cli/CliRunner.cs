using System.Diagnostics;

namespace Langevin.Tests.Cli;

/// <summary>Runs the built `langevin` CLI as a separate process, as a user would.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    static readonly Lazy<string> CliDll = new(() => BuiltProgram("src/Langevin.Cli", "Langevin.Cli.dll"));

    /// <summary>The built program of a project of the solution (built with the tests: the test project references it).</summary>
    public static string BuiltProgram(string project, string dllName)
    {
        string config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;     // bin/<Configuration>/net10.0
        string dll = Path.Combine(RepositoryRoot(), project, "bin", config, "net10.0", dllName);
        Assert.True(File.Exists(dll), $"{dll} is built");
        return dll;
    }

    /// <summary>The folder that holds Langevin.sln, found upward from the test assembly.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Langevin.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return dir!.FullName;
    }

    public static Result Run(params string[] args) => RunIn(Directory.GetCurrentDirectory(), args);

    public static Result RunIn(string workingDir, params string[] args) => RunWith(workingDir, null, args);

    /// <summary>Runs with extra environment variables (e.g. LANGEVIN_CACHE).</summary>
    public static Result RunWith(string workingDir, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunProgram(CliDll.Value, workingDir, environment, args);

    public static Result RunProgram(string dll, string workingDir, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDir };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        psi.Environment.Remove("LANGEVIN_DEBUG");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); Assert.Fail("langevin timed out"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the CLI without waiting (its output discarded), for tests that stop it from outside.</summary>
    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = false, RedirectStandardError = false, UseShellExecute = false };
        psi.ArgumentList.Add(CliDll.Value);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CI"] = "true";
        psi.Environment.Remove("LANGEVIN_DEBUG");
        return Process.Start(psi)!;
    }

    /// <summary>Asserts a clean user-facing failure: the exit code, one line on stderr, no stack trace.</summary>
    public static void AssertFails(Result r, int exitCode, string mustContain)
    {
        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}, expected {exitCode}; stderr: {r.Stderr}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {r.Stderr}");
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Contains(mustContain, r.Stderr);
    }

    /// <summary>Asserts a clean user-facing failure whose one line is exactly "error: <paramref name="line"/>".</summary>
    public static void AssertFailsWith(Result r, int exitCode, string line)
    {
        AssertFails(r, exitCode, line);
        Assert.Equal($"error: {line}", r.Stderr.Trim());
    }
}
