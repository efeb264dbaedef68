// Train a small DDPM on eight Gaussians, sample it with two samplers and score both samples — the library API alone.
// usage: dotnet run --project examples/Langevin.Example -c Release -- [RUN_DIR] [STEPS]
using Langevin.Data;
using Langevin.Methods;
using Langevin.Metrics;
using Langevin.Training;
using TorchSharp;

string runDir = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "langevin-example-ddpm");
long steps = args.Length > 1 ? long.Parse(args[1]) : 3000;

// 1. Train with the method's own recipe for this data (the same config `langevin train --method ddpm` starts from).
using var data = DataSources.Load("8gaussians", new DataOptions(Seed: 0));
var config = MethodRegistry.Get("ddpm").StartingConfig("8gaussians") with { Steps = steps, SampleEvery = 0 };
if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
var trained = Trainer.Run(new TrainRequest(config, runDir, Quiet: true), data);
Console.WriteLine($"trained {trained.Step} steps in {trained.Elapsed.TotalSeconds:F0} s, final loss {trained.LastLoss:F4}");

// 2. Open the run (EMA weights) and draw 2,000 points with DDIM at 20 steps and DPM-Solver++(2M) at 10.
using var model = TrainedRuns.OpenRun(runDir);
foreach (var (sampler, sampleSteps) in new[] { ("ddim", 20), ("dpmpp-2m", 10) })
{
    using var gen = new torch.Generator(1);
    using var draw = MethodSampling.Run(model, new DrawRequest { N = 2000, Sampler = sampler, Steps = sampleSteps }, gen, ProgressRunners.Silent);

    // 3. Score them against fresh draws of the data: sliced Wasserstein and the modes covered, each beside its floor.
    foreach (var (metric, value, floor) in PointSetEvaluation.Evaluate(draw.Samples, "8gaussians", ["swd", "modes"], seed: 0))
        Console.WriteLine($"{sampler,-9} NFE {draw.Evaluations,3}  {metric,-6} {value,8:G4}  (floor {floor:G4})");
}
