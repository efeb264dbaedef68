using Langevin.Processes;

namespace Langevin.Samplers;

/// <summary>
/// Where a sampler goes, in the unscaled σ-frame: the σ's at which it evaluates the denoiser (descending) followed by
/// the final σ; the factor that turns unit noise into the initial state (diffusers' init_noise_sigma, seen from the
/// σ-frame); the factor that turns the final σ-frame state into the sampler's output frame (√ᾱ for the VP schedulers
/// when the final σ is not 0); and, for DDIM, each step's own target σ when diffusers steps to t − T/N rather than to
/// the next evaluated timestep (<see cref="Targets"/>, with the VP rescaling <see cref="Carry"/> between the two).
/// </summary>
public sealed record SamplingPlan(double[] Sigmas, double InitialScale, double OutputScale = 1, double[]? Targets = null, double[]? Carry = null)
{
    /// <summary>The integer timesteps of the VP table the σ's come from, when they do (DDIM, DDPM, multistep without Karras).</summary>
    public int[]? Timesteps { get; init; }

    public int Steps => Sigmas.Length - 1;

    /// <summary>√ᾱ of a VP process at the σ-frame level σ: ᾱ = 1/(1 + σ²) (Karras et al. 2022, Table 1).</summary>
    public static double VpScale(double sigma) => 1 / Math.Sqrt(1 + sigma * sigma);

    /// <summary>
    /// diffusers' DDIMScheduler: timesteps by <paramref name="spacing"/>, each step from t to t − T/N (integer division,
    /// whatever the spacing), the last to ᾱ = 1 (set_alpha_to_one) or ᾱ_0; initial noise scale 1 in the VP frame.
    /// </summary>
    public static SamplingPlan Ddim(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset, bool setAlphaToOne)
    {
        var t = TimestepSpacing.Timesteps(schedule.T, steps, spacing, stepsOffset);
        double final = setAlphaToOne ? 0 : schedule.Sigma(0);
        var evaluated = t.Select(schedule.Sigma).ToArray();
        int stride = schedule.T / steps;
        var targets = t.Select(ti => ti - stride >= 0 ? schedule.Sigma(ti - stride) : final).ToArray();
        var carry = new double[steps];
        for (int i = 0; i < steps; i++)                                          // x_vp is kept: x_σ' = x_σ · √ᾱ(σ)/√ᾱ(σ')
            carry[i] = i + 1 < steps ? VpScale(targets[i]) / VpScale(evaluated[i + 1]) : 1;
        return new SamplingPlan([.. evaluated, targets[^1]], 1 / VpScale(evaluated[0]), VpScale(targets[^1]),
            targets, carry) { Timesteps = t };
    }

    /// <summary>diffusers' DDPMScheduler: timesteps by spacing, each step to the next listed timestep, the last to t = −1 (ᾱ = 1).</summary>
    public static SamplingPlan Ddpm(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset)
    {
        var t = TimestepSpacing.Timesteps(schedule.T, steps, spacing, stepsOffset);
        var sigmas = t.Select(schedule.Sigma).ToArray();
        return new SamplingPlan([.. sigmas, 0], 1 / VpScale(sigmas[0])) { Timesteps = t };
    }

    /// <summary>
    /// diffusers' Euler / Euler-ancestral / Heun / LMS discrete schedulers: float timesteps by spacing, σ by linear
    /// interpolation of the σ table (np.interp), optionally Karras σ's between the first and last of them (ρ = 7),
    /// then 0; the initial noise scale is σ_max for linspace / trailing spacing and √(σ_max² + 1) for leading.
    /// </summary>
    public static SamplingPlan Discrete(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset, bool karras)
    {
        var t = FloatTimesteps(schedule.T, steps, spacing, stepsOffset);
        var sigmas = t.Select(ti => InterpolateSigma(schedule, ti)).ToArray();
        if (karras) sigmas = KarrasSigmas.Create(steps, sigmas[^1], sigmas[0]);
        double max = sigmas.Max();
        return new SamplingPlan([.. sigmas, 0], spacing == TimestepSpacing.Leading ? Math.Sqrt(max * max + 1) : max);
    }

    /// <summary>
    /// diffusers' DPMSolverMultistep and UniPCMultistep schedulers: N + 1 integer timesteps by spacing minus the last
    /// (np.linspace(0, T − 1, N + 1).round()[::-1][:-1] for linspace), or Karras σ's over the whole σ table; then 0;
    /// initial noise scale 1 in the VP frame.
    /// </summary>
    public static SamplingPlan Multistep(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset, bool karras)
    {
        double[] sigmas = karras
            ? KarrasSigmas.Create(steps, schedule.Sigma(0), schedule.Sigma(schedule.T - 1))
            : MultistepTimesteps(schedule.T, steps, spacing, stepsOffset).Select(schedule.Sigma).ToArray();
        return new SamplingPlan([.. sigmas, 0], 1 / VpScale(sigmas[0]));
    }

    /// <summary>EDM (Karras et al. 2022, Eq. 5) σ's then 0, with diffusers' EDM schedulers' initial noise scale √(σ_max² + 1).</summary>
    public static SamplingPlan Edm(int steps, double sigmaMin = 0.002, double sigmaMax = 80, double rho = 7) =>
        new([.. KarrasSigmas.Create(steps, sigmaMin, sigmaMax, rho), 0], Math.Sqrt(sigmaMax * sigmaMax + 1));

    /// <summary>NCSN's geometric σ's (Song &amp; Ermon 2019) then 0; initial noise scale σ_max.</summary>
    public static SamplingPlan Geometric(int steps, double sigmaMin, double sigmaMax)
    {
        var g = new GeometricSigmas(sigmaMax, sigmaMin, steps);
        g.Validate();
        return new([.. g.ToArray(), 0], sigmaMax);
    }

    /// <summary>The float timesteps of diffusers' Euler-type schedulers, descending.</summary>
    public static double[] FloatTimesteps(int trainSteps, int steps, string spacing, int stepsOffset)
    {
        TimestepSpacing.CheckSteps(steps, trainSteps);
        return spacing switch
        {
            // np.linspace(0, T − 1, N)[::-1]
            TimestepSpacing.Linspace => TimestepSpacing.NumpyLinspace(0, trainSteps - 1, steps).Reverse().ToArray(),
            // (np.arange(0, N) * (T // N)).round()[::-1] + steps_offset
            TimestepSpacing.Leading => Enumerable.Range(0, steps).Select(i => (double)(i * (trainSteps / steps) + stepsOffset)).Reverse().ToArray(),
            // np.arange(T, 0, −T/N).round() − 1
            TimestepSpacing.Trailing => TimestepSpacing.NumpyArange(trainSteps, 0, -(trainSteps / (double)steps)).Take(steps)
                .Select(v => Math.Round(v, MidpointRounding.ToEven) - 1).ToArray(),
            _ => throw TimestepSpacing.UnknownSpacing(spacing),
        };
    }

    /// <summary>The integer timesteps of diffusers' multistep (DPM-Solver, UniPC) schedulers, descending.</summary>
    public static int[] MultistepTimesteps(int trainSteps, int steps, string spacing, int stepsOffset)
    {
        TimestepSpacing.CheckSteps(steps, trainSteps - 1, "T − 1");
        return spacing switch
        {
            // np.linspace(0, T − 1, N + 1).round()[::-1][:-1]
            TimestepSpacing.Linspace => TimestepSpacing.NumpyLinspace(0, trainSteps - 1, steps + 1)
                .Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).Reverse().Take(steps).ToArray(),
            // (np.arange(0, N + 1) * (T // (N + 1))).round()[::-1][:-1] + steps_offset
            TimestepSpacing.Leading => Enumerable.Range(0, steps + 1).Select(i => i * (trainSteps / (steps + 1)) + stepsOffset)
                .Reverse().Take(steps).ToArray(),
            TimestepSpacing.Trailing => TimestepSpacing.Timesteps(trainSteps, steps, spacing, stepsOffset),
            _ => throw TimestepSpacing.UnknownSpacing(spacing),
        };
    }

    /// <summary>np.interp(t, arange(T), σ_table): linear in σ between the neighbouring integer timesteps, clamped at the ends.</summary>
    public static double InterpolateSigma(VpDiscreteSchedule schedule, double t)
    {
        if (t <= 0) return schedule.Sigma(0);
        if (t >= schedule.T - 1) return schedule.Sigma(schedule.T - 1);
        int lo = (int)Math.Floor(t);
        double w = t - lo, a = schedule.Sigma(lo);
        return w == 0 ? a : a + w * (schedule.Sigma(lo + 1) - a);
    }
}
