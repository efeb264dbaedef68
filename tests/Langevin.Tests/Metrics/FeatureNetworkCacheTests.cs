using Langevin.Metrics;

namespace Langevin.Tests.Metrics;

public class FeatureNetworkCacheTests
{
    [Fact]
    public void CacheFolderFollowsLangevinCacheThenXdgThenHome()
    {
        string? own = Environment.GetEnvironmentVariable("LANGEVIN_CACHE"), xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable("LANGEVIN_CACHE", "/tmp/own");
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/tmp/xdg");
            Assert.Equal("/tmp/own", FeatureNetworkCache.Directory);
            Environment.SetEnvironmentVariable("LANGEVIN_CACHE", null);
            Assert.Equal("/tmp/xdg/langevin", FeatureNetworkCache.Directory);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "langevin"), FeatureNetworkCache.Directory);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LANGEVIN_CACHE", own);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", xdg);
        }
    }

    [Theory]
    [InlineData("fashion-mnist:test", "fashion-mnist", "features-fashion-mnist-1x28x28.safetensors")]
    [InlineData("fashion-mnist:/data/fm:test", "fashion-mnist:/data/fm", "features-fashion-mnist-1x28x28.safetensors")]
    [InlineData("cifar10:/d", "cifar10:/d", "features-cifar10-3x32x32.safetensors")]
    public void OneDefaultNetworkPerDatasetAndShapeTrainedOnTheTrainingSplit(string refSpec, string trainSpec, string file)
    {
        Assert.Equal(trainSpec, FeatureNetworkCache.TrainingSpec(refSpec));
        long[] shape = file.Contains("3x32x32") ? [3, 32, 32] : [1, 28, 28];
        Assert.Equal(file, Path.GetFileName(FeatureNetworkCache.DefaultPath(refSpec, shape)));
    }
}
