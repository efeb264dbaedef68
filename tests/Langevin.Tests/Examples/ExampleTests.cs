using System.Globalization;
using System.Text.RegularExpressions;
using Langevin.Tests.Cli;

namespace Langevin.Tests.Examples;

/// <summary>examples/Langevin.Example: a C# program that trains, samples with two samplers and scores through the library alone.</summary>
public class ExampleTests
{
    [Fact]
    public void TheExampleTrainsADdpmSamplesItWithTwoSamplersAndScoresBoth()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-example-").FullName;
        var r = CliRunner.RunProgram(CliRunner.BuiltProgram("examples/Langevin.Example", "Langevin.Example.dll"), dir, null, Path.Combine(dir, "run"), "1500");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("trained 1500 steps", r.Stdout);
        foreach (var (sampler, nfe) in new[] { ("ddim", 20), ("dpmpp-2m", 10) })
        {
            var modes = Regex.Match(r.Stdout, $@"{Regex.Escape(sampler)}\s+NFE\s+{nfe}\s+modes_covered\s+(\S+)");
            var swd = Regex.Match(r.Stdout, $@"{Regex.Escape(sampler)}\s+NFE\s+{nfe}\s+swd\s+(\S+)\s+\(floor (\S+)\)");
            Assert.True(modes.Success && swd.Success, r.Stdout);
            Assert.Equal(8, double.Parse(modes.Groups[1].Value, CultureInfo.InvariantCulture));      // every mode of the eight Gaussians
            double value = double.Parse(swd.Groups[1].Value, CultureInfo.InvariantCulture), floor = double.Parse(swd.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(value < 5 * floor + 0.05, $"{sampler}: sliced Wasserstein {value} against a floor of {floor}");
        }
    }
}
