using System.Runtime.InteropServices;

namespace Langevin.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, bound at run time to an MPICH-ABI library (MPICH, Intel MPI, Cray MPICH,
/// MVAPICH: <c>libmpich.so.12</c> / <c>libmpi.so.12</c>), whose handles are ints (MPI_COMM_WORLD 0x44000000, …). Nothing
/// is loaded until a launcher's environment asks for several ranks, so training without MPI needs no MPI library.
/// </summary>
public sealed class Mpi
{
    // MPICH ABI handles (mpi.h of MPICH ≥ 3.1, shared by the ABI-compatible implementations)
    const int CommWorld = 0x44000000, Float = 0x4c00040a, Double = 0x4c00080b, Byte = 0x4c00010d, Sum = 0x58000003, Max = 0x58000001;
    static readonly IntPtr InPlace = new(-1);

    /// <summary>Library names tried in order (LANGEVIN_MPI_LIBRARY, if set, first).</summary>
    public static readonly string[] LibraryNames = ["libmpich.so.12", "libmpi.so.12", "libmpich.so", "libmpi.so", "libmpi_cray.so.12"];

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int InitFn(IntPtr argc, IntPtr argv);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int FlagFn(out int flag);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int CommIntFn(int comm, out int value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int AllreduceFn(IntPtr send, IntPtr recv, int count, int type, int op, int comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int BcastFn(IntPtr buffer, int count, int type, int root, int comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int CommFn(int comm);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int AbortFn(int comm, int code);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate int VoidFn();

    readonly AllreduceFn _allreduce;
    readonly BcastFn _bcast;
    readonly CommFn _barrier;
    readonly AbortFn _abort;
    readonly VoidFn _finalize;
    readonly FlagFn _finalized;

    public string LibraryPath { get; }
    public int Rank { get; }
    public int Size { get; }

    Mpi(IntPtr lib, string path)
    {
        T Get<T>(string name) where T : Delegate => NativeLibrary.TryGetExport(lib, name, out var f)
            ? Marshal.GetDelegateForFunctionPointer<T>(f)
            : throw new UsageException($"{path} has no {name}: it is not an MPI library of the MPICH ABI (MPICH, Intel MPI, Cray MPICH, MVAPICH)");
        LibraryPath = path;
        var initialized = Get<FlagFn>("MPI_Initialized");
        var init = Get<InitFn>("MPI_Init");
        var rank = Get<CommIntFn>("MPI_Comm_rank");
        var size = Get<CommIntFn>("MPI_Comm_size");
        _allreduce = Get<AllreduceFn>("MPI_Allreduce");
        _bcast = Get<BcastFn>("MPI_Bcast");
        _barrier = Get<CommFn>("MPI_Barrier");
        _abort = Get<AbortFn>("MPI_Abort");
        _finalize = Get<VoidFn>("MPI_Finalize");
        _finalized = Get<FlagFn>("MPI_Finalized");
        Check(initialized(out int already), "MPI_Initialized");
        if (already == 0) Check(init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        Check(rank(CommWorld, out int r), "MPI_Comm_rank");
        Check(size(CommWorld, out int s), "MPI_Comm_size");
        (Rank, Size) = (r, s);
    }

    /// <summary>Loads the first MPICH-ABI library found and initialises MPI; one line naming what to install when none is.</summary>
    public static Mpi Initialize(IReadOnlyList<string>? libraryNames = null)
    {
        IReadOnlyList<string> names = libraryNames ?? (Environment.GetEnvironmentVariable("LANGEVIN_MPI_LIBRARY") is { Length: > 0 } given ? [given, .. LibraryNames] : LibraryNames);
        foreach (string name in names)
            if (NativeLibrary.TryLoad(name, out var lib)) return new Mpi(lib, name);
        throw new UsageException($"launched as several MPI ranks, but no MPICH-ABI library was found ({string.Join(", ", names)}): install MPICH (Debian: apt-get install mpich), or set LANGEVIN_MPI_LIBRARY to your MPI's libmpi.so.12");
    }

    static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }

    /// <summary>Sums <paramref name="data"/> over the ranks, in place (in chunks of at most 2³⁰ values: MPI counts are ints).</summary>
    public unsafe void SumInPlace(Span<float> data)
    {
        fixed (float* p = data)
            for (long done = 0; done < data.Length; done += 1 << 30)
            {
                int count = (int)Math.Min(1 << 30, data.Length - done);
                Check(_allreduce(InPlace, (IntPtr)(p + done), count, Float, Sum, CommWorld), "MPI_Allreduce");
            }
    }

    public unsafe void SumInPlace(Span<double> data)
    {
        fixed (double* p = data) Check(_allreduce(InPlace, (IntPtr)p, data.Length, Double, Sum, CommWorld), "MPI_Allreduce");
    }

    public unsafe void MaxInPlace(Span<double> data)
    {
        fixed (double* p = data) Check(_allreduce(InPlace, (IntPtr)p, data.Length, Double, Max, CommWorld), "MPI_Allreduce");
    }

    /// <summary>Rank <paramref name="root"/>'s bytes to every rank.</summary>
    public unsafe void Broadcast(Span<byte> data, int root = 0)
    {
        fixed (byte* p = data)
            for (long done = 0; done < data.Length; done += 1 << 30)
                Check(_bcast((IntPtr)(p + done), (int)Math.Min(1 << 30, data.Length - done), Byte, root, CommWorld), "MPI_Bcast");
    }

    public void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    /// <summary>Ends every rank (one rank's error would otherwise leave the others waiting in a collective).</summary>
    public void Abort(int code) => _abort(CommWorld, code);

    public void Shutdown()
    {
        if (_finalized(out int done) == 0 && done == 0) _finalize();
    }
}
