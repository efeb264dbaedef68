using System.Text.Json.Nodes;
using Langevin.IO;

namespace Langevin.Tests.Cli;

public class McmcCliTests
{
    [Fact]
    public void McmcRunsChainsAndReportsDiagnostics()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-mcmc-").FullName;
        string json = Path.Combine(dir, "d.json"), npy = Path.Combine(dir, "s.npy"), png = Path.Combine(dir, "chains.png");
        var r = CliRunner.Run("mcmc", "--target", "gaussian", "--kernel", "hmc", "--steps", "400", "--chains", "8", "--threads", "1",
            "--json", json, "--out", npy, "--plot", png);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("ESS", r.Stdout);
        Assert.Contains("R-hat", r.Stdout);
        var d = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.InRange(d["rhat_max"]!.GetValue<double>(), 0.99, 1.1);
        Assert.InRange(d["ess_per_gradient"]!.GetValue<double>(), 0.005, 1.0);
        Assert.InRange(d["max_mean_error_sd"]!.GetValue<double>(), 0, 0.3);
        using var s = NpyFile.Read(npy);
        Assert.Equal(new long[] { 400 * 8, 2 }, s.shape);
        Assert.True(File.Exists(png) && File.Exists(Path.Combine(dir, "chains-scatter.png")));
    }

    [Theory]
    [InlineData(2, "--step-size", new[] { "mcmc", "--target", "gaussian", "--kernel", "mala", "--step-size", "0" })]
    [InlineData(2, "--step-size", new[] { "mcmc", "--target", "gaussian", "--kernel", "esh", "--step-size", "-1" })]
    [InlineData(2, "--target", new[] { "mcmc", "--target", "donut", "--kernel", "hmc" })]
    [InlineData(2, "--kernel", new[] { "mcmc", "--target", "banana", "--kernel", "gibbs" })]
    [InlineData(2, "--chains", new[] { "mcmc", "--target", "banana", "--kernel", "ula", "--chains", "1" })]
    public void BadMcmcInputIsOneLine(int code, string mentions, string[] args) => CliRunner.AssertFails(CliRunner.Run(args), code, mentions);
}
