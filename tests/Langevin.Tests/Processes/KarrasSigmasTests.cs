using Langevin.Processes;

namespace Langevin.Tests.Processes;

public class KarrasSigmasTests
{
    [Theory]
    [InlineData(18, 0.002, 80.0, 7.0)]
    [InlineData(2, 0.03, 14.6, 7.0)]
    [InlineData(50, 0.01, 50.0, 3.0)]
    public void EndpointsAreExactAndTheSequenceDecreases(int n, double min, double max, double rho)
    {
        var s = KarrasSigmas.Create(n, min, max, rho);
        Assert.Equal(n, s.Length);
        Assert.Equal(max, s[0]);
        Assert.Equal(min, s[^1]);
        for (int i = 1; i < n; i++) Assert.True(s[i] < s[i - 1], $"not decreasing at {i}");
    }

    [Fact]
    public void MiddleValueFollowsEquationFive()
    {
        var s = KarrasSigmas.Create(3, 0.002, 80);
        double expected = Math.Pow((Math.Pow(80, 1 / 7.0) + Math.Pow(0.002, 1 / 7.0)) / 2, 7);
        Assert.Equal(expected, s[1], 12);
        Assert.InRange(s[1], 2.0, 3.0); // ρ = 7 spends most steps at small σ
    }

    [Fact]
    public void AppendZeroAddsAFinalZero()
    {
        var s = KarrasSigmas.Create(5, 0.1, 10, appendZero: true);
        Assert.Equal(6, s.Length);
        Assert.Equal(0.1, s[4]);
        Assert.Equal(0.0, s[5]);
        Assert.Equal([10.0], KarrasSigmas.Create(1, 0.1, 10));
    }

    [Fact]
    public void BadArgumentsAreUsageErrors()
    {
        Assert.ThrowsAny<UsageException>(() => KarrasSigmas.Create(0, 0.1, 10));
        Assert.ThrowsAny<UsageException>(() => KarrasSigmas.Create(5, 0, 10));
        Assert.ThrowsAny<UsageException>(() => KarrasSigmas.Create(5, 10, 1));
        Assert.ThrowsAny<UsageException>(() => KarrasSigmas.Create(5, 0.1, 10, rho: 0));
    }
}
