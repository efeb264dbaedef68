using Langevin.Training;
using TorchSharp;

namespace Langevin.Tests.Training;

public class ComputeDeviceTests
{
    [Fact]
    public void CudaIsChosenWhenAvailableAndRefusedClearlyWhenNot()
    {
        Assert.Equal(DeviceType.CUDA, ComputeDevice.Kind("cuda", () => true));
        Assert.Equal(DeviceType.CPU, ComputeDevice.Kind("cpu", () => true));
        var e = Assert.ThrowsAny<UsageException>(() => ComputeDevice.Kind("cuda", () => false));
        Assert.Contains("libtorch-cuda", e.Message);
        Assert.ThrowsAny<UsageException>(() => ComputeDevice.Kind("metal", () => true));
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve("cpu").type);
    }
}
