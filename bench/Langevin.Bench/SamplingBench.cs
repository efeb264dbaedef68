using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Langevin.Interop;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Bench;

/// <summary>
/// <c>sampling --run RUN</c> (issue 16): samples per second and peak resident memory drawing N images from a trained
/// reference-U-Net DDPM with DDIM 50 and EDM's Heun 18, here and in the PyTorch peer (bench/peers/torch_sampling.py) on
/// the run's exported weights, from the same start noise and at the same batch, one after the other for each sampler; then
/// ours again with no batch given (the memory budget's choice). The samples of both sides are compared (max |Δ|).
/// </summary>
internal static class SamplingBench
{
    sealed record Options(string Run, int N, int Batch, int Threads, bool Peer)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options("", 1000, 125, Environment.ProcessorCount, true);
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Positive() => int.TryParse(Value(), CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a positive integer");
                o = args[i] switch
                {
                    "--run" => o with { Run = Value() },
                    "--n" => o with { N = Positive() },
                    "--batch" => o with { Batch = Positive() },
                    "--threads" => o with { Threads = Positive() },
                    "--no-peer" => o with { Peer = false },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'"),
                };
            }
            if (o.Run.Length == 0) throw new ArgumentException("sampling needs --run RUN, a DDPM run of the reference U-Net on Fashion-MNIST");
            return o;
        }
    }

    public static int Run(string[] args)
    {
        var o = Options.Parse(args);
        ComputeDevice.SetThreads(o.Threads);   // as the CLI does
        var machine = Machine.Describe(o.Threads);
        Console.WriteLine(Machine.Line(machine));
        using var method = TrainedRuns.OpenRun(o.Run);
        string work = Directory.CreateTempSubdirectory("langevin-sampling-bench-").FullName;
        string export = Path.Combine(work, "export"), noisePath = Path.Combine(work, "noise.npy");
        PyTorchStateDict.Export(o.Run, export);
        using (var z = SamplingBlocks.ItemNoise(0, 0, o.N, method.ItemShape)) NpyFile.Write(noisePath, z);
        string peerScript = Path.Combine(Machine.RepositoryRoot(), "bench", "peers", "torch_sampling.py");
        bool peer = o.Peer && File.Exists(PyTorchPeer.Python) && File.Exists(peerScript);
        if (o.Peer && !peer) Console.WriteLine($"PyTorch peer: {PyTorchPeer.Python} or {peerScript} missing; ours only");

        var results = new JsonArray();
        foreach (var (sampler, steps) in new[] { ("ddim", 50), ("edm", 18) })
        {
            var row = new JsonObject { ["sampler"] = sampler, ["steps"] = steps, ["n"] = o.N, ["batch"] = o.Batch };
            var (ours, oursSeconds, oursPeak, _) = Draw(method, sampler, steps, o.N, o.Batch);
            row["ours_samples_per_s"] = Math.Round(o.N / oursSeconds, 3);
            row["ours_peak_rss_mb"] = oursPeak;
            Console.WriteLine($"{sampler} {steps}: ours {o.N / oursSeconds:F2} samples/s at batch {o.Batch} ({oursSeconds:F1} s), peak RSS {oursPeak} MB");
            if (peer)
            {
                string peerOut = Path.Combine(work, $"peer-{sampler}.npy");
                var json = RunPeer(peerScript, export, noisePath, sampler, steps, o.Batch, o.Threads, peerOut);
                double peerRate = json.GetProperty("samples_per_s").GetDouble();
                using var theirs = NpyFile.Read(peerOut);
                double diff = (ours - theirs).abs().max().item<float>();
                row["peer_samples_per_s"] = peerRate;
                row["peer_maxrss_mb"] = json.GetProperty("maxrss_mb").GetDouble();
                row["ours_over_peer_time"] = Math.Round(peerRate / (o.N / oursSeconds), 3);
                row["max_abs_diff"] = diff;
                Console.WriteLine($"{sampler} {steps}: peer {peerRate:F2} samples/s — our time / peer's {peerRate / (o.N / oursSeconds):F3}; samples differ by ≤ {diff:G3} (in [0, 1])");
            }
            ours.Dispose();
            var (budgeted, budgetSeconds, budgetPeak, note) = Draw(method, sampler, steps, o.N, batch: null);
            budgeted.Dispose();
            row["budget_samples_per_s"] = Math.Round(o.N / budgetSeconds, 3);
            row["budget_peak_rss_mb"] = budgetPeak;
            row["budget_note"] = note;
            Console.WriteLine($"{sampler} {steps}: ours without --batch ({note}): {o.N / budgetSeconds:F2} samples/s, peak RSS {budgetPeak} MB");
            results.Add(row);
        }
        machine["load_end"] = Machine.LoadAverage();
        Directory.Delete(work, recursive: true);
        Console.WriteLine(new JsonObject { ["machine"] = machine, ["threads"] = o.Threads, ["results"] = results }.ToJsonString());
        return 0;
    }

    /// <summary>Our samples in [0, 1] (the CLI's convention for images), the sampling seconds, the peak RSS (MB) during it, and
    /// how the batch was chosen (null batch: the memory budget's).</summary>
    static (Tensor Samples, double Seconds, long PeakMb, string? Note) Draw(IGenerativeMethod method, string sampler, int steps, int n, int? batch)
    {
        NativeHeap.Trim();
        File.WriteAllText("/proc/self/clear_refs", "5");
        long start = Stopwatch.GetTimestamp();
        using var draw = MethodSampling.Run(method, new DrawRequest
        {
            N = n, Sampler = sampler, Steps = steps, Catalog = SamplerRequest.For(sampler, steps), Batch = batch,
        }, new Generator(0), ProgressRunners.Display(quiet: true));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long peak = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024).First();
        return (((draw.Samples + 1) / 2).MoveToOuterDisposeScope(), seconds, peak, draw.BatchNote);
    }

    static JsonElement RunPeer(string script, string export, string noise, string sampler, int steps, int batch, int threads, string outPath)
    {
        var info = new ProcessStartInfo(PyTorchPeer.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { script, "--export", export, "--noise", noise, "--sampler", sampler, "--steps", $"{steps}", "--batch", $"{batch}",
                     "--threads", $"{threads}", "--out", outPath })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the peer");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        if (process.ExitCode != 0 || lines.Length == 0) throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {stderr.Result.Trim()}");
        foreach (string line in lines[..^1]) Console.WriteLine($"  peer | {line}");
        return JsonDocument.Parse(lines[^1]).RootElement.Clone();
    }

}
