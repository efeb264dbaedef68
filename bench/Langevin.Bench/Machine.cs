using System.Diagnostics;

namespace Langevin.Bench;

/// <summary>Timing helpers and facts about the machine the numbers came from.</summary>
internal static class Machine
{
    /// <summary>1-minute load average: other processes on a small machine skew every timing.</summary>
    public static double LoadAverage()
    {
        try
        {
            string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return double.NaN; }
    }

    /// <summary>Median wall time in ms of <paramref name="reps"/> calls after <paramref name="warmup"/> untimed ones.</summary>
    public static double MedianMs(Action action, int warmup, int reps)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Median(times);
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
