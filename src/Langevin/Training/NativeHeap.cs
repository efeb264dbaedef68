using System.Runtime.InteropServices;

namespace Langevin.Training;

/// <summary>
/// The C heap under libtorch. glibc raises its mmap threshold to the largest block freed so far (up to 32 MB), so after
/// a burst of large temporary tensors — a sample preview at a bigger batch than training — those blocks live in the
/// heap, and when freed they stay resident: RSS steps up to the burst's peak and stays there (measured in
/// docs/benchmarks.md, "Memory"). <c>malloc_trim(0)</c> hands the free pages back to the OS.
/// </summary>
public static class NativeHeap
{
    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    static extern int MallocTrim(nuint pad);

    /// <summary>Returns free C-heap pages to the OS (glibc only; a no-op elsewhere).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }   // musl, or no glibc
    }
}
