namespace Langevin.Processes;

/// <summary>
/// Which of the T training timesteps an N-step sampler visits, descending, exactly as diffusers'
/// DDIMScheduler.set_timesteps (and EulerDiscreteScheduler's, rounded) for timestep_spacing leading / trailing / linspace
/// (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2).
/// </summary>
public static class TimestepSpacing
{
    public const string Leading = "leading";
    public const string Trailing = "trailing";
    public const string Linspace = "linspace";
    public static readonly IReadOnlyList<string> Names = [Leading, Trailing, Linspace];

    public static int[] Timesteps(int numTrainSteps, int numInferenceSteps, string spacing, int stepsOffset = 0)
    {
        int t = numTrainSteps, n = numInferenceSteps;
        if (t < 1) throw new SettingException("train_steps", t, "must be ≥ 1");
        CheckSteps(n, t);
        if (stepsOffset < 0) throw new SettingException("steps_offset", stepsOffset, "must be ≥ 0");
        if (spacing == Leading && (n - 1) * (t / n) + stepsOffset > t - 1)
            throw new SettingException("steps_offset", stepsOffset, $"puts the first of {n} leading timesteps at {(n - 1) * (t / n) + stepsOffset}, beyond T − 1 = {t - 1}; lower it or the steps");
        return spacing switch
        {
            Leading => LeadingSteps(t, n, stepsOffset),
            Trailing => TrailingSteps(t, n),
            Linspace => LinspaceSteps(t, n),
            _ => throw UnknownSpacing(spacing),
        };
    }

    /// <summary>Refuses a number of sampling steps outside 1..<paramref name="max"/> (T, or T − 1 for the multistep schedulers).</summary>
    internal static void CheckSteps(int steps, int max, string bound = "T")
    {
        if (steps < 1 || steps > max) throw new SettingException("steps", steps, $"must be between 1 and {bound} = {max}");
    }

    internal static SettingException UnknownSpacing(string spacing) =>
        new("spacing", spacing, $"must be one of: {string.Join(", ", Names)}");

    // diffusers: step_ratio = T // N; (np.arange(0, N) * step_ratio).round()[::-1] + steps_offset
    static int[] LeadingSteps(int t, int n, int offset)
    {
        int ratio = t / n;
        return Enumerable.Range(0, n).Select(i => i * ratio + offset).Reverse().ToArray();
    }

    // diffusers: np.round(np.arange(T, 0, -T / N)).astype(np.int64) - 1
    // Deliberate deviation: for some N (T = 1000: N = 61, 103, 121, …, 62 of 1..1000) the float length
    // ceil(T / (T/N)) is N + 1 and numpy appends round(≈1e-13) − 1 = −1, an invalid timestep; we keep the first N.
    static int[] TrailingSteps(int t, int n) =>
        NumpyArange(t, 0, -(t / (double)n)).Take(n).Select(v => (int)Math.Round(v, MidpointRounding.ToEven) - 1).ToArray();

    // diffusers: np.linspace(0, T - 1, N).round()[::-1].astype(np.int64)  (no steps_offset)
    static int[] LinspaceSteps(int t, int n) =>
        NumpyLinspace(0, t - 1, n).Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).Reverse().ToArray();

    /// <summary>np.arange(start, stop, step) for doubles: length ceil((stop − start)/step); values start + i·(x₁ − x₀).</summary>
    internal static double[] NumpyArange(double start, double stop, double step)
    {
        // numpy multiarray/ctors.c PyArray_ArangeObj: len = ceil((stop - start)/step); DOUBLE_fill: delta = x1 - x0, x_i = start + i*delta
        long len = (long)Math.Ceiling((stop - start) / step);
        if (len <= 0) return [];
        var y = new double[len];
        y[0] = start;
        if (len > 1) y[1] = start + step;
        double delta = len > 1 ? y[1] - y[0] : 0;
        for (long i = 2; i < len; i++) y[i] = start + i * delta;
        return y;
    }

    /// <summary>np.linspace(start, stop, num) (endpoint=True): start + i·((stop − start)/(num − 1)), last element exactly stop.</summary>
    internal static double[] NumpyLinspace(double start, double stop, int num)
    {
        // numpy/_core/function_base.py linspace: step = delta/div; y = arange(num)*step + start; y[-1] = stop
        var y = new double[num];
        if (num == 1) { y[0] = start; return y; }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        y[num - 1] = stop;
        return y;
    }
}
