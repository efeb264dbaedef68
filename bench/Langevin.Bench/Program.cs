using Langevin.Bench;

// Benchmarks. Each mode prints human-readable lines and, as its last line, one line of JSON.
//   ref-unet --bf16-mixed [--threads N] [--train-reps N]   interleaved A/B: fp32 vs bf16 mixed precision (fp32 master weights)
//   ref-unet [--threads N] [--bf16] [--no-peer] [--no-peak] [--breakdown] [--train-reps N] [--infer-reps N] [--rounds N | --interleave N]
//   sampling --run RUN [--n N] [--batch B]   samples/s and peak RSS, DDIM 50 and EDM Heun 18, against bench/peers/torch_sampling.py
//   mlp [--threads N] [--no-peer]      the 2-D MLP train step and 1,000-step DDIM sampling, against bench/peers/torch_mlp.py
//   micro                              BenchmarkDotNet: sampler-step overhead beside network forwards, 2-D metrics
//   all [--threads N]                  all of the above; the last line is one JSON object keyed by benchmark
string usage = "usage: Langevin.Bench ref-unet [--threads N] [--bf16] [--no-peer] [--no-peak] [--breakdown] [--train-reps N] [--infer-reps N] [--rounds N | --interleave N]\n" +
               "       Langevin.Bench ref-unet --bf16-mixed [--threads N] [--train-reps N]\n" +
               "       Langevin.Bench mlp [--threads N] [--no-peer]\n       Langevin.Bench sampling --run RUN [--n N] [--batch B] [--threads N] [--no-peer]\n       Langevin.Bench micro\n       Langevin.Bench all [--threads N]";
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    return args[0] switch
    {
        "ref-unet" => ReferenceUNetBench.Run(ReferenceUNetBench.Options.Parse(args[1..])),
        "mlp" => MlpBench.Run(args[1..]),
        "sampling" => SamplingBench.Run(args[1..]),
        "micro" => MicroBenchmarks.Run(args[1..]),
        "all" => AllBenchmarks.Run(args[1..]),
        _ => throw new ArgumentException($"unknown benchmark '{args[0]}'"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n{usage}");
    return 2;
}
