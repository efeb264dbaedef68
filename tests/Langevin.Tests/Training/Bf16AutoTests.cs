using System.Text.Json.Nodes;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Training;
using Xunit.Abstractions;
using static Langevin.Tests.Training.TrainingCoreTests;

namespace Langevin.Tests.Training;

/// <summary>bf16: auto — the probe's decision rule, and that probing leaves no trace in the run it decides.</summary>
public class Bf16AutoTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0.5, true)]
    [InlineData(0.95, true)]
    [InlineData(0.96, false)]
    [InlineData(1.2, false)]
    public void TheProbeChoosesBf16OnlyWhenItsAgreedRatioIsAtMostTheThreshold(double agreed, bool usesBf16)
    {
        var calls = new List<bool>();
        var probe = Bf16Probe.Measure(calls.Add, pairs: 3, agree: _ => agreed);
        Assert.Equal(usesBf16, probe.UsesBf16);
        Assert.Equal(agreed, probe.Ratio);
        // one warm-up of each, then pairs in ABBA order: fp32 bf16 | bf16 fp32 | fp32 bf16
        Assert.Equal([false, true, false, true, true, false, false, true], calls);
    }

    [Fact]
    public void TheProbeMeasuresBothArmsAndTheirRatio()
    {
        var probe = Bf16Probe.Measure(bf16 => Thread.Sleep(bf16 ? 40 : 10), pairs: 2);
        output.WriteLine(probe.Describe());
        Assert.True(probe.Bf16Ms > probe.Fp32Ms, $"{probe}");
        Assert.InRange(probe.Ratio!.Value, 1.5, 8);   // 4× by the sleeps; the scheduler only adds time
        Assert.False(probe.UsesBf16);
    }

    public static IEnumerable<object[]> Methods => MethodRegistry.Names.Where(n => n != "noisy-classifier").Select(n => new object[] { n });

    /// <summary>
    /// Whatever the probe chose, the run equals the run given that precision from the start, bit for bit: the probe's steps
    /// leave the weights, buffers, optimizer, EMA and method state as they were. (The noisy classifier needs a trained
    /// denoiser; its network is an MLP like the others'.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Methods))]
    public void AnAutoRunEqualsTheRunGivenItsChoiceFromTheStart(string method)
    {
        using var data = Points();
        string auto = TempDir(), given = TempDir();
        var config = Tiny(method, 4);
        var result = Trainer.Run(new TrainRequest(config with { Bf16 = Bf16Mode.Auto }, auto, Quiet: true, Previews: false), data);
        var probe = result.Config.Bf16Probe!;
        output.WriteLine($"{method}: {probe.Describe()}");
        var stored = JsonNode.Parse(File.ReadAllText(Path.Combine(auto, "config.json")))!;
        Assert.Equal("auto", (string)stored["bf16"]!);
        Assert.Equal(probe.UsesBf16, (bool)stored["bf16_probe"]!["uses_bf16"]!);
        if (probe.Reason is null)
            Assert.True(probe.Fp32Ms > 0 && probe.Bf16Ms > 0 && probe.Ratio > 0, $"{probe}");
        else   // a method refused by its registration (the EBMs) or whose network has no working copy (dmcmc's estimator)
            Assert.True(!probe.UsesBf16 && probe.Ratio is null && (MethodRegistry.Get(method).Bf16Refusal is not null || method == "dmcmc"), $"{probe}");

        Trainer.Run(new TrainRequest(config with { Bf16 = probe.UsesBf16 ? Bf16Mode.On : Bf16Mode.Off }, given, Quiet: true, Previews: false), data);
        Assert.Equal(TrainingLog.ReadLosses(Path.Combine(given, "log.jsonl")), TrainingLog.ReadLosses(Path.Combine(auto, "log.jsonl")));
        using var a = SafetensorsFile.Read(new RunFolder(auto).CheckpointPath(4));
        using var b = SafetensorsFile.Read(new RunFolder(given).CheckpointPath(4));
        Assert.Equal(b.Tensors.Keys.Order(), a.Tensors.Keys.Order());
        foreach (var (key, t) in b.Tensors)
            Assert.True(Same(t, a.Tensors[key]), $"{method}: '{key}' differs from the run given bf16 {(probe.UsesBf16 ? "on" : "off")}");
        Assert.Equal(b.Metadata["state_numbers"], a.Metadata["state_numbers"]);
    }

    [Fact]
    public void AResumedAutoRunKeepsTheDecisionItStartedWith()
    {
        using var data = Points();
        string dir = TempDir();
        var config = Tiny("ddpm", 2) with { Bf16 = Bf16Mode.Auto, CheckpointEvery = 1 };
        var first = Trainer.Run(new TrainRequest(config, dir, Quiet: true, Previews: false), data).Config.Bf16Probe!;
        string? notice = null;
        var resumed = Trainer.Run(new TrainRequest(config with { Steps = 4 }, dir, Resume: true, Quiet: true, Previews: false, Notice: s => notice = s), data);
        Assert.Equal(first, resumed.Config.Bf16Probe);
        Assert.Null(notice);                                  // nothing measured again
        Assert.Equal(first, TrainConfig.FromJson(File.ReadAllText(Path.Combine(dir, "config.json")), "config.json").Bf16Probe);
    }

    [Theory]
    [InlineData("true", Bf16Mode.On)]
    [InlineData("false", Bf16Mode.Off)]
    [InlineData("\"on\"", Bf16Mode.On)]
    [InlineData("\"off\"", Bf16Mode.Off)]
    [InlineData("\"auto\"", Bf16Mode.Auto)]
    public void ConfigsSayBf16AsAWordAndOldConfigsAsABoolean(string value, Bf16Mode mode)
    {
        var json = JsonNode.Parse(new TrainConfig().ToJson())!.AsObject();
        json["bf16"] = JsonNode.Parse(value);
        var config = TrainConfig.FromJson(json.ToJsonString(), "test.json");
        Assert.Equal(mode, config.Bf16);
        Assert.Contains($"\"bf16\": \"{Bf16Modes.Name(mode)}\"", config.ToJson());
    }

    [Fact]
    public void AnUnknownBf16WordInAConfigIsAOneLineError()
    {
        var json = JsonNode.Parse(new TrainConfig().ToJson())!.AsObject();
        json["bf16"] = "sometimes";
        var e = Assert.Throws<UsageException>(() => TrainConfig.FromJson(json.ToJsonString(), "test.json"));
        Assert.Contains("test.json", e.Message);
        Assert.Contains("bf16", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
