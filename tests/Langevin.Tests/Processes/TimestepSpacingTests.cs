using Langevin.Processes;

namespace Langevin.Tests.Processes;

public class TimestepSpacingTests
{
    // Written out by hand from diffusers' DDIMScheduler.set_timesteps formulas.
    public static TheoryData<int, int, string, int, int[]> Known => new()
    {
        { 1000, 10, "leading", 0, [900, 800, 700, 600, 500, 400, 300, 200, 100, 0] },
        { 1000, 10, "leading", 1, [901, 801, 701, 601, 501, 401, 301, 201, 101, 1] },
        { 1000, 10, "trailing", 0, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99] },
        { 1000, 10, "linspace", 0, [999, 888, 777, 666, 555, 444, 333, 222, 111, 0] },
        { 1000, 10, "linspace", 1, [999, 888, 777, 666, 555, 444, 333, 222, 111, 0] }, // linspace ignores steps_offset
        { 1000, 3, "leading", 0, [666, 333, 0] },       // 1000 // 3 = 333
        { 1000, 3, "trailing", 0, [999, 666, 332] },    // round(1000, 666.67, 333.33) − 1
        { 1000, 3, "linspace", 0, [999, 500, 0] },      // 499.5 rounds half to even
        { 1000, 1, "trailing", 0, [999] },
        { 1000, 1, "linspace", 0, [0] },
        { 10, 4, "leading", 0, [6, 4, 2, 0] },           // 10 // 4 = 2
        { 10, 4, "trailing", 0, [9, 7, 4, 1] },          // round(10, 7.5, 5, 2.5) = 10, 8, 5, 2 (half to even) → −1
        { 10, 4, "linspace", 0, [9, 6, 3, 0] },          // 0, 3, 6, 9
    };

    [Fact]
    public void TrailingDropsNumpysExtraMinusOne()
    {
        // np.arange(1000, 0, -1000/61) has 62 elements (1000 / (1000/61) rounds just above 61); diffusers would
        // end with timestep −1. We keep the first 61: ..., round(2·16.393) − 1 = 32, round(16.393) − 1 = 15.
        var steps = TimestepSpacing.Timesteps(1000, 61, "trailing", 0);
        Assert.Equal(61, steps.Length);
        Assert.Equal(999, steps[0]);
        Assert.Equal([32, 15], steps[^2..]);
        Assert.Equal(62, TimestepSpacing.NumpyArange(1000, 0, -(1000 / 61.0)).Length);
    }

    [Theory]
    [MemberData(nameof(Known))]
    public void MatchesDiffusers(int t, int n, string spacing, int offset, int[] expected) =>
        Assert.Equal(expected, TimestepSpacing.Timesteps(t, n, spacing, offset));

    [Theory]
    [InlineData("leading")]
    [InlineData("trailing")]
    [InlineData("linspace")]
    public void EveryStepCountGivesNDistinctDescendingTrainingSteps(string spacing)
    {
        foreach (int t in new[] { 1000, 50 })
            for (int n = 1; n <= t; n++)
            {
                var steps = TimestepSpacing.Timesteps(t, n, spacing, 0);
                Assert.Equal(n, steps.Length);
                Assert.All(steps, s => Assert.InRange(s, 0, t - 1));
                for (int i = 1; i < n; i++) Assert.True(steps[i] < steps[i - 1], $"{spacing} T={t} N={n} not descending at {i}");
            }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void StepCountOutOfRangeIsAUsageError(int n)
    {
        var e = Assert.ThrowsAny<UsageException>(() => TimestepSpacing.Timesteps(1000, n, "leading", 0));
        Assert.Contains("steps must be between 1 and T", e.Message);
    }

    [Fact]
    public void UnknownSpacingListsTheThree()
    {
        var e = Assert.ThrowsAny<UsageException>(() => TimestepSpacing.Timesteps(1000, 10, "karras", 0));
        Assert.Contains("leading, trailing, linspace", e.Message);
    }

    [Fact]
    public void ALeadingOffsetPastTheLastTimestepIsASettingError()
    {
        Assert.Equal(999, TimestepSpacing.Timesteps(1000, 500, "leading", 1)[0]);           // (499 · 2) + 1: still inside
        var e = Assert.Throws<SettingException>(() => TimestepSpacing.Timesteps(1000, 1000, "leading", 1));
        Assert.Equal("steps_offset", e.Setting);
        Assert.Contains("beyond T − 1 = 999", e.Message);
    }
}
