using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Langevin.Tests.Training;

public class BFloat16WorkingCopyTests
{
    static readonly UNetConfig Small = new(1, 1, 8, 16, [1, 2], 1, [4], 0, 8);

    static Dictionary<string, Tensor> Gradients(nn.Module m) =>
        m.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());

    static double RelativeError(IReadOnlyDictionary<string, Tensor> a, IReadOnlyDictionary<string, Tensor> exact)
    {
        double diff = 0, norm = 0;
        foreach (var (k, e) in exact)
        {
            diff += (a[k] - e).square().sum().to(float64).item<double>();
            norm += e.square().sum().to(float64).item<double>();
        }
        return Math.Sqrt(diff / norm);
    }

    [Fact]
    public void MixedGradientEqualsTheFp32GradientWithinBFloat16PrecisionAndTheMasterStaysFp32()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var master = new UNet(Small);
        using var working = new UNet(Small);
        using var copy = new BFloat16WorkingCopy(master, working);
        var x = randn(16, 1, 8, 8);
        var t = randint(0, 1000, [16]).to_type(ScalarType.Float32);
        var target = randn(16, 1, 8, 8);

        foreach (var (name, p) in working.named_parameters())
        {
            Assert.Equal(ScalarType.BFloat16, p.dtype);
            var m = master.get_parameter(name)!;
            Assert.True(p.eq(m.to_type(ScalarType.BFloat16)).all().item<bool>(), $"{name}: working copy is not bf16(master)");
        }

        F.mse_loss(master.call(x, t), target).backward();            // the exact fp32 gradient
        var exact = Gradients(master);
        foreach (var p in master.parameters()) p.grad = null;

        copy.PullWeights();
        var output = working.call(x, t);
        Assert.Equal(ScalarType.Float32, output.dtype);                // cast back at the boundary: the loss reduces in fp32
        F.mse_loss(output, target).backward();
        copy.PushGradients();
        foreach (var (name, p) in master.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            Assert.Null(working.get_parameter(name)!.grad);
        }
        var mixed = Gradients(master);
        double error = RelativeError(mixed, exact);
        // bf16 keeps 8 mantissa bits (unit roundoff 2⁻⁸ ≈ 0.004); through a few layers the error stays at that order.
        Assert.InRange(error, 1e-4, 0.03);                            // > 0: the working copy really ran in bf16
    }

    [Fact]
    public void AdamUpdatesSmallerThanABFloat16UlpAccumulateInTheFp32Master()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var master = new UNet(Small);
        using var reference = new UNet(Small);                       // the same weights, trained in fp32
        reference.load_state_dict(master.state_dict());
        using var working = new UNet(Small);
        using var copy = new BFloat16WorkingCopy(master, working);
        using var adamMixed = new AdamOptimizer(master.named_parameters().Select(p => (p.name, p.parameter)));
        using var adamFp32 = new AdamOptimizer(reference.named_parameters().Select(p => (p.name, p.parameter)));
        var x = randn(16, 1, 8, 8);
        var t = randint(0, 1000, [16]).to_type(ScalarType.Float32);
        var target = randn(16, 1, 8, 8);
        var before = master.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        const double lr = 1e-5;

        F.mse_loss(reference.call(x, t), target).backward();
        adamFp32.Step(lr);
        copy.PullWeights();
        F.mse_loss(working.call(x, t), target).backward();
        copy.PushGradients();
        adamMixed.Step(lr);

        // Adam's first step moves each weight by ≈ −lr·sign(g): the mixed update equals fp32's except where g ≈ 0
        // (there bf16's rounding can flip the sign of g).
        long total = 0, agree = 0, moved = 0, movedInBf16 = 0;
        copy.PullWeights();
        foreach (var (name, p) in master.named_parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            var mixedUpdate = p.detach() - before[name];
            var fp32Update = reference.get_parameter(name)!.detach() - before[name];
            agree += (mixedUpdate - fp32Update).abs().lt(0.1 * lr).sum().item<long>();
            total += p.numel();
            moved += p.ne(before[name]).sum().item<long>();
            var bf16Before = before[name].to_type(ScalarType.BFloat16);
            movedInBf16 += working.get_parameter(name)!.ne(bf16Before).sum().item<long>();
        }
        Assert.True(agree > 0.97 * total, $"the mixed update equals fp32's for only {agree} of {total} weights");
        Assert.True(moved > 0.99 * total, $"only {moved} of {total} master weights moved");
        // The same step on bf16 weights would mostly round away (|θ|·2⁻⁸ ≫ 1e-5): the reason for the fp32 master.
        Assert.True(movedInBf16 < 0.2 * total, $"{movedInBf16} of {total} bf16 weights moved");
    }

    [Fact]
    public void TrainerWithBf16TrainsTheFp32MasterAndStartsFromTheSameLossAsFp32()
    {
        using var g = new Generator(12);
        using var data = rand([200, 1, 8, 8], generator: g) * 2 - 1;
        var config = new TrainConfig
        {
            Data = "test-images", Steps = 4, BatchSize = 16, LearningRate = 1e-3, CheckpointEvery = 4,
            SampleEvery = 0, LogEvery = 1, Seed = 2, Threads = 1,
            Network = new NetworkConfig { Kind = "unet", BaseChannels = 8, ChannelMults = [1, 2], NumResBlocks = 1 },
            Settings = new DdpmConfig { SampleSteps = 2 },
        };
        string fp32Dir = Directory.CreateTempSubdirectory("langevin-test-").FullName;
        string bf16Dir = Directory.CreateTempSubdirectory("langevin-test-").FullName;
        Trainer.Run(new TrainRequest(config, fp32Dir, Quiet: true), data);
        var result = Trainer.Run(new TrainRequest(config with { Bf16 = Bf16Mode.On }, bf16Dir, Quiet: true), data);

        var fp32Losses = TrainingLog.ReadLosses(Path.Combine(fp32Dir, "log.jsonl"));
        var bf16Losses = TrainingLog.ReadLosses(Path.Combine(bf16Dir, "log.jsonl"));
        Assert.Equal(4, bf16Losses.Count);
        Assert.NotEqual(fp32Losses[0].Loss, bf16Losses[0].Loss);        // it did run in bf16 …
        Assert.Equal(fp32Losses[0].Loss, bf16Losses[0].Loss, 0.02 * fp32Losses[0].Loss);   // … on the same batch and noise
        Assert.Contains("\"bf16\": \"on\"", File.ReadAllText(Path.Combine(bf16Dir, "config.json")));
        using var checkpoint = Checkpoint.Load(result.Checkpoint);
        Assert.All(checkpoint.Model.Values, w => Assert.Equal(ScalarType.Float32, w.dtype));
        Assert.All(checkpoint.Optimizer.Values, w => Assert.Equal(ScalarType.Float32, w.dtype));
    }
}
