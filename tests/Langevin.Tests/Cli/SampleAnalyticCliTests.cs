using Langevin.IO;
using Langevin.Models;
using Langevin.Samplers;
using static TorchSharp.torch;

namespace Langevin.Tests.Cli;

/// <summary>`langevin sample --model analytic:FILE.json`: the exact mixture denoiser under the named samplers, from a noise file.</summary>
public class SampleAnalyticCliTests
{
    const string Mixture = """{"weights": [0.3, 0.7], "means": [[-1.5, 0.5], [1.5, -0.5]], "std": 0.4}""";

    static (string Dir, string Json, string Noise) Setup(int n = 64)
    {
        string dir = Directory.CreateTempSubdirectory("langevin-analytic-").FullName;
        string json = Path.Combine(dir, "mix.json"), noise = Path.Combine(dir, "noise.npy");
        File.WriteAllText(json, Mixture);
        manual_seed(3);
        NpyFile.Write(noise, randn([n, 2], dtype: float64));
        return (dir, json, noise);
    }

    [Theory]
    [InlineData("ddim", new[] { "--steps", "20", "--spacing", "trailing", "--set-alpha-to-one", "false" })]
    [InlineData("dpmpp-2m", new[] { "--steps", "15", "--karras" })]
    [InlineData("edm-euler", new[] { "--steps", "18" })]
    public void WritesWhatTheLibrarySamplerComputesFromTheSameNoise(string sampler, string[] options)
    {
        var (dir, json, noise) = Setup();
        string output = Path.Combine(dir, "out.npy");
        var r = CliRunner.Run(["sample", "--model", $"analytic:{json}", "--dtype", "float64", "--sampler", sampler,
            "--noise", noise, "--out", output, .. options]);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("NFE", r.Stdout);
        using var written = NpyFile.Read(output);
        Assert.Equal(ScalarType.Float64, written.dtype);

        using var mixture = AnalyticMixtureFile.Load(json);
        using var z = NpyFile.Read(noise);
        var request = new SamplerRequest
        {
            Sampler = sampler, Steps = int.Parse(options[1]),
            Spacing = options.Contains("trailing") ? "trailing" : null,
            SetAlphaToOne = options.Contains("--set-alpha-to-one") ? false : null,
            Karras = options.Contains("--karras") ? true : null,
        };
        var process = sampler.StartsWith("edm", StringComparison.Ordinal) ? new SamplingProcess(SamplingProcess.Edm)
            : new SamplingProcess(SamplingProcess.Vp, new Langevin.Processes.VpDiscreteSchedule());
        using var expected = SamplerCatalog.Run(mixture, z, request, process, null).Output;
        Assert.True(written.allclose(expected, 0, 1e-12), $"{sampler}: the CLI output equals the library's");
    }

    [Fact]
    public void Float32IsTheDefaultAndAgreesWithFloat64()
    {
        var (dir, json, noise) = Setup();
        string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy");
        Assert.Equal(0, CliRunner.Run("sample", "--model", $"analytic:{json}", "--sampler", "unipc", "--noise", noise, "--out", a).ExitCode);
        Assert.Equal(0, CliRunner.Run("sample", "--model", $"analytic:{json}", "--sampler", "unipc", "--noise", noise, "--out", b, "--dtype", "float64").ExitCode);
        using var x32 = NpyFile.Read(a);
        using var x64 = NpyFile.Read(b);
        Assert.Equal(ScalarType.Float32, x32.dtype);
        Assert.True(x32.to(float64).allclose(x64, 0, 1e-4), "float32 within 1e-4 of float64");
    }

    /// <summary>`sample --help` lists every option of every sampler, the catalog's and the methods' own, with its help.</summary>
    [Fact]
    public void HelpListsEveryOptionOfEverySampler()
    {
        var r = CliRunner.Run("sample", "--help");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n');
        IEnumerable<SamplerDescription> samplers = [.. SamplerCatalog.All, .. MethodSamplers.All];
        foreach (var sampler in samplers)
            foreach (var option in sampler.Options)
            {
                string flag = $"--{option.Name}" + (option.IsFlag ? "" : " ");
                var line = lines.SingleOrDefault(l => l.TrimStart().StartsWith(flag, StringComparison.Ordinal) || l.TrimStart() == flag);
                Assert.True(line is not null, $"{sampler.Name}: --{option.Name} is listed");
                Assert.Contains(option.Help, line);
                Assert.True(option.Scope is not null || line.Contains(sampler.Name), $"--{option.Name}'s help names {sampler.Name}: {line}");
            }
        Assert.Contains("ddim (default 0), euler-ancestral (default 1): the share of fresh noise", r.Stdout);
    }

    [Theory]
    [InlineData(2, "--karras does not apply to the ddpm sampler", new[] { "--sampler", "ddpm", "--karras" })]
    [InlineData(2, "--steps must be", new[] { "--sampler", "ddim", "--steps", "0" })]
    [InlineData(2, "unknown sampler", new[] { "--sampler", "magic" })]
    [InlineData(2, "--dtype", new[] { "--dtype", "float16" })]
    [InlineData(2, "--noise", new[] { "--noise", "WRONG" })]
    [InlineData(2, "--process", new[] { "--sampler", "euler", "--process", "xyz" })]
    [InlineData(1, "nosuch.json", new[] { "--model", "analytic:/nonexistent/nosuch.json" })]
    public void BadRequestsFailWithOneLine(int code, string mentions, string[] args)
    {
        var (dir, json, noise) = Setup();
        string wrong = Path.Combine(dir, "wrong.npy");
        NpyFile.Write(wrong, randn([8, 3], dtype: float64));
        var list = new List<string> { "sample", "--out", Path.Combine(dir, "x.npy") };
        if (!args.Contains("--model")) list.AddRange(["--model", $"analytic:{json}"]);
        list.AddRange(args.Select(a => a == "WRONG" ? wrong : a));
        CliRunner.AssertFails(CliRunner.Run([.. list]), code, mentions);
        Assert.False(File.Exists(Path.Combine(dir, "x.npy")));
    }
}
