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

    [DllImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    static extern IntPtr TensorData(IntPtr tensor);

    /// <summary>glibc's chunk header: the size word just before the pointer malloc returned (libtorch's CPU allocator hands
    /// out posix_memalign's pointer as is); its bit 1 is IS_MMAPPED.</summary>
    static (ulong Size, bool Mmapped) Chunk(IntPtr data)
    {
        var word = (ulong)Marshal.ReadInt64(data - 8);
        return (word & ~7UL, (word & 2) != 0);
    }

    [Fact]
    public void ALargeTensorComesFromTheHeapAndItsMemoryIsKeptForTheNext()
    {
        Assert.True(OperatingSystem.IsLinux(), "these machines run Linux with glibc");
        Assert.Equal("tensor", NativeHeap.Mode);
        // 40 MB: above glibc's largest mmap threshold (32 MB), below the 64 MB heaps of the arenas of threads other than the
        // main one (this test's), which glibc maps for a larger block whatever its settings
        using (var big = zeros(10 << 20))
        {
            // the block's own header, not the process-wide counters, which other tests' tensors move at the same time (a
            // clean-clone CI run saw the 40 MB growth of mallinfo2's in-use bytes hidden by a concurrent free)
            var (size, mmapped) = Chunk(TensorData(big.Handle));
            Assert.False(mmapped, "the tensor is a heap chunk, not a fresh mmap");
            Assert.True(size >= 40UL << 20, $"the chunk holds the tensor ({size} bytes)");
        }
        var after = Mallinfo2();
        Assert.True(after.Fordblks >= 40UL << 20, "freed, it stays in the heap for the next tensor (no automatic trim)");
        NativeHeap.Trim();                                     // the trainer's call after a sample preview hands it back
    }
}
