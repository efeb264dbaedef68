using System.Text.Json.Nodes;
using Langevin.Methods;
using Langevin.Tests.Cli;
using Langevin.Training;
using Langevin.Energy;
using Langevin.Dmcmc;

namespace Langevin.Tests.Methods;

/// <summary>The method registry: each method's own config record and options, config.json with its own settings only, old configs.</summary>
public class MethodRegistryTests
{
    public static IEnumerable<object[]> Names => MethodRegistry.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Names))]
    public void AConfigHoldsItsOwnMethodsSettingsOnlyAndRoundTrips(string method)
    {
        var r = MethodRegistry.Get(method);
        var config = r.StartingConfig("checkerboard");
        Assert.Equal(r.ConfigType, config.Settings.GetType());
        Assert.Equal(method, config.Method);
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        Assert.Equal(method, (string)json["settings"]!["method"]!);
        foreach (var other in new[] { "ncsn", "ddpm", "ebm", "adversarial_ebm", "cld", "walk_jump", "dmcmc", "method" })
            Assert.False(json.ContainsKey(other), $"{method}: config.json has a top-level '{other}'");
        Assert.Equal(config.ToJson(), TrainConfig.FromJson(config.ToJson(), "test").ToJson());
        Assert.All(r.Options, o => Assert.Matches("^[a-z0-9-]+$", o.Name));
        Assert.Equal(r.Options.Count, r.Options.Select(o => o.Name).Distinct().Count());
    }

    [Fact]
    public void ConfigsOfTheOneNetworkEraConvertToTheMethodsOwnSettings()
    {
        var adv = TrainConfig.FromJson("""
            {"method": "adv-ebm", "data": "8gaussians", "steps": 7, "ncsn": {"levels": 4}, "ebm": {"energy_net": "strided", "spectral_norm": true},
             "adversarial_ebm": {"pgd_max_steps": 9}, "ddpm": {"timesteps": 10}}
            """, "old.json");
        var a = adv.SettingsAs<AdversarialEbmConfig>();
        Assert.Equal(("strided", true, 9), (a.EnergyNet, a.SpectralNorm, a.PgdMaxSteps));
        Assert.Equal((7L, "8gaussians"), (adv.Steps, adv.Data));
        var dmcmc = TrainConfig.FromJson("""
            {"method": "dmcmc", "ddpm": {"sigma_data": 0.5, "timesteps": 10}, "dmcmc": {"levels": 12, "denoiser": "/runs/d", "denoiser_step": 3, "denoiser_digest": "abcdef0123456789"}}
            """, "old.json").SettingsAs<DmcmcConfig>();
        Assert.Equal(0.5, dmcmc.Edm.SigmaData);
        Assert.Equal(12, dmcmc.Levels);
        Assert.Equal(new ComponentReference("/runs/d", 3, "abcdef0123456789"), dmcmc.Denoiser);
        var edm = TrainConfig.FromJson("""{"method": "edm", "ddpm": {"sigma_data": 0.7, "timesteps": 10, "sample_steps": 9}}""", "old.json").SettingsAs<EdmConfig>();
        Assert.Equal((0.7, 9), (edm.SigmaData, edm.SampleSteps));
        Assert.Equal(new NcsnConfig { Levels = 20 }, TrainConfig.FromJson("""{"ncsn": {"levels": 20}}""", "old.json").Settings);
        var e = Assert.ThrowsAny<UsageException>(() => TrainConfig.FromJson("""{"method": "vae"}""", "old.json"));
        Assert.Contains("vae", e.Message);
    }

    [Fact]
    public void AnUnknownFieldOfAMethodsSettingsIsRefused()
    {
        var e = Assert.ThrowsAny<UsageException>(() => TrainConfig.FromJson("""{"settings": {"method": "ncsn", "sgld_steps": 3}}""", "c.json"));
        Assert.Contains("c.json", e.Message);
        Assert.ThrowsAny<UsageException>(() => TrainConfig.FromJson("""{"settings": {"method": "nosuch"}}""", "c.json"));
    }

    [Fact]
    public void TrainHelpListsTheMethodsAndAMethodsHelpItsOwnOptionsOnly()
    {
        var all = CliRunner.Run("train", "--help");
        Assert.Equal(0, all.ExitCode);
        foreach (var name in MethodRegistry.Names) Assert.Contains($"  {name}", all.Stdout);
        Assert.DoesNotContain("--sgld-step", all.Stdout);
        var edm = CliRunner.Run("train", "--method", "edm", "--help");
        Assert.Equal(0, edm.ExitCode);
        Assert.Contains("--sigma-data", edm.Stdout);
        Assert.Contains("every catalog sampler", edm.Stdout);
        Assert.DoesNotContain("--sgld-step", edm.Stdout);
        Assert.DoesNotContain("--levels", edm.Stdout);
    }

    [Fact]
    public void TheCommandThatStartedARunMayBeRepeatedWithResumeAndOnlyAFixedChangeIsRefused()
    {
        string run = Path.Combine(Directory.CreateTempSubdirectory("langevin-resume-").FullName, "run");
        string[] command = ["train", "--method", "ncsn", "--data", "8gaussians", "--lr", "0.002", "--levels", "3", "--steps-per-level", "1",
            "--width", "16", "--depth", "1", "--out", run, "--threads", "1", "--sample-every", "0", "--limit", "500"];
        Assert.Equal(0, CliRunner.Run([.. command, "--steps", "2"]).ExitCode);
        var again = CliRunner.Run([.. command, "--steps", "3", "--resume"]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        CliRunner.AssertFails(CliRunner.Run([.. command, "--steps", "4", "--resume", "--lr", "0.01"]), 2, "--lr cannot change");
        CliRunner.AssertFails(CliRunner.Run("train", "--out", run, "--steps", "4", "--resume", "--levels", "5"), 2, "--levels cannot change");
        CliRunner.AssertFails(CliRunner.Run("train", "--out", run, "--steps", "4", "--resume", "--method", "edm"), 2, "--method cannot change");
    }

    [Fact]
    public void SettingErrorsNameTheOptionThatSetsThem()
    {
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ncsn", "--sigma-min", "-1", "--steps", "1"), 2, "--sigma-min must be > 0 (got -1)");
        CliRunner.AssertFails(CliRunner.Run("train", "--batch", "0", "--steps", "1"), 2, "--batch must be ≥ 1 (got 0)");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ddpm", "--levels", "4", "--steps", "1"), 2, "--levels does not apply to --method ddpm (it applies to: ncsn)");
        var e = Assert.Throws<SettingException>(() => new NcsnConfig { SigmaMin = -1 }.Validate());
        Assert.Equal("ncsn.sigma_min must be > 0 (got -1)", e.Message);     // the library names the setting, not a flag
    }
}
