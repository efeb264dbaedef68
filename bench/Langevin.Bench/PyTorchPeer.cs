using System.Diagnostics;
using System.Text.Json;

namespace Langevin.Bench;

/// <summary>Runs the PyTorch peer <c>shared/peers/torch_unet.py</c> (outside the repository, at ../shared).</summary>
internal static class PyTorchPeer
{
    public const string Python = "/usr/bin/python3";

    /// <summary>
    /// The peer script: $LANGEVIN_SHARED/peers/torch_unet.py if set, else ../shared/peers/torch_unet.py relative to the
    /// repository root, found by walking up from the current directory and from the executable for Langevin.sln.
    /// </summary>
    public static string? FindScript()
    {
        if (Environment.GetEnvironmentVariable("LANGEVIN_SHARED") is { Length: > 0 } shared)
        {
            string path = Path.Combine(shared, "peers", "torch_unet.py");
            return File.Exists(path) ? path : null;
        }
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Langevin.sln"))) continue;
                string path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "peers", "torch_unet.py"));
                if (File.Exists(path)) return path;
                break;
            }
        }
        return null;
    }

    /// <summary>Why the peer cannot run here, or null when it can.</summary>
    public static string? Unavailable(string? script)
    {
        if (script is null) return "peer script shared/peers/torch_unet.py not found (set LANGEVIN_SHARED to the shared/ folder)";
        if (!File.Exists(Python)) return $"{Python} not found";
        var (code, _, _) = Execute(Python, ["-c", "import torch"]);
        return code == 0 ? null : "python3-torch is not installed (apt-get install python3-torch); skipping the PyTorch peer";
    }

    /// <summary>Runs <c>torch_unet.py mode</c>, echoes its human-readable lines with a prefix, returns its final JSON line.</summary>
    public static JsonElement Run(string script, string mode)
    {
        var (code, stdout, stderr) = Execute(Python, [script, mode]);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (code != 0 || lines.Length == 0)
            throw new InvalidOperationException($"{Python} {script} {mode} failed with exit code {code}: {stderr.Trim()}");
        foreach (string line in lines[..^1]) Console.WriteLine($"  peer | {line}");
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }

    static (int Code, string Stdout, string Stderr) Execute(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
