using Langevin.Processes;

namespace Langevin.Samplers;

/// <summary>Descending σ arrays ending in 0, as the <see cref="DiffusionSamplers"/> take them.</summary>
public static class SamplingSigmas
{
    /// <summary>EDM's σ's (Karras et al. 2022, Eq. 5) with a trailing 0 (k-diffusion's get_sigmas_karras).</summary>
    public static double[] Karras(int steps, double sigmaMin, double sigmaMax, double rho = 7) =>
        KarrasSigmas.Create(steps, sigmaMin, sigmaMax, rho, appendZero: true);

    /// <summary>
    /// σ_t = √((1 − ᾱ_t)/ᾱ_t) of a discrete VP schedule at each given (descending) timestep, then 0
    /// (Karras et al. 2022, Table 1; k-diffusion's DiscreteSchedule.get_sigmas with append_zero).
    /// </summary>
    public static double[] FromTimesteps(VpDiscreteSchedule schedule, IReadOnlyList<int> timesteps)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(timesteps);
        return [.. timesteps.Select(schedule.Sigma), 0.0];
    }

    /// <summary>σ's of the timesteps a diffusers-style spacing (leading / trailing / linspace) visits, then 0.</summary>
    public static double[] FromSpacing(VpDiscreteSchedule schedule, int steps, string spacing, int stepsOffset = 0) =>
        FromTimesteps(schedule, TimestepSpacing.Timesteps(schedule.T, steps, spacing, stepsOffset));
}
