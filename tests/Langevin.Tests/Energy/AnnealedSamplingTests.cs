using Langevin.Energy;
using Langevin.IO;
using Langevin.Tests.Cli;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary>Sampling a product of energies that mixes between wells (annealed importance sampling) and the temperature of an energy.</summary>
public class AnnealedSamplingTests(ITestOutputHelper output)
{
    // a two-mode mixture ½N((−2, 0), s²I) + ½N((2, 0), s²I) as an energy (its exact −log density) and a Gaussian that favours +
    const double S = 0.5, Tau = 1.5;
    static readonly double[] Mu = [2, 0], M = [1, 0];

    static Tensor MixtureEnergy(Tensor x)
    {
        var plus = (x - tensor(Mu, x.dtype)).square().sum([1]);
        var minus = (x + tensor(Mu, x.dtype)).square().sum([1]);
        var logN = stack([plus, minus], 1) / (-2 * S * S) - Math.Log(2 * Math.PI * S * S);
        return -(logN.logsumexp(1) + Math.Log(0.5));
    }

    static Tensor GaussianEnergy(Tensor x) => (x - tensor(M, x.dtype)).square().sum([1]) / (2 * Tau * Tau);

    [Fact]
    public void AisOnTheSumOfTwoEnergiesSamplesTheProductMixtureWithItsClosedFormWeights()
    {
        // Σ w_k N(μ_k, s²I) · exp(−|x − m|²/2τ²) ∝ Σ w'_k N(μ'_k, s'²I): 1/s'² = 1/s² + 1/τ², μ'_k = s'²(μ_k/s² + m/τ²),
        // w'_k ∝ w_k N(μ_k; m, (s² + τ²)I); its integral is Z = Σ w_k (τ²/(s² + τ²)) exp(−|μ_k − m|²/2(s² + τ²)) in 2-D
        double v = S * S + Tau * Tau, sp2 = 1 / (1 / (S * S) + 1 / (Tau * Tau));
        double dPlus = Math.Pow(Mu[0] - M[0], 2), dMinus = Math.Pow(-Mu[0] - M[0], 2);
        double wPlus = 1 / (1 + Math.Exp(-(dMinus - dPlus) / (2 * v)));                                   // 0.832
        double meanPlus = sp2 * (Mu[0] / (S * S) + M[0] / (Tau * Tau));                                    // 1.90
        double logZ = Math.Log(0.5 * Tau * Tau / v * (Math.Exp(-dPlus / (2 * v)) + Math.Exp(-dMinus / (2 * v))));
        var energy = EnergyComposition.Product([MixtureEnergy, GaussianEnergy]);
        var gen = new Generator(5);
        const int n = 2000;
        using var start = rand([n, 2], float64, generator: gen) * 12 - 6;
        var r = AnnealedImportanceSampler.Run(energy, start, -6, 6, n, new AnnealingSettings(Levels: 100, MalaSteps: 2), gen);
        using var x = r.Samples;
        using var plus = x[.., 0].gt(0);
        double share = plus.to(float64).mean().item<double>();
        using var xPlus = x.index_select(0, plus.nonzero().squeeze(1));
        double mPlus = xPlus[.., 0].mean().item<double>(), varPlus = xPlus[.., 0].var().item<double>(), varPlusY = xPlus[.., 1].var().item<double>();
        output.WriteLine($"w+ {share:F4} (exact {wPlus:F4}); + mode mean x {mPlus:F4} ({meanPlus:F4}), var {varPlus:F4}, {varPlusY:F4} ({sp2:F4}); " +
                         $"log Z {r.LogNormaliser:F4} ({logZ:F4}); ESS {r.Ess:F0}, {r.Resamplings} resamplings, acceptance {r.Acceptance:F3}");
        // resampling duplicates particles, so the spread allows for ~500 independent draws out of 2000
        double se = Math.Sqrt(wPlus * (1 - wPlus) / 500);
        Assert.InRange(share, wPlus - 4 * se, wPlus + 4 * se);
        Assert.InRange(mPlus, meanPlus - 0.03, meanPlus + 0.03);
        Assert.InRange(varPlus, 0.85 * sp2, 1.15 * sp2);
        Assert.InRange(varPlusY, 0.85 * sp2, 1.15 * sp2);
        Assert.InRange(r.LogNormaliser, logZ - 0.1, logZ + 0.1);
        // the control: either energy alone puts its mass elsewhere (½ in each mode; all around m)
        Assert.True(Math.Abs(wPlus - 0.5) > 15 * se);
    }

    [Fact]
    public void ResamplingKeepsEachParticleItsExpectedNumberOfTimes()
    {
        // systematic resampling: index i appears ⌊m wᵢ⌋ or ⌈m wᵢ⌉ times
        double[] w = [0.1, 0.25, 0.05, 0.6];
        using var logW = tensor(w, float64).log();
        var gen = new Generator(7);
        for (int trial = 0; trial < 20; trial++)
        {
            using var idx = AnnealedImportanceSampler.SystematicResample(logW, 40, gen);
            var c = new long[4];
            foreach (long i in idx.data<long>()) c[i]++;
            for (int i = 0; i < 4; i++) Assert.InRange(c[i], (long)Math.Floor(40 * w[i] - 1e-9), (long)Math.Ceiling(40 * w[i] + 1e-9));
        }
        Assert.Equal(4.0 * 4.0 / 4.0, AnnealedImportanceSampler.EffectiveSampleSize(zeros(4, float64)), 12);
        Assert.Equal(1 / w.Sum(q => q * q), AnnealedImportanceSampler.EffectiveSampleSize(logW), 10);
        double[] b = AnnealedImportanceSampler.InverseTemperatures(5, 1e-4);
        Assert.Equal(new double[] { 0, 1e-4, 1e-3, 1e-2, 1e-1, 1 }, b.Select(q => Math.Round(q, 12)));
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.02)]
    public void TheMaximumLikelihoodTemperatureOfAQuadraticEnergyIsHalfTheDataSecondMoment(double t0)
    {
        // exp(−|x|²/2T) is N(0, T I): on the plane, the likelihood of data is maximal at T̂ = mean |x|² / 2 exactly
        var gen = new Generator(9);
        using var data = randn([20000, 2], float64, generator: gen) * Math.Sqrt(t0);
        double exact = data.square().sum([1]).mean().item<double>() / 2;
        double t = EnergyTemperature.MaximumLikelihood(x => x.square().sum([1]) / 2, data, -5, 5, gridSize: 400);
        output.WriteLine($"T = {t:G6}, exact {exact:G6} (drawn at {t0})");
        Assert.Equal(exact, t, exact * 1e-3);
        // exp(−10E/T) is exp(−E/(T/10)): the energy scaled by 10 has ten times the temperature
        Assert.Equal(10 * exact, EnergyTemperature.MaximumLikelihood(x => 10 * x.square().sum([1]) / 2, data, -5, 5, gridSize: 400), 10 * exact * 1e-3);
    }

    [Fact]
    public void ATemperatureNeedsAnEnergyThatIsLowerOnTheData()
    {
        var gen = new Generator(10);
        using var data = randn([500, 2], float64, generator: gen) * 0.1;
        Assert.Throws<DataException>(() => EnergyTemperature.MaximumLikelihood(x => -x.square().sum([1]), data, -2, 2));
        using var threeD = randn([10, 3], float64, generator: gen);
        Assert.ThrowsAny<UsageException>(() => EnergyTemperature.MaximumLikelihood(x => x.square().sum([1]), threeD, -2, 2));
        Assert.ThrowsAny<UsageException>(() => EnergyComposition.AtTemperature(x => x, 0));
        using var start = rand([8, 2], float64, generator: gen);
        Assert.ThrowsAny<UsageException>(() => AnnealedImportanceSampler.Run(x => x.sum([1]), start, 0, 1, 8, new AnnealingSettings(Levels: 0), gen));
    }

    [Fact]
    public void SampleComposeWithAisFromTheCli()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-ais-").FullName;
        string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b"), npy = Path.Combine(dir, "s.npy");
        foreach (var (run, seed) in new[] { (a, "0"), (b, "1") })
        {
            var t = CliRunner.Run("train", "--method", "ebm", "--data", "8gaussians", "--steps", "60", "--batch", "64", "--width", "32", "--depth", "2",
                "--sgld-steps", "5", "--buffer-size", "200", "--sample-every", "0", "--threads", "1", "--limit", "2000", "--seed", seed, "--out", run);
            Assert.True(t.ExitCode == 0, t.Stderr + t.Stdout);
        }
        string json = Path.Combine(dir, "r.json");
        var s = CliRunner.Run("sample", "--run", a, "--compose", b, "--compose-sampler", "ais", "--temperature", "auto,0.5", "--anneal-levels", "10", "--mala-steps", "1",
            "--particles", "64", "--n", "30", "--out", npy, "--threads", "1", "--json", json);
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        output.WriteLine(s.Stdout);
        Assert.Contains("temperature of", s.Stdout);
        Assert.Contains("\"compose_sampler\": \"ais\"", File.ReadAllText(json));
        using (var samples = NpyFile.Read(npy)) Assert.Equal(new long[] { 30, 2 }, samples.shape);
        // a barely trained energy that is not lower on its data has no temperature: one line, exit 1
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", b, "--compose-sampler", "ais", "--out", npy, "--threads", "1"), 1, "no temperature fits");
        // --run alone, one temperature given, then a cold quench
        s = CliRunner.Run("sample", "--run", a, "--compose-sampler", "ais", "--temperature", "0.5", "--anneal-levels", "5", "--quench", "3", "--n", "12", "--out", npy, "--threads", "1");
        Assert.True(s.ExitCode == 0, s.Stderr + s.Stdout);
        using (var samples = NpyFile.Read(npy)) Assert.Equal(new long[] { 12, 2 }, samples.shape);
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--compose", b, "--compose-sampler", "hot", "--out", npy), 2, "--compose-sampler");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--compose", b, "--compose-sampler", "ais", "--temperature", "0", "--out", npy), 2, "--temperature");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--compose", b, "--compose-sampler", "ais", "--temperature", "1,2,3", "--out", npy), 2, "--temperature");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--compose-sampler", "ais", "--anneal-levels", "0", "--out", npy), 2, "--anneal-levels");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--compose", b, "--mala-steps", "3", "--out", npy), 2, "--mala-steps");
        CliRunner.AssertFails(CliRunner.Run("sample", "--run", a, "--particles", "3", "--out", npy), 2, "--particles");
    }
}
