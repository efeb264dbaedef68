using Langevin.Data;

namespace Langevin.Tests.Data;

public class HeldOutSplitTests
{
    [Theory]
    [InlineData("fashion-mnist", "fashion-mnist:test")]
    [InlineData("fashion-mnist:train", "fashion-mnist:test")]
    [InlineData("fashion-mnist:test", "fashion-mnist")]
    [InlineData("fashion-mnist:/some/dir", "fashion-mnist:/some/dir:test")]
    [InlineData("fashion-mnist:/dir:test", "fashion-mnist:/dir")]
    [InlineData("fashion-mnist:/dir:train", "fashion-mnist:/dir:test")]
    [InlineData("  Fashion-MNIST:/Some/Dir:TEST ", "fashion-mnist:/Some/Dir")]
    [InlineData("FASHION-MNIST:Test", "fashion-mnist")]
    [InlineData("mnist", "mnist:test")]
    [InlineData("mnist:/d", "mnist:/d:test")]
    [InlineData("mnist:/d:test", "mnist:/d")]
    [InlineData("cifar10:/d", "cifar10:/d:test")]
    [InlineData("cifar10:/d:test", "cifar10:/d")]
    [InlineData("Cifar10:C:/data/cifar:Train", "cifar10:C:/data/cifar:test")]   // a folder with a colon in it
    [InlineData("cifar10:test", "cifar10:test:test")]                            // no default folder: 'test' is the folder
    public void DatasetsWithSplitsHoldOutTheOtherSplit(string spec, string heldOut)
    {
        var h = HeldOutSplit.Of(spec, seed: 4);
        Assert.Equal(new DataDraw(heldOut, 5), h);
        Assert.Equal(heldOut, h!.ToString());
        Assert.Equal(heldOut, HeldOutSplit.SpecOrSelf(spec));
    }

    [Theory]
    [InlineData("shapes:16", "shapes:16")]
    [InlineData(" Shapes:32 ", "shapes:32")]
    [InlineData("shapes", "shapes")]
    [InlineData("checkerboard", "checkerboard")]
    [InlineData("8Gaussians", "8gaussians")]
    public void GeneratedDataHoldsOutAFreshDrawWithTheNextSeed(string spec, string heldOut)
    {
        Assert.Equal(new DataDraw(heldOut, 1, FreshDraw: true), HeldOutSplit.Of(spec, seed: 0));
        Assert.Equal(new DataDraw(heldOut, -6, FreshDraw: true), HeldOutSplit.Of(spec, seed: -7));
        Assert.Equal($"{heldOut} (a fresh draw, seed 1)", HeldOutSplit.Of(spec, 0)!.ToString());
    }

    [Theory]
    [InlineData("npy:/x/samples.npy")]
    [InlineData("images:/photos")]
    [InlineData(" NPY:/x/test.npy:test")]
    public void FilesWithoutSplitsHaveNoHeldOutData(string spec)
    {
        Assert.Null(HeldOutSplit.Of(spec, 0));
        Assert.Equal(spec, HeldOutSplit.SpecOrSelf(spec));   // callers fall back to the data itself
    }

    [Fact]
    public void EveryCatalogFormHasARule()
    {
        foreach (var (form, _) in DataSources.Catalog)
        {
            string spec = form.Replace("[:test]", "").Replace("DIR", "/d").Replace("FILE", "/f.npy");
            string kind = spec.Split(':')[0];
            var h = HeldOutSplit.Of(spec, 10);
            if (kind is "npy" or "images") Assert.Null(h);
            else if (kind is "fashion-mnist" or "mnist" or "cifar10") Assert.Equal(new DataDraw(spec + ":test", 11), h);
            else Assert.Equal(new DataDraw(spec, 11, FreshDraw: true), h);   // the 2-D sets and shapes:N
        }
    }

    [Fact]
    public void BadSpecsAreTheLoadersUsageErrors()
    {
        Assert.Equal(Assert.ThrowsAny<UsageException>(() => DataSources.Load("imagenet", new DataOptions())).Message,
            Assert.ThrowsAny<UsageException>(() => HeldOutSplit.Of("imagenet", 0)).Message);
        Assert.Equal(Assert.ThrowsAny<UsageException>(() => DataSources.Load("cifar10", new DataOptions())).Message,
            Assert.ThrowsAny<UsageException>(() => HeldOutSplit.Of("cifar10", 0)).Message);
    }

    [Theory]
    [InlineData("fashion-mnist:test", "fashion-mnist")]
    [InlineData("fashion-mnist", "fashion-mnist")]
    [InlineData(" Fashion-MNIST:/d:TEST", "fashion-mnist:/d")]
    [InlineData("mnist:/d:train", "mnist:/d")]
    [InlineData("cifar10:/d:test", "cifar10:/d")]
    [InlineData("shapes:16", "shapes:16")]
    [InlineData("npy:/x.npy", "npy:/x.npy")]
    public void TrainingSplitDropsTheTestSuffixOfDatasetsWithSplits(string spec, string train) =>
        Assert.Equal(train, HeldOutSplit.TrainingSplit(spec));

    [Fact]
    public void TheHeldOutSpecLoadsTheOtherSplitAndTheFreshDrawDiffers()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), IdxReaderTests.Idx([4, 28, 28], i => (byte)i));
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), IdxReaderTests.Idx([4], i => (byte)i));
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), IdxReaderTests.Idx([2, 28, 28], _ => 255));
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte"), IdxReaderTests.Idx([2], _ => 9));
        using (var test = HeldOutSplit.Of($"mnist:{dir.Path}", 0)!.Load()) Assert.Equal(2, test.Count);
        using (var upper = DataSources.Load($"mnist:{dir.Path}:TEST", new DataOptions())) Assert.Equal(2, upper.Count);   // split words in any case, as the rule reads them
        using (var train = HeldOutSplit.Of($"mnist:{dir.Path}:TEST", 0)!.Load()) Assert.Equal(4, train.Count);

        using var seen = DataSources.Load("shapes:16", new DataOptions(Seed: 3, Limit: 16));
        using var fresh = HeldOutSplit.Of("shapes:16", 3)!.Load(new DataOptions(Seed: 3, Limit: 16));
        using var again = DataSources.Load("shapes:16", new DataOptions(Seed: 4, Limit: 16));
        Assert.Equal(16, fresh.Count);
        Assert.False(seen.X.eq(fresh.X).all().item<bool>());
        Assert.True(again.X.eq(fresh.X).all().item<bool>());   // the options' seed is replaced by the held-out one
    }
}
