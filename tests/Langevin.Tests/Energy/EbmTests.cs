using Langevin.Energy;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Tests.Cli;
using Langevin.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

public class EbmTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(new long[] { 20, 30 })]
    [InlineData(new long[] { 8, 3, 3, 3 })]
    public void PowerIterationFindsTheLargestSingularValue(long[] shape)
    {
        var gen = new Generator(3);
        using var w = randn(shape, float64, generator: gen);
        using var u = nn.functional.normalize(randn(shape[0], float64, generator: gen), dim: 0);
        using var sigma = SpectralNorm.Sigma(w, u, iterations: 200, updateU: true);
        double exact = linalg.svdvals(w.flatten(1)).max().item<double>();
        output.WriteLine($"σ_max: power iteration {sigma.item<double>():F10}, SVD {exact:F10}");
        Assert.Equal(exact, sigma.item<double>(), 1e-8);
        // the persistent u carries over: one more iteration from it is already converged
        using var again = SpectralNorm.Sigma(w, u, iterations: 1, updateU: false);
        Assert.Equal(exact, again.item<double>(), 1e-8);
    }

    [Fact]
    public void SpectrallyNormalisedLayersHaveUnitSpectralNorm()
    {
        manual_seed(1);
        using var lin = new SpectralLinear(16, 32);
        using var conv = new SpectralConv2d(3, 8, 3, 1, 1);
        lin.train(); conv.train();
        using var x = randn(4, 16);
        using var img = randn(2, 3, 8, 8);
        for (int i = 0; i < 50; i++) { lin.forward(x).Dispose(); conv.forward(img).Dispose(); }   // power iterations happen in training forwards
        using var wl = lin.Weight.detach();
        using var wc = conv.Weight.detach();
        double sl = linalg.svdvals(wl.to(float64)).max().item<double>(), sc = linalg.svdvals(wc.flatten(1).to(float64)).max().item<double>();
        output.WriteLine($"σ_max after normalisation: linear {sl:F6}, conv {sc:F6}");
        Assert.InRange(sl, 0.999, 1.001);
        Assert.InRange(sc, 0.999, 1.001);
        using var raw = new SpectralLinear(16, 32, normalise: false);
        Assert.True(Math.Abs(linalg.svdvals(raw.Weight.detach().to(float64)).max().item<double>() - 1) > 0.05, "control: an unnormalised layer is not at 1");
    }

    [Fact]
    public void ReplayBufferReinitialisesAboutFivePercentAndWritesBack()
    {
        var gen = new Generator(5);
        using var buffer = zeros(1000, 2);
        var (start, idx) = ReplayBuffer.Draw(buffer, 20000, 0.05, n => ones(n, 2), gen);
        double fresh = start[.., 0].mean().item<float>();
        output.WriteLine($"re-initialised fraction {fresh:F4} (p = 0.05, sd {Math.Sqrt(0.05 * 0.95 / 20000):F4})");
        Assert.InRange(fresh, 0.05 - 0.006, 0.05 + 0.006);
        using var states = full(20000, 2, 7f);
        ReplayBuffer.Update(buffer, idx, states);
        using var used = zeros(1000, dtype: ScalarType.Bool).index_fill_(0, idx, true);
        Assert.True(buffer[used].eq(7f).all().item<bool>());
        Assert.True(buffer[~used].eq(0f).all().item<bool>());
        start.Dispose(); idx.Dispose();
    }

    [Fact]
    public void ReplayBufferFilesRoundTripAndBadOnesAreOneLineDataErrors()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-buffer-").FullName;
        string good = Path.Combine(dir, "b.npy");
        using var b = randn(10, 2);
        ReplayBuffer.Save(good, b);
        using var back = ReplayBuffer.Load(good, [2]);
        Assert.True(back.eq(b).all().item<bool>());
        string empty = Path.Combine(dir, "empty.npy");
        NpyFile.Write(empty, zeros(0, 2));
        Assert.Contains("empty", Assert.Throws<DataException>(() => ReplayBuffer.Load(empty, [2])).Message);
        string corrupt = Path.Combine(dir, "corrupt.npy");
        File.WriteAllBytes(corrupt, "\x93NUMPY garbage"u8.ToArray());
        Assert.Contains("corrupt.npy", Assert.Throws<DataException>(() => ReplayBuffer.Load(corrupt, [2])).Message);
        Assert.Contains("shape", Assert.Throws<DataException>(() => ReplayBuffer.Load(good, [3])).Message);
        Assert.Throws<DataException>(() => ReplayBuffer.Load(Path.Combine(dir, "missing.npy"), [2]));
    }

    static EbmMethod Method(EbmConfig e, long[] shape)
    {
        var c = new TrainConfig { Settings = e with { BufferSize = 64 }, Network = new NetworkConfig { Width = 32, Depth = 2, BaseChannels = 8 } };
        using var data = Networks.IsImage(shape) ? rand([16, .. shape]) * 2 - 1 : randn([16, .. shape]);
        manual_seed(0);
        return new EbmMethod(EbmMethod.Resolve(c, data), shape);
    }

    [Theory]
    [InlineData("sgld", new long[] { 2 })]
    [InlineData("esh", new long[] { 2 })]
    [InlineData("sgld", new long[] { 1, 8, 8 })]
    public void LossIsFiniteAndTheBufferTakesTheNegatives(string sampler, long[] shape)
    {
        using var m = Method(new EbmConfig { Sampler = sampler, SgldSteps = 5, SpectralNorm = true }, shape);
        using var before = m.Replay.clone();
        var gen = new Generator(1);
        using var batch = randn([8, .. shape]);
        using var loss = m.Loss(batch, gen);
        Assert.True(double.IsFinite(loss.item<float>()));
        loss.backward();
        Assert.All(m.Model.parameters(), p => Assert.True(p.grad is null || p.grad.isfinite().all().item<bool>()));
        int changed = (int)(m.Replay - before).flatten(1).abs().sum(1).gt(0).sum().item<long>();
        Assert.InRange(changed, 1, 8);
        using var s = m.Sample(4, gen, sampler: new SamplerSettings(sampler, 3));
        Assert.Equal([4, .. shape], s.shape);
    }

    [Fact]
    public void SamplingFromTheBufferContinuesDistinctPersistentChains()
    {
        using var m = Method(new EbmConfig { SgldNoise = 0, SgldSteps = 1 }, [2]);
        using (no_grad()) m.Replay.copy_(stack([arange(64f), -arange(64f)], 1) / 10);   // row i = (i, −i)/10
        var settings = new SamplerSettings("sgld", 1, new Dictionary<string, string> { ["start"] = "buffer", ["step-size"] = "1e-9" });
        using var s = m.Sample(20, new Generator(3), sampler: settings);
        // a 1e-9 step without noise leaves each chain where the buffer had it: 20 different rows of the buffer
        using var rows = (s.select(1, 0) * 10).round();
        Assert.True((s.select(1, 1) * 10 + rows).abs().max().item<float>() < 1e-4);
        Assert.True((s.select(1, 0) * 10 - rows).abs().max().item<float>() < 1e-4);
        Assert.Equal(20, rows.unique().Item1.shape[0]);
        var tooMany = Assert.ThrowsAny<UsageException>(() => m.Sample(65, new Generator(3), sampler: settings));
        Assert.Contains("64", tooMany.Message);
    }

    [Fact]
    public void ADivergingEnergyStopsWithAClearMessage()
    {
        using var m = Method(new EbmConfig { EnergyLimit = 1e-9, SgldSteps = 1 }, [2]);
        using var batch = randn(8, 2);
        var e = Assert.Throws<TrainingDivergedException>(() => m.Loss(batch, new Generator(0)));
        Assert.Contains("(the energy limit is ", e.Message);
    }

    [Fact]
    public void TrainAndSampleAnEbmFromTheCli()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ebm-").FullName;
        string run = Path.Combine(dir, "run");
        var t = CliRunner.Run("train", "--method", "ebm", "--data", "8gaussians", "--steps", "6", "--batch", "32", "--width", "32", "--depth", "2",
            "--sgld-steps", "3", "--buffer-size", "100", "--sample-steps", "5", "--sample-every", "0", "--threads", "1", "--limit", "500", "--out", run);
        Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        string npy = Path.Combine(dir, "s.npy");
        var s = CliRunner.Run("sample", "--run", run, "--n", "50", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr);
        using var samples = NpyFile.Read(npy);
        Assert.Equal(new long[] { 50, 2 }, samples.shape);
        string empty = Path.Combine(dir, "empty.npy");
        NpyFile.Write(empty, zeros(0, 2));
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--data", "8gaussians", "--steps", "2", "--buffer-file", empty, "--out", Path.Combine(dir, "r2"), "--threads", "1"), 1, "empty");
        CliRunner.AssertFails(CliRunner.Run("train", "--method", "ebm", "--sgld-step", "0", "--steps", "2", "--out", Path.Combine(dir, "r3")), 2, "--sgld-step");
    }
}
