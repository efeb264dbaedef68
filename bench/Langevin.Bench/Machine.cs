using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Langevin.Training;

namespace Langevin.Bench;

/// <summary>Timing helpers and facts about the machine the numbers came from.</summary>
internal static partial class Machine
{
    /// <summary>1-minute load average: other processes on a small machine skew every timing.</summary>
    public static double LoadAverage()
    {
        try
        {
            string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return double.NaN; }
    }

    /// <summary>The CPU flags that decide which kernels libtorch and oneDNN can use (AVX-512, its bf16/VNNI parts, AMX).</summary>
    static readonly string[] FlagsThatMatter = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8"];

    /// <summary>
    /// The machine a benchmark ran on: CPU model, the flags that matter, cores, threads, TorchSharp / libtorch / oneDNN
    /// versions, how the C heap is set up, and the load average now (take it again at the end).
    /// </summary>
    public static JsonObject Describe(int threads)
    {
        string model = "unknown", flags = "";
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (model == "unknown" && line.StartsWith("model name", StringComparison.Ordinal)) model = line[(line.IndexOf(':') + 1)..].Trim();
                if (flags.Length == 0 && line.StartsWith("flags", StringComparison.Ordinal)) flags = line[(line.IndexOf(':') + 1)..];
            }
        }
        catch (IOException) { }
        var present = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return new JsonObject
        {
            ["cpu"] = model,
            ["cpu_flags"] = string.Join(' ', FlagsThatMatter.Where(present.Contains)),
            ["cores"] = Environment.ProcessorCount,
            ["threads"] = threads,
            ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
            ["libtorch"] = LibTorchVersion(),
            ["onednn"] = OneDnnVersion(),
            ["native_heap"] = NativeHeap.Mode,
            ["load_start"] = LoadAverage(),
        };
    }

    /// <summary>One line of <see cref="Describe"/> for the human-readable output.</summary>
    public static string Line(JsonObject m) =>
        $"machine: {m["cpu"]} ({m["cpu_flags"]}), {m["cores"]} cores, threads {m["threads"]}; TorchSharp {m["torchsharp"]}, libtorch {m["libtorch"]}, " +
        $"oneDNN {m["onednn"]}; C heap {m["native_heap"]}; load {m["load_start"]}";

    /// <summary>The libtorch package this program was built against (from its deps.json), e.g. "2.10.0".</summary>
    static string LibTorchVersion()
    {
        try
        {
            string deps = Path.Combine(AppContext.BaseDirectory, "Langevin.Bench.deps.json");
            var m = LibTorchPackage().Match(File.ReadAllText(deps));
            return m.Success ? m.Groups[1].Value : "unknown";
        }
        catch (IOException) { return "unknown"; }
    }

    [GeneratedRegex("\"libtorch-cpu-[a-z0-9-]+/([0-9.]+)\"")]
    private static partial Regex LibTorchPackage();

    /// <summary>
    /// oneDNN's version as libtorch reports it (<c>at::get_mkldnn_version()</c>, which returns a std::string: called with a
    /// buffer for it, libstdc++'s layout {char* data; size_t size; …}). libtorch is loaded by then: the caller has made tensors.
    /// </summary>
    static string OneDnnVersion()
    {
        try
        {
            using var _ = TorchSharp.torch.zeros(1);
            string? path = File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 6 && f[5].EndsWith("/libtorch_cpu.so", StringComparison.Ordinal)).Select(f => f[5]).FirstOrDefault();
            if (path is null) return "unknown";
            var version = Marshal.GetDelegateForFunctionPointer<StringReturning>(
                NativeLibrary.GetExport(NativeLibrary.Load(path), "_ZN2at18get_mkldnn_versionB5cxx11Ev"));
            IntPtr result = Marshal.AllocHGlobal(64);
            try
            {
                version(result);
                string text = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(result), (int)Marshal.ReadInt64(result, 8));
                var m = OneDnnNumber().Match(text);
                return m.Success ? m.Groups[1].Value : text;
            }
            finally { Marshal.FreeHGlobal(result); }   // the string's own buffer (a few dozen bytes) is left to the process
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException) { return "unknown"; }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate void StringReturning(IntPtr result);

    [GeneratedRegex(@"v(\d+\.\d+(\.\d+)?)")]
    private static partial Regex OneDnnNumber();

    /// <summary>The folder holding Langevin.sln, upwards from the working directory or the executable (the peers are in its bench/peers).</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Langevin.sln"))) return dir.FullName;
        throw new ArgumentException("run the bench inside the repository (its bench/peers holds the PyTorch peers)");
    }

    /// <summary>Median wall time in ms of <paramref name="reps"/> calls after <paramref name="warmup"/> untimed ones.</summary>
    public static double MedianMs(Action action, int warmup, int reps)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Median(times);
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
