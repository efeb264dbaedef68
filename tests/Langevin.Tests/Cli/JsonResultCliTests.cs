using System.Text.Json.Nodes;

namespace Langevin.Tests.Cli;

/// <summary>`--json FILE` on every command: the command, its arguments, its exit code and what it recorded.</summary>
public class JsonResultCliTests
{
    const string Mixture = """{"weights": [0.3, 0.7], "means": [[-1.5, 0.5], [1.5, -0.5]], "std": 0.4}""";

    [Fact]
    public void EveryCommandListsJsonInItsHelp()
    {
        var overview = CliRunner.Run("--help").Stdout.Split('\n');
        var commands = overview.SkipWhile(l => !l.StartsWith("commands:")).Skip(1)
            .Where(l => l.StartsWith("  ")).Select(l => System.Text.RegularExpressions.Regex.Split(l.Trim(), "\\s{2,}")[0]).ToList();
        Assert.True(commands.Count >= 12, string.Join(", ", commands));
        foreach (var command in commands)
        {
            var help = CliRunner.Run([.. command.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, $"{command} --help: {help.Stderr}");
            Assert.Contains("--json FILE", help.Stdout);
        }
    }

    [Fact]
    public void SampleRecordsSamplerNfeAndFiles()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-json-").FullName;
        string mix = Path.Combine(dir, "mix.json"), json = Path.Combine(dir, "result.json"), output = Path.Combine(dir, "x.npy");
        File.WriteAllText(mix, Mixture);
        var r = CliRunner.Run("sample", "--model", $"analytic:{mix}", "--sampler", "heun", "--steps", "6", "--n", "16", "--out", output, "--json", json);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal("sample", (string?)doc["command"]);
        Assert.Equal(0, (int)doc["exit_code"]!);
        Assert.Equal("heun", (string?)doc["sampler"]);
        Assert.Equal(11, (int)doc["nfe"]!);                 // Heun: 2 evaluations per step, the last step Euler
        Assert.Equal(16, (int)doc["n"]!);
        Assert.Equal(output, (string?)doc["out"]);
        Assert.Contains("--json", doc["args"]!.AsArray().Select(v => (string?)v));
    }

    [Fact]
    public void AFailureIsRecordedWithItsExitCodeAndMessage()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-json-").FullName;
        string json = Path.Combine(dir, "result.json");
        var r = CliRunner.Run("datasets", "--bogus", "--json", json);
        CliRunner.AssertFails(r, 2, "--bogus");
        var doc = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal(2, (int)doc["exit_code"]!);
        Assert.Contains("--bogus", (string?)doc["error"]);

        var ok = CliRunner.Run("datasets", "--json", json);
        Assert.Equal(0, ok.ExitCode);
        var list = JsonNode.Parse(File.ReadAllText(json))!["datasets"]!.AsArray();
        Assert.Contains(list, d => (string?)d!["spec"] == "checkerboard");
    }

    [Fact]
    public void JsonWithoutAFileIsAUsageError() =>
        CliRunner.AssertFails(CliRunner.Run("datasets", "--json"), 2, "--json needs a value");
}
