using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>Turns <c>--device</c> and <c>--threads</c> into TorchSharp settings, with one-line errors.</summary>
public static class ComputeDevice
{
    public static Device Resolve(string name) => Kind(name, cuda.is_available) == DeviceType.CUDA ? CUDA : CPU;

    /// <summary>Which device <c>--device NAME</c> selects, given whether CUDA is available (testable without a GPU).</summary>
    public static DeviceType Kind(string name, Func<bool> cudaAvailable) => name switch
    {
        "cpu" => DeviceType.CPU,
        "cuda" or "cuda:0" or "gpu" => cudaAvailable() ? DeviceType.CUDA
            : throw SettingException.Sentence("device", name, "cuda: no CUDA device is available (this build references the CPU libtorch; reference libtorch-cuda-12.8-linux-x64 in src/Langevin and run on a machine with an NVIDIA GPU), or use the cpu"),
        _ => throw new SettingException("device", name, "must be cpu or cuda"),
    };

    /// <summary>The device a module's weights live on (the CPU for a module without weights, e.g. an analytic model's).</summary>
    public static Device Of(nn.Module module) => module.parameters().FirstOrDefault()?.device ?? CPU;

    public static void SetThreads(int? threads)
    {
        int n = threads ?? Environment.ProcessorCount;
        if (n < 1) throw new SettingException("threads", n, "must be ≥ 1");
        if (get_num_threads() != n) set_num_threads(n);
    }
}
