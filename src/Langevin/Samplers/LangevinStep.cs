using static TorchSharp.torch;

namespace Langevin.Samplers;

/// <summary>
/// One step of the unadjusted Langevin algorithm, x ← x + α ∇log p(x) + √(2α) z, z ~ N(0, I)
/// (Song &amp; Ermon 2019, Eq. 4 with ε/2 = α). Shared by annealed Langevin dynamics and the MCMC kernels.
/// </summary>
public static class LangevinStep
{
    public static Tensor Apply(Tensor x, Tensor score, double alpha, Generator? gen)
    {
        var z = SamplerNoise.Like(x, gen);   // per sample inside SamplerNoise.PerItem
        return x + alpha * score + Math.Sqrt(2 * alpha) * z;
    }
}
