using Langevin.Processes;

namespace Langevin.Tests.Processes;

public class VpDiscreteScheduleTests
{
    static readonly VpDiscreteSchedule LinearT1000 = new();
    static readonly VpDiscreteSchedule CosineT1000 = new(1000, VpDiscreteSchedule.Cosine);

    [Fact]
    public void LinearMatchesDdpmsWellKnownValues()
    {
        var s = LinearT1000;
        Assert.Equal(1000, s.AlphasCumprod.Length);
        Assert.Equal(1e-4f, s.Betas[0]);
        Assert.Equal(0.02f, s.Betas[999]);
        Assert.Equal(0.9999f, s.AlphasCumprod[0]); // 1 − float32(1e-4), exactly
        Assert.InRange(s.AlphasCumprod[999], 4.03e-5f, 4.04e-5f); // ᾱ_T ≈ 4.036e-5 (DDPM, diffusers)
        Assert.Equal(0.9999, s.FinalAlphaCumprod(false), 6);
        Assert.Equal(1.0, s.FinalAlphaCumprod(true));
    }

    [Fact]
    public void CosineBetasAreCappedAndAlphaBarDecreases()
    {
        var s = CosineT1000;
        Assert.All(s.Betas, b => Assert.InRange(b, 0f, 0.999f));
        Assert.Equal(0.999f, s.Betas[999]); // ᾱ(1) = cos²(π/2) ≈ 0, so β_T is capped
        Assert.True(s.Betas[0] < 1e-4f);
        for (int t = 1; t < s.T; t++) Assert.True(s.AlphasCumprod[t] < s.AlphasCumprod[t - 1], $"ᾱ not decreasing at {t}");
        Assert.True(s.AlphasCumprod[999] > 0);
    }

    [Theory]
    [InlineData(VpDiscreteSchedule.Linear)]
    [InlineData(VpDiscreteSchedule.Cosine)]
    public void SigmaIncreasesAndSigmaToTInvertsIt(string betas)
    {
        var s = betas == VpDiscreteSchedule.Linear ? LinearT1000 : CosineT1000;
        var sigmas = s.Sigmas();
        for (int t = 1; t < s.T; t++) Assert.True(sigmas[t] > sigmas[t - 1], $"σ not increasing at {t}");
        for (int t = 0; t < s.T; t++) Assert.Equal(t, s.SigmaToT(sigmas[t]));
        // Halfway in log σ between two steps is halfway in t; beyond the table clamps.
        Assert.Equal(41.5, s.SigmaToT(Math.Sqrt(sigmas[41] * sigmas[42])), 9);
        Assert.Equal(0.0, s.SigmaToT(sigmas[0] / 10));
        Assert.Equal(999.0, s.SigmaToT(sigmas[999] * 10));
    }

    [Fact]
    public void SigmaIsTheUnscaledFrameNoiseLevel()
    {
        var s = LinearT1000;
        double a = s.AlphasCumprod[500];
        Assert.Equal(Math.Sqrt((1 - a) / a), s.Sigma(500), 12);
        Assert.InRange(s.Sigma(999), 157.0, 158.0); // 1/√4.036e-5 ≈ 157.4, the familiar σ_max of SD-style VP models
    }

    [Fact]
    public void BadScheduleNamesAreUsageErrors()
    {
        var e = Assert.ThrowsAny<UsageException>(() => new VpDiscreteSchedule(1000, "quadratic"));
        Assert.Contains("linear, cosine", e.Message);
    }
}
