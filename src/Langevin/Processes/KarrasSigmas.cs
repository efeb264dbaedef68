namespace Langevin.Processes;

/// <summary>EDM's noise levels for sampling (Karras et al. 2022, Eq. 5), as k-diffusion's get_sigmas_karras.</summary>
public static class KarrasSigmas
{
    /// <summary>
    /// σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for i = 0..n−1, descending, with the endpoints
    /// set to exactly σ_max and σ_min; a trailing 0 appended when <paramref name="appendZero"/> (k-diffusion's append_zero).
    /// </summary>
    public static double[] Create(int n, double sigmaMin, double sigmaMax, double rho = 7, bool appendZero = false)
    {
        if (n < 1) throw new SettingException("steps", n, "must be ≥ 1");
        Check(sigmaMin, sigmaMax, rho);

        var sigmas = new double[appendZero ? n + 1 : n];
        double maxInvRho = Math.Pow(sigmaMax, 1 / rho), minInvRho = Math.Pow(sigmaMin, 1 / rho);
        for (int i = 0; i < n; i++)
        {
            double ramp = n == 1 ? 0 : i / (double)(n - 1); // k-diffusion: ramp = torch.linspace(0, 1, n)
            sigmas[i] = Math.Pow(maxInvRho + ramp * (minInvRho - maxInvRho), rho); // Karras et al. 2022, Eq. 5
        }
        sigmas[0] = sigmaMax; // exact endpoints (the formula reproduces them only up to rounding)
        if (n > 1) sigmas[n - 1] = sigmaMin;
        return sigmas; // appended 0 (if any) is already in place
    }

    /// <summary>Refuses a Karras ladder's parameters unless 0 &lt; σ_min &lt; σ_max and ρ &gt; 0, all finite.</summary>
    public static void Check(double sigmaMin, double sigmaMax, double rho)
    {
        NoiseLevelRange.Check(sigmaMin, sigmaMax);
        if (!(rho > 0) || !double.IsFinite(rho)) throw new SettingException("rho", rho, "must be > 0");
    }
}
