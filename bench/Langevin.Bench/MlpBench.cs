using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Models;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Bench;

/// <summary>
/// The 2-D MLP benchmark of the diffusion-core issue: ScoreMlp (2 → 3×256 SiLU, sinusoidal t-embedding 32) as a DDPM
/// ε-network; a train step at batch 1024 (ε-MSE at random integer t, our Adam, lr 1e-3; median of 50 after 10 warm-up)
/// and a 1,000-step DDIM (η = 0) sampling run of 10,000 points, then the same in bench/peers/torch_mlp.py.
/// </summary>
internal static class MlpBench
{
    const int Batch = 1024, Points = 10_000, SampleSteps = 1000, TrainReps = 50, Warmup = 10;

    public static int Run(string[] args)
    {
        int threads = args.Length >= 2 && args[0] == "--threads" ? int.Parse(args[1], CultureInfo.InvariantCulture) : Environment.ProcessorCount;
        bool peer = !args.Contains("--no-peer");
        Langevin.Training.ComputeDevice.SetThreads(threads);   // as the CLI does
        double loadStart = Machine.LoadAverage();
        manual_seed(0);
        using var net = new ScoreMlp(new ScoreMlpConfig(2, 256, 3, 32));
        var schedule = new VpDiscreteSchedule();
        var denoiser = new PreconditionedDenoiser(net, ScaledFramePreconditioning.VpDiscrete(schedule, Prediction.Epsilon));
        using var abar = tensor(schedule.AlphasCumprod);
        using var x0 = randn(Batch, 2);
        using var adam = new AdamOptimizer(net.named_parameters().Select(p => (p.name, p.parameter)));
        void TrainStep()
        {
            using var scope = NewDisposeScope();
            var t = randint(0, 1000, [Batch]);
            var eps = randn_like(x0);
            var a = abar.index_select(0, t).unsqueeze(1);
            var xt = a.sqrt() * x0 + (1 - a).sqrt() * eps;                    // Ho et al. 2020, Eq. 4
            adam.ZeroGrad();
            nn.functional.mse_loss(net.forward(xt, t.to(float32)), eps).backward();
            adam.Step(1e-3);
        }
        var times = new List<double>();
        for (int i = 0; i < Warmup + TrainReps; i++)
        {
            var clock = Stopwatch.StartNew();
            TrainStep();
            if (i >= Warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double trainMs = times[times.Count / 2];

        net.eval();
        var plan = SamplerCatalog.Plan(new SamplerRequest { Sampler = "ddim", Steps = SampleSteps }, new SamplingProcess(SamplingProcess.Vp, schedule));
        using var noise = randn(Points, 2);
        var sampleClock = Stopwatch.StartNew();
        using (var x = DiffusionSamplers.Ddim(denoiser, noise * plan.InitialScale, plan.Sigmas, targets: plan.Targets, carry: plan.Carry)) { }
        double sampleS = sampleClock.Elapsed.TotalSeconds;
        Console.WriteLine($"ours  | MLP train step (batch {Batch}): median {trainMs:F3} ms; DDIM {SampleSteps} steps × {Points} points: {sampleS:F2} s ({threads} threads, load {loadStart:F2})");

        var result = new JsonObject { ["threads"] = threads, ["load_start"] = loadStart, ["train_ms"] = trainMs, ["sample_s"] = sampleS };
        if (peer)
        {
            string script = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "peers", "torch_mlp.py");
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Langevin.sln"))) { script = Path.Combine(dir.FullName, "bench", "peers", "torch_mlp.py"); break; }
            var info = new ProcessStartInfo(PyTorchPeer.Python) { RedirectStandardOutput = true, UseShellExecute = false };
            info.ArgumentList.Add(script);
            info.ArgumentList.Add("--threads");
            info.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
            using var p = Process.Start(info)!;
            var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            p.WaitForExit();
            if (p.ExitCode != 0 || lines.Length == 0) throw new InvalidOperationException($"{script} failed ({p.ExitCode})");
            foreach (var line in lines[..^1]) Console.WriteLine($"peer  | {line}");
            var peerJson = JsonNode.Parse(lines[^1])!;
            double peerTrain = peerJson["train_ms"]!.GetValue<double>(), peerSample = peerJson["sample_s"]!.GetValue<double>();
            result["peer_train_ms"] = peerTrain;
            result["peer_sample_s"] = peerSample;
            result["train_ratio"] = trainMs / peerTrain;
            result["sample_ratio"] = sampleS / peerSample;
            Console.WriteLine($"ratio | train {trainMs / peerTrain:F2}, sampling {sampleS / peerSample:F2} (ours / PyTorch; < 1 is faster)");
        }
        Console.WriteLine(result.ToJsonString());
        return 0;
    }
}
