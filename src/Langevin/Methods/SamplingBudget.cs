using System.Globalization;
using Langevin.Models;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// How many samples a catalog sampler's block holds when no batch is given: as many as keep the process's resident memory
/// within a budget (<see cref="DefaultBytes"/> unless asked otherwise), from what one more sample was measured to cost in
/// one call of the denoiser here. Activations dominate — the sampler's own state is a few copies of the block — and with
/// per-sample noise (<see cref="Samplers.SamplerNoise"/>) the block size changes only speed and memory, not the samples.
/// </summary>
public static class SamplingBudget
{
    /// <summary>1 GB of resident memory for the whole process: the reference U-Net then samples Fashion-MNIST ≈ 120 images at a
    /// time, as fast per image as 300 at a time (docs/benchmarks.md, "Sampling memory").</summary>
    public const long DefaultBytes = 1L << 30;

    /// <summary>What a whole draw costs per sample over what one denoiser call was measured to: the heap's fragmentation across
    /// the sampler's calls and its own tensors (reference U-Net, DDIM: 6.0 MB per sample over a draw, 4.5 MB in one call).</summary>
    public const double DrawOverCall = 1.5;

    /// <summary>At most this many samples per block, however cheap (2-D points).</summary>
    public const int MaxBatch = 65536;

    /// <summary>What a block of b samples costs: <see cref="ResidentBytes"/> now plus <see cref="PerSampleBytes"/> × b at the peak of a denoiser call.</summary>
    public sealed record Cost(long PerSampleBytes, long ResidentBytes)
    {
        /// <summary>Samples per block within <paramref name="budgetBytes"/> when each denoiser call runs <paramref name="calls"/> network
        /// batches at once (classifier-free guidance: 2), between 1 and <see cref="MaxBatch"/>.</summary>
        public int BatchWithin(long budgetBytes, int calls = 1)
        {
            long free = budgetBytes - ResidentBytes;
            return (int)Math.Clamp(free / Math.Max(1, PerSampleBytes * calls), 1, MaxBatch);
        }
    }

    /// <summary>
    /// The cost of one more sample in a draw with <paramref name="denoiser"/>: <see cref="DrawOverCall"/> × the rise of the
    /// process's peak resident memory from a call (no gradients) at 2 to one at 10 samples, each measured from a trimmed heap
    /// (<see cref="NativeHeap.Trim"/>) with the kernel's peak counter reset (<c>/proc/self/clear_refs</c>). Null where that
    /// cannot be read (not Linux).
    /// </summary>
    public static Cost? Measure(IScoreModel denoiser, long[] itemShape, Device device)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            long PeakRise(int b)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var x = randn([b, .. itemShape], device: device);
                var sigma = full([b], 1.0, device: device);
                NativeHeap.Trim();
                long before = Status("VmRSS");
                File.WriteAllText("/proc/self/clear_refs", "5");   // VmHWM := VmRSS
                denoiser.Score(x, sigma).Dispose();
                return Status("VmHWM") - before;
            }
            PeakRise(2);                                           // first call: lazy initialisation, not activations
            long small = PeakRise(2), large = PeakRise(10);
            long perSample = (long)(DrawOverCall * Math.Max((large - small) / 8, 16L * itemShape.Aggregate(1L, (a, b) => a * b) * sizeof(float)));
            NativeHeap.Trim();
            return new Cost(perSample, Status("VmRSS"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    /// <summary>A field of /proc/self/status in bytes (VmRSS, VmHWM).</summary>
    static long Status(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        throw new FormatException($"/proc/self/status has no {field}");
    }

    /// <summary>"1.5G", "800M", "2048M" or a number of MB, in bytes; null if it is none of these.</summary>
    public static long? ParseSize(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        double unit = t.EndsWith('G') ? 1 << 30 : 1 << 20;
        if (t.EndsWith('G') || t.EndsWith('M')) t = t[..^1];
        if (t.EndsWith('B') && t.Length > 1) return null;
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v) && v * unit < long.MaxValue
            ? (long)(v * unit) : null;
    }
}
