using System.Text.Json.Nodes;
using Langevin.Guidance;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Tests.Cli;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Guidance;

/// <summary>Class-conditional training (label dropout, class embeddings), the noisy classifier, and guided sampling from the CLI.</summary>
public class ConditionalTrainingTests
{
    static string TempDir() => Directory.CreateTempSubdirectory("langevin-guidance-").FullName;

    /// <summary>Two separated classes of 2-D points: class 0 around (−1.5, 0), class 1 around (1.5, 0).</summary>
    static (Tensor X, Tensor Labels) TwoClasses(long n = 512)
    {
        using var g = new Generator(13);
        var labels = randint(0, 2, [n], ScalarType.Int64, generator: g);
        var x = randn([n, 2], generator: g) * 0.3 + stack([labels.to(float32) * 3 - 1.5, zeros(n)], 1);
        return (x, labels);
    }

    static TrainConfig Conditional(long steps) => new()
    {
        Settings = new DdpmConfig { Timesteps = 100, SampleSteps = 10 },
        Data = "two-classes", Steps = steps, BatchSize = 32, LearningRate = 2e-3, CheckpointEvery = 100, SampleEvery = 0, LogEvery = 1,
        Seed = 4, Threads = 1, EmaDecay = 0.9,
        Network = new NetworkConfig { Kind = "mlp", Width = 32, Depth = 2, Classes = 2, LabelDropout = 0.5 },
    };

    static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void LabelDropoutAndTheClassEmbeddingAreDeterministicAndResumeExactly()
    {
        var (x, labels) = TwoClasses();
        using var _ = x;
        using var __ = labels;
        string whole = TempDir(), again = TempDir(), resumed = TempDir();
        Trainer.Run(new TrainRequest(Conditional(8), whole, Quiet: true, Previews: false), x, labels, null);
        Trainer.Run(new TrainRequest(Conditional(8), again, Quiet: true, Previews: false), x, labels, null);
        Trainer.Run(new TrainRequest(Conditional(4), resumed, Quiet: true, Previews: false), x, labels, null);
        Trainer.Run(new TrainRequest(Conditional(8), resumed, Resume: true, Quiet: true, Previews: false), x, labels, null);
        using var a = SafetensorsFile.Read(new RunFolder(whole).CheckpointPath(8));
        Assert.Contains(a.Tensors.Keys, k => k.Contains("label_emb"));
        foreach (var other in new[] { again, resumed })
        {
            Assert.Equal(TrainingLog.ReadLosses(Path.Combine(whole, "log.jsonl")), TrainingLog.ReadLosses(Path.Combine(other, "log.jsonl")));
            using var b = SafetensorsFile.Read(new RunFolder(other).CheckpointPath(8));
            foreach (var (key, t) in a.Tensors) Assert.True(Same(t, b.Tensors[key]), $"'{key}' differs");
        }
    }

    [Fact]
    public void AConditionalRunSamplesTheClassAskedForAndCfgSharpensIt()
    {
        var (x, labels) = TwoClasses(2048);
        using var _ = x;
        using var __ = labels;
        string run = TempDir();
        Trainer.Run(new TrainRequest(Conditional(1500) with { Network = LabelDropout() }, run, Quiet: true, Previews: false), x, labels, null);
        using var method = (DdpmMethod)TrainedRuns.OpenRun(run);
        foreach (long k in new long[] { 0, 1 })
        foreach (double w in new[] { 0.0, 2.0 })
        {
            using var gen = new Generator(1);
            var guidance = new ClassGuidance(full([400], k, ScalarType.Int64), new GuidanceScales(Cfg: w));
            using var draw = MethodSampling.Run(method, new DrawRequest { N = 400, Sampler = "ddim", Steps = 20, Guidance = guidance }, gen, ProgressRunners.Silent);
            double right = ((draw.Samples.select(1, 0) > 0).to(ScalarType.Int64).eq(k)).to(float64).mean().item<double>();
            Assert.True(right > 0.97, $"class {k}, w {w}: only {right:P1} on its side");
            Assert.Equal(w > 0 ? 40 : 20, draw.Evaluations);   // CFG: two network calls per step
        }
    }

    [Fact]
    public void TheNoisyClassifierLearnsTheLabelsAtLowNoiseAndGuidesAnUnconditionalRun()
    {
        var (x, labels) = TwoClasses(2048);
        using var _ = x;
        using var __ = labels;
        string denoiser = TempDir(), classifier = TempDir();
        Trainer.Run(new TrainRequest(Conditional(1500) with { Network = new NetworkConfig { Kind = "mlp", Width = 64, Depth = 2 } }, denoiser, Quiet: true, Previews: false), x, labels, null);
        var config = Conditional(600) with
        {
            Settings = new NoisyClassifierConfig { Denoiser = new ComponentReference(denoiser), Width = 32, Depth = 2 },
            Network = new NetworkConfig { Kind = "mlp", Classes = 2 },
        };
        Trainer.Run(new TrainRequest(config, classifier, Quiet: true, Previews: false), x, labels, null);
        var log = File.ReadAllLines(Path.Combine(classifier, "log.jsonl")).TakeLast(100).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        double low = log.Where(l => l["acc_q1"] is not null).Average(l => l["acc_q1"]!.GetValue<double>());
        double high = log.Where(l => l["acc_q4"] is not null).Average(l => l["acc_q4"]!.GetValue<double>());
        Assert.True(low > 0.95, $"accuracy at the lowest noise quarter {low:P1}");
        Assert.True(high < low, $"accuracy should fall with σ: {high:P1} at the highest quarter vs {low:P1}");

        using var model = (DdpmMethod)TrainedRuns.OpenRun(denoiser);
        using var cls = (NoisyClassifierMethod)TrainedRuns.OpenRun(classifier);
        using var gen = new Generator(2);
        var guidance = new ClassGuidance(full([400], 1L, ScalarType.Int64), new GuidanceScales(Classifier: 2), cls.Classifier);
        using var draw = MethodSampling.Run(model, new DrawRequest { N = 400, Sampler = "ddim", Steps = 20, Guidance = guidance }, gen, ProgressRunners.Silent);
        double right = (draw.Samples.select(1, 0) > 0).to(float64).mean().item<double>();
        Assert.True(right > 0.95, $"classifier-guided toward class 1: only {right:P1} on its side (unguided: about half)");
        Assert.Equal(20, draw.Evaluations);
        Assert.Equal(20, draw.ClassifierEvaluations);
    }

    [Fact]
    public void TheCliSamplesClassesWithEveryCatalogSamplerAndRefusesWhatCannotBeGuided()
    {
        string dir = TempDir(), run = Path.Combine(dir, "cond");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "shapes:16", "--limit", "64", "--out", run, "--steps", "2", "--batch", "8",
            "--channels", "8", "--mults", "1,2", "--res-blocks", "1", "--classes", "4", "--checkpoint-every", "2", "--sample-every", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        // every catalog sampler in-process (one CLI call each would cost a process start), then the CLI's own path
        using (var method = (DdpmMethod)TrainedRuns.OpenRun(run))
            foreach (var sampler in Langevin.Samplers.SamplerCatalog.Names)
            {
                var request = sampler == "ode-rk45" ? new Langevin.Samplers.SamplerRequest { Sampler = sampler, Rtol = 1e-2, Atol = 1e-2 }
                    : new Langevin.Samplers.SamplerRequest { Sampler = sampler, Steps = 3 };
                using var gen = new Generator(0);
                using var draw = MethodSampling.Run(method, new DrawRequest { N = 4, Sampler = sampler, Steps = request.Steps, Catalog = request,
                    Guidance = new ClassGuidance(ClassGuidance.ParseLabels("all", 4, 4), new GuidanceScales(Cfg: 1)) }, gen, ProgressRunners.Silent);
                Assert.True(draw.Samples.isfinite().all().item<bool>(), $"{sampler}: non-finite samples");
                Assert.True(draw.Evaluations >= 2, $"{sampler}: NFE {draw.Evaluations}");
            }
        var r = CliRunner.Run("sample", "--run", run, "--sampler", "ddim", "--steps", "3", "--n", "4", "--class", "all", "--cfg", "1", "--out", Path.Combine(dir, "ddim.npy"), "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("NFE 6", r.Stdout);
        using var labels = NpyFile.Read(Path.Combine(dir, "ddim.labels.npy"), integers: true);
        Assert.Equal(new long[] { 0, 1, 2, 3 }, labels.data<long>().ToArray());
        // inpainting fills each image as its class (or unconditionally); interpolation keeps working on a conditional run
        var ip = CliRunner.Run("inpaint", "--run", run, "--data", "shapes:16", "--n", "4", "--steps", "3", "--class", "all", "--cfg", "1",
            "--out", Path.Combine(dir, "inpainted.npy"), "--grid", Path.Combine(dir, "inpainted.png"), "--quiet");
        Assert.True(ip.ExitCode == 0, ip.Stderr + ip.Stdout);
        using (var filled = NpyFile.Read(Path.Combine(dir, "inpainted.npy")))
            Assert.Equal(new long[] { 4, 3, 16, 16 }, filled.shape);
        using (var inpaintLabels = NpyFile.Read(Path.Combine(dir, "inpainted.labels.npy"), integers: true))
            Assert.Equal(new long[] { 0, 1, 2, 3 }, inpaintLabels.data<long>().ToArray());
        var plainInpaint = CliRunner.Run("inpaint", "--run", run, "--data", "shapes:16", "--n", "2", "--steps", "3", "--grid", Path.Combine(dir, "inpainted-none.png"), "--quiet");
        Assert.True(plainInpaint.ExitCode == 0, plainInpaint.Stderr + plainInpaint.Stdout);
        var lerp = CliRunner.Run("interpolate", "--run", run, "--data", "shapes:16", "--pairs", "1", "--frames", "3", "--steps", "3", "--grid", Path.Combine(dir, "lerp.png"), "--quiet");
        Assert.True(lerp.ExitCode == 0, lerp.Stderr + lerp.Stdout);
        CliRunner.AssertFails(CliRunner.Run("inpaint", "--run", run, "--data", "shapes:16", "--n", "2", "--class", "all", "--grid", Path.Combine(dir, "x.png")), 2, "4 classes but only 2 samples");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--class", "7", "--out", Path.Combine(dir, "x.npy")), 2, "'7' is not a class");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--cfg", "1", "--out", Path.Combine(dir, "x.npy")), 2, "--cfg needs --class");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", run, "--class", "1", "--guidance", "2", "--out", Path.Combine(dir, "x.npy")), 2, "--guidance needs --classifier");
        string plain = TinyRuns.DdpmOnShapes(Path.Combine(dir, "plain"), 2);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", plain, "--class", "1", "--cfg", "2", "--out", Path.Combine(dir, "x.npy")), 2, "--cfg needs a class-conditional run");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", plain, "--class", "1", "--out", Path.Combine(dir, "x.npy")), 2, "this run is unconditional");
        CliRunner.AssertFails(CliRunner.Run("inpaint", "--run", plain, "--class", "1", "--grid", Path.Combine(dir, "x.png")), 2, "this run is unconditional");
        Assert.False(File.Exists(Path.Combine(dir, "x.npy")));
        Assert.False(File.Exists(Path.Combine(dir, "x.png")));
    }

    [Fact]
    public void TheGuidanceSweepWritesEveryRowAndAnInterruptedSweepKeepsItsRows()
    {
        string dir = TempDir(), run = Path.Combine(dir, "cond"), cls = Path.Combine(dir, "cls"), sweep = Path.Combine(dir, "sweep");
        var t = CliRunner.Run("train", "--method", "ddpm", "--data", "8gaussians", "--classes", "8", "--steps", "30", "--width", "32", "--depth", "2",
            "--out", run, "--checkpoint-every", "30", "--sample-every", "0", "--threads", "1", "--quiet");
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        // the classifier's class count comes from its denoiser; repeating the command with --resume continues it
        string[] classifier = ["train", "--method", "noisy-classifier", "--denoiser", run, "--data", "8gaussians", "--width", "32", "--depth", "2",
            "--out", cls, "--checkpoint-every", "10", "--sample-every", "0", "--threads", "1", "--quiet"];
        foreach (var (steps, resume) in new[] { ("10", false), ("20", true) })
        {
            var c = CliRunner.Run([.. classifier, "--steps", steps, .. resume ? new[] { "--resume" } : []]);
            Assert.True(c.ExitCode == 0, c.Stderr + c.Stdout);
        }
        string[] sweepArgs = ["guidance", "--run", run, "--classifier", cls, "--n", "80", "--steps", "4", "--out", sweep, "--quiet", "--threads", "1"];
        var first = CliRunner.Run([.. sweepArgs, "--cfg", "0,1", "--guidance", "1"]);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(sweep, "guidance.json")))!["rows"]!.AsArray();
        Assert.Equal(["cfg 0", "cfg 1", "classifier 1"], rows.Select(r => $"{r!["guidance"]} {r["scale"]}"));
        foreach (var r in rows)
        {
            Assert.InRange(r!["class_acc"]!.GetValue<double>(), 0, 1);
            Assert.True(r["sw2_vs_exact_conditional"]!.GetValue<double>() > 0);
        }
        Assert.Equal(8, rows[1]!["nfe"]!.GetValue<int>());                 // CFG: two network calls per step
        Assert.Equal(4, rows[2]!["classifier_evaluations"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(sweep, "guidance.png")) && File.Exists(Path.Combine(sweep, "guidance-cfg-1.png")));
        // the same sweep with one more row: the earlier rows are kept as measured, only the new one is drawn
        var more = CliRunner.Run([.. sweepArgs, "--cfg", "0,1,2", "--guidance", "1"]);
        Assert.True(more.ExitCode == 0, more.Stderr + more.Stdout);
        Assert.Contains("3 row(s) kept", more.Stdout);
        var again = JsonNode.Parse(File.ReadAllText(Path.Combine(sweep, "guidance.json")))!["rows"]!.AsArray();
        Assert.Equal(4, again.Count);
        Assert.True(JsonNode.DeepEquals(rows[0], again[0]) && JsonNode.DeepEquals(rows[2], again[3]));
        // other settings do not overwrite it
        CliRunner.AssertFails(CliRunner.Run([.. sweepArgs[..5], "--n", "40", .. sweepArgs[7..]]), 2, "holds a sweep with other settings (n 80 there, 40 now)");
        Assert.Equal(4, JsonNode.Parse(File.ReadAllText(Path.Combine(sweep, "guidance.json")))!["rows"]!.AsArray().Count);
    }

    static NetworkConfig LabelDropout() => new() { Kind = "mlp", Width = 64, Depth = 2, Classes = 2, LabelDropout = 0.2 };
}
