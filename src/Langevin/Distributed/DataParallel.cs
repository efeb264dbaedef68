using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Distributed;

/// <summary>
/// Data-parallel training over MPI ranks (one process per rank, <c>mpiexec -n N</c> or Slurm's <c>srun</c>): every rank
/// holds the whole model, starts from rank 0's weights, trains on its own rows of each step's items, and averages the
/// gradients of every component with one allreduce of one flat buffer before that component's optimizer steps, so all ranks
/// keep identical weights. Rank 0 alone writes the run folder.
/// </summary>
public sealed class DataParallel : IDisposable
{
    readonly Mpi _mpi;

    DataParallel(Mpi mpi) => _mpi = mpi;

    public int Rank => _mpi.Rank;
    public int Size => _mpi.Size;
    public bool IsRoot => _mpi.Rank == 0;
    public string Library => _mpi.LibraryPath;

    /// <summary>Seconds spent in gradient allreduces (and their copies) so far: the communication share of a step.</summary>
    public double AllreduceSeconds { get; private set; }

    /// <summary>Values averaged by allreduce so far (their count per step is the message size).</summary>
    public long ReducedValues { get; private set; }

    /// <summary>The number of ranks a launcher started, from its environment (MPICH/Intel MPI Hydra's PMI_SIZE, Slurm's
    /// SLURM_STEP_NUM_TASKS inside srun); 1 when none did. Open MPI's OMPI_COMM_WORLD_SIZE is refused (another ABI).</summary>
    public static int LaunchedRanks(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        static int Parse(string? v) => int.TryParse(v, out int n) && n > 0 ? n : 1;
        int pmi = Parse(env("PMI_SIZE")), slurm = Parse(env("SLURM_STEP_NUM_TASKS")), ompi = Parse(env("OMPI_COMM_WORLD_SIZE"));
        if (ompi > 1 && pmi <= 1)
            throw new UsageException("launched by Open MPI (OMPI_COMM_WORLD_SIZE), whose library is not of the MPICH ABI Langevin binds: launch with MPICH's mpiexec (Debian: apt-get install mpich), Intel MPI's, or Slurm's srun with its PMI2 plugin");
        return Math.Max(pmi, slurm);
    }

    /// <summary>This process's rank by its launcher's environment (PMI_RANK, else SLURM_PROCID inside srun); 0 for a single process.</summary>
    public static int LaunchedRank(Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        if (int.TryParse(env("PMI_RANK"), out int pmi)) return pmi;
        return int.TryParse(env("SLURM_STEP_NUM_TASKS"), out int n) && n > 1 && int.TryParse(env("SLURM_PROCID"), out int r) ? r : 0;
    }

    /// <summary>The ranks of this launch, or null for a single process (no launcher, or one rank): then no MPI library is loaded.</summary>
    public static DataParallel? FromEnvironment()
    {
        int launched = LaunchedRanks();
        if (launched <= 1) return null;
        var mpi = Mpi.Initialize();
        if (mpi.Size != launched)
        {
            mpi.Abort(2);
            throw new UsageException($"the launcher started {launched} ranks but MPI ({mpi.LibraryPath}) sees {mpi.Size}: under Slurm let srun use its PMI2 plugin (srun's mpi option pmi2), or launch with the MPI's own mpiexec");
        }
        return new DataParallel(mpi);
    }

    /// <summary>Replaces every rank's parameters and buffers by rank 0's.</summary>
    public void Broadcast(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (_, t) in module.state_dict()) Broadcast(t);
    }

    public void Broadcast(Tensor t)
    {
        using var cpu = t.detach().cpu().contiguous().clone();   // memory of its own, filled in place by MPI
        _mpi.Broadcast(cpu.bytes);
        using (no_grad()) t.copy_(cpu);
    }

    /// <summary>Averages the gradients of <paramref name="parameters"/> over the ranks, in one allreduce of one flat float32
    /// buffer; a parameter without a gradient (the same on every rank: the same step runs everywhere) is left out.</summary>
    public void AverageGradients(IEnumerable<Tensor> parameters)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return;
        using var flat = cat(grads.Select(g => g.detach().to(float32).cpu().flatten()).ToList(), 0).contiguous();
        long n = flat.numel();
        _mpi.SumInPlace(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(flat.bytes));
        flat.div_(Size);
        long offset = 0;
        using (no_grad())
            foreach (var g in grads)
            {
                long k = g.numel();
                g.copy_(flat.narrow(0, offset, k).view(g.shape));
                offset += k;
            }
        ReducedValues += n;
        AllreduceSeconds += clock.Elapsed.TotalSeconds;
    }

    /// <summary>The mean of one number over the ranks (a NaN on any rank makes it NaN everywhere, so every rank stops alike).</summary>
    public double Mean(double value)
    {
        Span<double> v = [value];
        _mpi.SumInPlace(v);
        return v[0] / Size;
    }

    /// <summary>Whether any rank says <paramref name="flag"/>.</summary>
    public bool Any(bool flag)
    {
        Span<double> v = [flag ? 1 : 0];
        _mpi.MaxInPlace(v);
        return v[0] > 0;
    }

    public void Barrier() => _mpi.Barrier();

    /// <summary>Ends every rank with <paramref name="code"/> (after one rank's error, which would leave the others waiting).</summary>
    public void Abort(int code) => _mpi.Abort(code);

    public void Dispose() => _mpi.Shutdown();
}
