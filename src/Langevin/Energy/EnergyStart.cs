using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// Where the EBMs' chains start: uniform noise on a box, by default the data's bounding box widened by 10% on each side
/// (images: [−1, 1]), as both IGEBM (Du &amp; Mordatch 2019, §3.1) and the adversarial EBM (Yin et al. 2022) start from noise.
/// </summary>
public static class EnergyStart
{
    /// <summary>The default box of the data: [−1, 1] for images, else the bounding box widened by 10% of its width.</summary>
    public static (double Low, double High) BoxOf(Tensor data)
    {
        if (data.dim() == 4) return (-1, 1);
        double lo = data.min().item<float>(), hi = data.max().item<float>();
        double pad = 0.1 * (hi - lo);
        return (lo - pad, hi + pad);
    }

    /// <summary>Uniform draws on [low, high].</summary>
    public static Tensor Uniform(long[] shape, double low, double high, Generator gen, Device device) =>
        rand(shape, generator: gen, device: device) * (high - low) + low;

    /// <summary>Unit Gaussian noise (a user's --noise) mapped to uniform on [low, high] through Φ.</summary>
    public static Tensor FromGaussian(Tensor noise, double low, double high, Device device)
    {
        using var _ = no_grad();
        return special.ndtr(noise.to(float32).to(device)) * (high - low) + low;
    }

    /// <summary>The chains' start for sampling: <paramref name="noise"/> mapped through Φ when given (checked against
    /// <paramref name="shape"/>), else uniform draws.</summary>
    public static Tensor ForSampling(long[] shape, Tensor? noise, double low, double high, Generator gen, Device device)
    {
        if (noise is null) return Uniform(shape, low, high, gen, device);
        if (!noise.shape.SequenceEqual(shape)) throw Samplers.SamplingRefusals.NoiseShape(noise.shape, shape);
        return FromGaussian(noise, low, high, device);
    }
}
