using System.Diagnostics;
using System.Text.Json.Nodes;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Langevin.Bench;

/// <summary>
/// <c>ref-unet --bf16-mixed</c>: the reference U-Net's train step (batch 128, DDPM ε-MSE, the trainer's Adam at lr 2e-4)
/// in fp32 and in mixed precision with fp32 master weights (<see cref="BFloat16WorkingCopy"/>), as an interleaved A/B in
/// one process — fp32, mixed, mixed, fp32, … — so that load from other processes falls on both arms alike.
/// Reports each arm's median and the median of the per-pair ratios mixed / fp32.
/// </summary>
internal static class MixedPrecisionBench
{
    const int Batch = 128, Steps = 1000;

    public static int Run(ReferenceUNetBench.Options o)
    {
        Langevin.Training.ComputeDevice.SetThreads(o.Threads);   // as the CLI does
        var machine = Machine.Describe(o.Threads);
        Console.WriteLine(Machine.Line(machine));
        double loadStart = Machine.LoadAverage();
        manual_seed(0);
        using var master = new UNet(UNetConfig.Reference);
        using var workingNetwork = new UNet(UNetConfig.Reference);
        using var working = new BFloat16WorkingCopy(master, workingNetwork);
        using var adam = new AdamOptimizer(master.named_parameters().Select(p => (p.name, p.parameter)));
        master.train();
        workingNetwork.train();

        // DDPM (Ho et al. 2020): linear betas, ᾱ_t = ∏(1 − β_s); x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε.
        using var alphasCumprod = cumprod(1.0 - linspace(1e-4, 0.02, Steps, dtype: ScalarType.Float64), 0).to_type(ScalarType.Float32);
        using var x0 = rand(Batch, 1, 28, 28) * 2 - 1;   // content does not affect timing

        Tensor Loss(nn.Module<Tensor, Tensor, Tensor> network)
        {
            var t = randint(0, Steps, [Batch]);
            var noise = randn_like(x0);
            var abar = alphasCumprod.index_select(0, t).reshape(-1, 1, 1, 1);
            var xt = abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise;
            return F.mse_loss(network.call(xt, t.to_type(ScalarType.Float32)), noise);   // fp32 in, fp32 out either way
        }

        double Fp32Step()
        {
            long start = Stopwatch.GetTimestamp();
            using (var scope = NewDisposeScope())
            {
                adam.ZeroGrad();
                Loss(master).backward();
                adam.Step(2e-4);
            }
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        double MixedStep()
        {
            long start = Stopwatch.GetTimestamp();
            using (var scope = NewDisposeScope())
            {
                working.PullWeights();
                adam.ZeroGrad();
                Loss(workingNetwork).backward();
                working.PushGradients();
                adam.Step(2e-4);
            }
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        for (int i = 0; i < 2; i++) { Fp32Step(); MixedStep(); }   // warm-up
        var fp32 = new double[o.TrainReps];
        var mixed = new double[o.TrainReps];
        for (int i = 0; i < o.TrainReps; i++)
        {
            if (i % 2 == 0) { fp32[i] = Fp32Step(); mixed[i] = MixedStep(); }   // ABBA order: neither arm always goes first
            else { mixed[i] = MixedStep(); fp32[i] = Fp32Step(); }
            Console.WriteLine($"pair {i + 1,2}: fp32 {fp32[i]:F0} ms, mixed {mixed[i]:F0} ms (load {Machine.LoadAverage():F1})");
        }
        double loadEnd = Machine.LoadAverage();
        double fp32Median = Machine.Median(fp32), mixedMedian = Machine.Median(mixed);
        double pairRatio = Machine.Median([.. mixed.Zip(fp32, (m, f) => m / f)]);

        Console.WriteLine($"reference U-Net train step b={Batch}, interleaved A/B, {o.TrainReps} pairs, threads {get_num_threads()}, " +
            $"load average {loadStart:F2} → {loadEnd:F2}");
        Console.WriteLine($"fp32                        median {fp32Median:F1} ms");
        Console.WriteLine($"bf16 mixed (fp32 master)    median {mixedMedian:F1} ms");
        Console.WriteLine($"mixed / fp32                {mixedMedian / fp32Median:F3} (medians), {pairRatio:F3} (median of per-pair ratios)");
        Console.WriteLine(new JsonObject
        {
            ["machine"] = machine,
            ["pairs"] = o.TrainReps,
            ["fp32_train_ms"] = Math.Round(fp32Median, 2),
            ["bf16_mixed_train_ms"] = Math.Round(mixedMedian, 2),
            ["ratio_of_medians"] = Math.Round(mixedMedian / fp32Median, 3),
            ["median_pair_ratio"] = Math.Round(pairRatio, 3),
            ["threads"] = get_num_threads(),
            ["load_start"] = loadStart,
            ["load_end"] = loadEnd,
        }.ToJsonString());
        return 0;
    }
}
