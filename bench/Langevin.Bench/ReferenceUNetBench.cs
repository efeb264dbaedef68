using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Langevin.Bench;

/// <summary>
/// shared/bench/reference-unet.md: the reference U-Net's train step (batch 128, DDPM ε-MSE at random integer t,
/// linear betas 1e-4..0.02, Adam lr 2e-4, forward + backward + step; median of 20 after 3 warm-up) and inference
/// (batch 256, no-grad, eval; median of 10 after 2 warm-up), then the same in the PyTorch peer, run after ours;
/// with <c>--rounds N</c> the two alternate N times and the ratios are the medians of the rounds' ratios; with
/// <c>--interleave N</c> one step of ours and one of the peer (bench/peers/torch_unet_server.py, a process that stays up)
/// alternate N times per work item, seconds apart, and the ratio is the median of the N pairs' ratios — the measurement
/// that survives this machine's slow phases (docs/benchmarks.md).
/// </summary>
internal static class ReferenceUNetBench
{
    internal sealed record Options(
        int Threads, bool BFloat16, bool Peer, bool Peak, bool Breakdown, int TrainReps, int InferReps, bool BFloat16Mixed = false, int Rounds = 1,
        int Interleave = 0)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options(Environment.ProcessorCount, false, true, true, false, 20, 10);
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Positive() => int.TryParse(Value(), CultureInfo.InvariantCulture, out int n) && n > 0
                    ? n : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
                o = args[i] switch
                {
                    "--threads" => o with { Threads = Positive() },
                    "--train-reps" => o with { TrainReps = Positive() },
                    "--infer-reps" => o with { InferReps = Positive() },
                    "--rounds" => o with { Rounds = Positive() },
                    "--interleave" => o with { Interleave = Positive() },
                    "--bf16" => o with { BFloat16 = true },
                    "--bf16-mixed" => o with { BFloat16Mixed = true },
                    "--breakdown" => o with { Breakdown = true },
                    "--no-peer" => o with { Peer = false },
                    "--no-peak" => o with { Peak = false },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'"),
                };
            }
            return o;
        }
    }

    const int TrainBatch = 128, InferBatch = 256, Steps = 1000;

    /// <summary>
    /// --interleave N: per work item, N pairs of one step of ours and one of the peer's server, in ABBA order, after a
    /// warm-up of each; prints both medians and the median of the pairs' ratios.
    /// </summary>
    static int Interleaved(Options o, Action train, Action infer, Action trainMode, Action evalMode, JsonObject machine)
    {
        string server = Path.Combine(Machine.RepositoryRoot(), "bench", "peers", "torch_unet_server.py");
        var info = new System.Diagnostics.ProcessStartInfo(PyTorchPeer.Python)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(server);
        info.ArgumentList.Add($"{o.Threads}");
        using var peer = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start the peer server");
        _ = peer.StandardError.ReadToEndAsync();
        string? ready = peer.StandardOutput.ReadLine();
        if (ready != "ready") throw new InvalidOperationException($"{server} did not start: {ready}");
        double Peer(string item)
        {
            peer.StandardInput.WriteLine(item);
            peer.StandardInput.Flush();
            return double.Parse(peer.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
        }
        static double Time(Action a) { long t = System.Diagnostics.Stopwatch.GetTimestamp(); a(); return System.Diagnostics.Stopwatch.GetElapsedTime(t).TotalMilliseconds; }
        var json = new JsonObject { ["machine"] = machine, ["interleave"] = o.Interleave };
        foreach (var (item, ours, mode, warm) in new[] { ("train", train, trainMode, 3), ("infer", infer, evalMode, 2) })
        {
            mode();
            for (int i = 0; i < warm; i++) ours();
            var a = new double[o.Interleave];
            var b = new double[o.Interleave];
            for (int i = 0; i < o.Interleave; i++)
            {
                if (i % 2 == 0) { a[i] = Time(ours); b[i] = Peer(item); }
                else { b[i] = Peer(item); a[i] = Time(ours); }
            }
            double ratio = Machine.Median([.. a.Zip(b, (x, y) => x / y)]);
            Console.WriteLine($"{item,-6} interleaved ×{o.Interleave}: ours median {Machine.Median(a):F1} ms, peer median {Machine.Median(b):F1} ms, " +
                $"median pair ratio {ratio:F3} (pairs {string.Join(" ", a.Zip(b, (x, y) => (x / y).ToString("F2", CultureInfo.InvariantCulture)))})");
            json[$"{item}_ms"] = Math.Round(Machine.Median(a), 2);
            json[$"peer_{item}_ms"] = Math.Round(Machine.Median(b), 2);
            json[$"{item}_ratio"] = Math.Round(ratio, 3);
        }
        peer.StandardInput.WriteLine("quit");
        peer.WaitForExit();
        machine["load_end"] = Machine.LoadAverage();
        Console.WriteLine(json.ToJsonString());
        return 0;
    }


    public static int Run(Options o)
    {
        if (o.BFloat16Mixed) return MixedPrecisionBench.Run(o);
        Langevin.Training.ComputeDevice.SetThreads(o.Threads);   // as the CLI does
        var dtype = o.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var machine = Machine.Describe(o.Threads);
        Console.WriteLine(Machine.Line(machine));
        double loadStart = Machine.LoadAverage();

        manual_seed(0);
        using var model = new UNet(UNetConfig.Reference);
        long parameters = model.parameters().Sum(p => p.numel());
        if (o.BFloat16) model.to(dtype);

        // DDPM (Ho et al. 2020): linear betas, ᾱ_t = ∏(1 − β_s); x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε.
        using var alphasCumprod = cumprod(1.0 - linspace(1e-4, 0.02, Steps, dtype: ScalarType.Float64), 0);
        using var x0 = (rand(TrainBatch, 1, 28, 28) * 2 - 1).to_type(dtype);   // content does not affect timing
        var optimizer = optim.Adam(model.parameters(), lr: 2e-4);

        Tensor Loss()
        {
            var t = randint(0, Steps, [TrainBatch]);
            var noise = randn_like(x0);
            var abar = alphasCumprod.index_select(0, t).to_type(dtype).reshape(-1, 1, 1, 1);
            var xt = abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise;
            return F.mse_loss(model.forward(xt, t.to_type(ScalarType.Float32)), noise);
        }

        void TrainStep()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            Loss().backward();
            optimizer.step();
        }

        using var xb = randn(InferBatch, 1, 28, 28).to_type(dtype);
        using var tb = randint(0, Steps, [InferBatch]).to_type(ScalarType.Float32);
        void Infer()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.forward(xb, tb);
        }
        (double Train, double Infer) Ours()
        {
            model.train();
            double train = Machine.MedianMs(TrainStep, warmup: 3, reps: o.TrainReps);
            model.eval();
            return (train, Machine.MedianMs(Infer, warmup: 2, reps: o.InferReps));
        }

        string? script = PyTorchPeer.FindScript();
        string? unavailable = o.Peer ? PyTorchPeer.Unavailable(script) : "skipped (--no-peer)";
        if (o.Interleave > 0)
        {
            if (unavailable is not null) throw new ArgumentException($"--interleave needs the PyTorch peer: {unavailable}");
            return Interleaved(o, TrainStep, Infer, () => model.train(), () => model.eval(), machine);
        }
        var ours = new List<(double Train, double Infer)>();
        var peers = new List<System.Text.Json.JsonElement>();
        for (int round = 1; round <= o.Rounds; round++)
        {
            ours.Add(Ours());
            if (o.Rounds > 1) Console.WriteLine($"round {round}: ours train {ours[^1].Train:F1} ms, inference {ours[^1].Infer:F1} ms");
            if (unavailable is not null) continue;
            Console.WriteLine($"PyTorch peer: {PyTorchPeer.Python} {script} bench");
            peers.Add(PyTorchPeer.Run(script!, "bench"));
        }
        double trainMs = Machine.Median([.. ours.Select(r => r.Train)]), inferMs = Machine.Median([.. ours.Select(r => r.Infer)]);
        double loadAfterTrain = Machine.LoadAverage();

        (double Forward, double Backward, double Step)? breakdown = null;
        if (o.Breakdown)
        {
            var f = new List<double>(); var b = new List<double>(); var s = new List<double>();
            for (int i = 0; i < 6; i++)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                var loss = Loss();
                long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                loss.backward();
                long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
                optimizer.step();
                long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
                if (i == 0) continue;
                f.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                b.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
                s.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
            }
            breakdown = (Machine.Median([.. f]), Machine.Median([.. b]), Machine.Median([.. s]));
        }

        double loadEnd = Machine.LoadAverage();

        string variant = o.BFloat16 ? "bf16 (whole model cast: TorchSharp 0.107 has no autocast)" : "fp32";
        Console.WriteLine($"TorchSharp reference U-Net, {variant}, threads {get_num_threads()}, " +
            $"load average at start {loadStart:F2}, after the rounds {loadAfterTrain:F2}, at end {loadEnd:F2}");
        Console.WriteLine($"params            {parameters}");
        Console.WriteLine($"train step  b={TrainBatch} median {trainMs:F1} ms over {o.TrainReps}" + (o.Rounds > 1 ? $" (median of {o.Rounds} rounds)" : ""));
        if (breakdown is { } bd)
            Console.WriteLine($"  breakdown       forward {bd.Forward:F1} ms, backward {bd.Backward:F1} ms, Adam step {bd.Step:F1} ms");
        Console.WriteLine($"inference   b={InferBatch} median {inferMs:F1} ms over {o.InferReps}" + (o.Rounds > 1 ? $" (median of {o.Rounds} rounds)" : ""));

        var json = new JsonObject
        {
            ["machine"] = machine,
            ["rounds"] = o.Rounds,
            ["params"] = parameters,
            ["train_ms"] = Math.Round(trainMs, 2),
            ["infer_ms"] = Math.Round(inferMs, 2),
            ["dtype"] = o.BFloat16 ? "bfloat16" : "float32",
            ["threads"] = get_num_threads(),
            ["load_start"] = loadStart,
            ["load_end"] = loadEnd,
        };

        if (unavailable is not null)
            Console.WriteLine($"PyTorch peer: {unavailable}");
        else
        {
            var peer = peers[0];
            double Of(string key, int i) => peers[i].GetProperty(key).GetDouble();
            double peerTrain = Machine.Median([.. peers.Select((_, i) => Of("train_ms", i))]), peerInfer = Machine.Median([.. peers.Select((_, i) => Of("infer_ms", i))]);
            // the ratio of each round (ours then the peer, minutes apart), then their median: load shifts fall on both sides of a round
            double trainRatio = Machine.Median([.. ours.Select((r, i) => r.Train / Of("train_ms", i))]);
            double inferRatio = Machine.Median([.. ours.Select((r, i) => r.Infer / Of("infer_ms", i))]);
            double gmacs = peer.GetProperty("gmacs_per_sample").GetDouble();
            long peerParams = peer.GetProperty("params").GetInt64();
            // 1 MAC = 2 FLOP; a train step ≈ 3 forwards (forward + 2× for backward), as the peer counts.
            double trainGflops = 3 * 2 * gmacs * TrainBatch / (trainMs / 1e3);
            double inferGflops = 2 * gmacs * InferBatch / (inferMs / 1e3);
            json["peer_params"] = peerParams;
            json["peer_train_ms"] = peerTrain;
            json["peer_infer_ms"] = peerInfer;
            json["train_ratio"] = Math.Round(trainRatio, 3);
            json["infer_ratio"] = Math.Round(inferRatio, 3);
            json["gmacs_per_sample"] = gmacs;
            json["train_gflops"] = Math.Round(trainGflops, 2);
            json["infer_gflops"] = Math.Round(inferGflops, 2);
            Console.WriteLine($"params equal      {(peerParams == parameters ? "yes" : $"NO: peer {peerParams}")}");
            Console.WriteLine($"train  ours/peer  {trainMs:F1} / {peerTrain:F1} ms = {trainRatio:F3}  (ours ~{trainGflops:F1} GFLOP/s at 3× fwd)");
            Console.WriteLine($"infer  ours/peer  {inferMs:F1} / {peerInfer:F1} ms = {inferRatio:F3}  (ours ~{inferGflops:F1} GFLOP/s)");
            if (o.Peak)
            {
                Console.WriteLine($"PyTorch peer: {PyTorchPeer.Python} {script} peak");
                var peak = PyTorchPeer.Run(script!, "peak");
                double conv = peak.GetProperty("conv1x1_gflops").GetDouble();
                json["conv1x1_gflops"] = conv;
                json["train_share_of_conv1x1"] = Math.Round(trainGflops / conv, 3);
                json["infer_share_of_conv1x1"] = Math.Round(inferGflops / conv, 3);
                Console.WriteLine($"train step at {100 * trainGflops / conv:F0}%, inference at {100 * inferGflops / conv:F0}% of the oneDNN 1x1-conv ceiling ({conv:F1} GFLOP/s)");
            }
            json["load_end"] = Machine.LoadAverage();
        }
        Console.WriteLine(json.ToJsonString());
        return 0;
    }
}
