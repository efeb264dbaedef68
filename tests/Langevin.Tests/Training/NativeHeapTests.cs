using System.Runtime.InteropServices;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Tests.Training;

/// <summary>Tests that read the process's heap counters (glibc's mallinfo2) run alone: tensors other tests make and free at the
/// same time move the counters (a clean-clone CI run saw the 40 MB tensor's growth hidden by a concurrent free).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessHeapCounters
{
    public const string Name = "process heap counters";
}

/// <summary>The library serves tensors from glibc's heap, not from a fresh mmap each (see <see cref="NativeHeap"/>).</summary>
[Collection(ProcessHeapCounters.Name)]
public class NativeHeapTests
{
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo2 { public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost; }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    static extern MallInfo2 Mallinfo2();

    [Fact]
    public void ALargeTensorComesFromTheHeapAndItsMemoryIsKeptForTheNext()
    {
        Assert.True(OperatingSystem.IsLinux(), "these machines run Linux with glibc");
        Assert.Equal("tensor", NativeHeap.Mode);
        var before = Mallinfo2();
        // 40 MB: above glibc's largest mmap threshold (32 MB), below the 64 MB heaps of the arenas of threads other than the
        // main one (this test's), which glibc maps for a larger block whatever its settings
        using (var big = zeros(10 << 20))
        {
            var during = Mallinfo2();
            Assert.Equal(before.Hblkhd, during.Hblkhd);         // no mmap'd block
            Assert.True(during.Uordblks - before.Uordblks >= 40UL << 20, "the tensor is in the heap's arenas");
        }
        var after = Mallinfo2();
        Assert.True(after.Fordblks >= 40UL << 20, "freed, it stays in the heap for the next tensor (no automatic trim)");
        NativeHeap.Trim();                                     // the trainer's call after a sample preview hands it back
    }
}
