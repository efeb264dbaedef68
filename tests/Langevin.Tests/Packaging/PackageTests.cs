using System.Diagnostics;
using System.IO.Compression;
using Langevin.Tests.Cli;

namespace Langevin.Tests.Packaging;

/// <summary>
/// The library as a NuGet package used by a project outside the repository (restored from a local feed, built, training a tiny
/// model and sampling it — TorchSharp loads on Debian 12 only if the package's buildTransitive step patched its native library),
/// and the `dotnet tool` package installed and run. Each run packs a version of its own and removes it from the package cache.
/// </summary>
public sealed class PackageTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-package-").FullName;
    readonly string _version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    static string PackageCache => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public void Dispose()
    {
        foreach (var id in new[] { "langevin", "langevin.cli" })
            try { Directory.Delete(Path.Combine(PackageCache, id, _version), recursive: true); } catch (DirectoryNotFoundException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    static (int Exit, string Output) Dotnet(string workingDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(true); Assert.Fail($"dotnet {string.Join(' ', args)} timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    string Pack(string project)
    {
        string feed = Path.Combine(_dir, "feed");
        var (exit, output) = Dotnet(CliRunner.RepositoryRoot(), "pack", project, "-c", "Release", "--no-build", "-o", feed, $"-p:Version={_version}");
        Assert.True(exit == 0, output);
        return feed;
    }

    [Fact]
    public void ALibraryPackageConsumerOutsideTheRepositoryTrainsAndSamples()
    {
        string feed = Pack("src/Langevin");
        using (var zip = ZipFile.OpenRead(Path.Combine(feed, $"Langevin.{_version}.nupkg")))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            foreach (var part in new[] { "lib/net10.0/Langevin.dll", "lib/net10.0/Langevin.xml", "README.md", "buildTransitive/Langevin.targets",
                         "tools/elfpatch/ElfVersionPatch.dll", "tools/elfpatch/ElfVersionPatch.runtimeconfig.json", "licenses/LICENSE-DejaVu.txt" })
                Assert.Contains(part, entries);
        }
        string consumer = Path.Combine(_dir, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><add key="langevin-test-feed" value="{feed}" /></packageSources></configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
              <ItemGroup><PackageReference Include="Langevin" Version="{_version}" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using Langevin.Data;
            using Langevin.Methods;
            using Langevin.Training;
            using TorchSharp;

            string run = Path.Combine(Path.GetTempPath(), $"consumer-run-{Guid.NewGuid():N}");
            using var data = DataSources.Load("8gaussians", new DataOptions(Seed: 0, Limit: 4000));
            var config = new TrainConfig
            {
                Data = "8gaussians", Steps = 1000, BatchSize = 128, Threads = 1, SampleEvery = 0, CheckpointEvery = 1000, LearningRate = 2e-3,
                Settings = new DdpmConfig { Timesteps = 100, SampleSteps = 20 }, Network = new NetworkConfig { Kind = "mlp", Width = 64, Depth = 2 },
            };
            var result = Trainer.Run(new TrainRequest(config, run, Quiet: true, Previews: false), data);
            using var method = TrainedRuns.OpenRun(run);
            using var gen = new torch.Generator(1);
            using var samples = method.Sample(500, gen);
            float radius = samples.norm(1).mean().item<float>();
            Console.WriteLine($"trained {result.Step} steps; 500 samples of shape [{string.Join(", ", samples.shape)}], mean radius {radius:F2}");
            Directory.Delete(run, recursive: true);
            return samples.isfinite().all().item<bool>() && radius is > 1.0f and < 4.5f ? 0 : 1;   // the ring has radius 2.83
            """);
        var (exit, output) = Dotnet(consumer, "run", "-c", "Release");
        Assert.True(exit == 0, output);
        Assert.Contains("trained 1000 steps; 500 samples of shape [500, 2]", output);
    }

    [Fact]
    public void TheToolPackageInstallsAndTrains()
    {
        string feed = Pack("src/Langevin.Cli");
        string tools = Path.Combine(_dir, "tools");
        var (exit, output) = Dotnet(_dir, "tool", "install", "Langevin.Cli", "--tool-path", tools, "--add-source", feed, "--version", _version);
        Assert.True(exit == 0, output);
        var psi = new ProcessStartInfo(Path.Combine(tools, "langevin")) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "train", "--method", "ddpm", "--data", "8gaussians", "--steps", "20", "--width", "16", "--depth", "1", "--sample-every", "0", "--out", "run", "--quiet" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr + stdout);
        Assert.Contains("done: step 20", stdout);
    }
}
