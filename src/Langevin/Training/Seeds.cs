namespace Langevin.Training;

/// <summary>
/// Seeds as functions of (seed, index, stream): SplitMix64 of a linear mix, so that the k-th step of a run, the i-th item of a
/// draw or the block that starts at item i gets a seed of its own without any history (resume and sharding are exact by
/// construction). Streams keep uses apart: the same (seed, index) gives unrelated seeds in different streams.
/// </summary>
public static class Seeds
{
    /// <summary>Training steps (<see cref="Trainer.StepSeed"/>).</summary>
    public const ulong Steps = 0;
    /// <summary>The unit Gaussian that starts sample i's chain.</summary>
    public const ulong ItemNoise = 1;
    /// <summary>The noise a stochastic sampler adds inside the block of samples that starts at item i.</summary>
    public const ulong BlockNoise = 2;
    /// <summary>A data-parallel rank's own draws (methods whose draws are not sliced by item): index = the rank.</summary>
    public const ulong Ranks = 3;
    /// <summary>The latent z of sample i's learned prior (TDPM's implicit prior at the truncation point).</summary>
    public const ulong PriorLatents = 4;
    /// <summary>The unit Gaussian of sample i's learned prior beside its latent (TDPM's forward noise on G(z)).</summary>
    public const ulong PriorNoise = 5;
    /// <summary>The noise of a denoising-error level (<see cref="Metrics.DenoisingError"/>): index = the level.</summary>
    public const ulong DenoisingLevels = 6;

    /// <summary>A non-negative 63-bit seed of (seed, index) in <paramref name="stream"/>.</summary>
    public static ulong Of(long seed, long index, ulong stream)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index * 0xBF58476D1CE4E5B9UL + 0x94D049BB133111EBUL
            + stream * 0xD6E8FEB86659FD93UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (z ^ (z >> 31)) & 0x7FFF_FFFF_FFFF_FFFFUL;
    }
}
