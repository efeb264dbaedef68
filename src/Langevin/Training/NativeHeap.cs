using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Langevin.Training;

/// <summary>
/// The C heap under libtorch. Out of the box glibc serves every block above its mmap threshold (128 KB, rising to at
/// most 32 MB as large blocks are freed) with a fresh mmap and unmaps it on free, so every large activation of every
/// forward is a new mapping whose pages fault in one by one: a reference U-Net forward at b = 256 (activations of
/// 25–77 MB) took 3.8 s instead of 0.7 s, training steps 1.6 s instead of 1.2 s (docs/benchmarks.md, "The C heap").
/// So when the library loads, <see cref="ConfigureForTensors"/> turns glibc's mmap of large blocks off and its
/// automatic trimming down: freed tensors stay in the heap, already faulted in, for the next step's tensors of the
/// same sizes. Memory is handed back only by <see cref="Trim"/>, which the trainer calls after a sample preview (a
/// burst of larger temporaries than training's). <c>LANGEVIN_NATIVE_HEAP=system</c> leaves glibc at its defaults.
/// </summary>
public static class NativeHeap
{
    const int MTrimThreshold = -1, MMmapMax = -4;   // glibc's malloc.h

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    static extern int Mallopt(int param, int value);

    /// <summary>What the library did to the C heap when it loaded: "tensor" (<see cref="ConfigureForTensors"/>) or "system".</summary>
    public static string Mode { get; private set; } = "system";

#pragma warning disable CA2255   // a library's module initializer, on purpose: every user of the library gets the tensor heap
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void OnLoad() => Mode = ConfigureForTensors();

    /// <summary>
    /// No mmap'd blocks and no automatic trim (glibc's <c>M_MMAP_MAX</c> 0, <c>M_TRIM_THRESHOLD</c> max). Returns "tensor", or
    /// "system" when left alone (LANGEVIN_NATIVE_HEAP=system, not Linux, or no glibc). Blocks mapped before the call stay
    /// mapped until freed; everything allocated after it comes from the heap.
    /// </summary>
    public static string ConfigureForTensors()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("LANGEVIN_NATIVE_HEAP") == "system") return "system";
        try
        {
            return Mallopt(MMmapMax, 0) != 0 && Mallopt(MTrimThreshold, int.MaxValue) != 0 ? "tensor" : "system";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return "system"; }   // musl, or no glibc
    }

    /// <summary>Returns free C-heap pages to the OS (glibc only; a no-op elsewhere).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }   // musl, or no glibc
    }
}
