using Langevin.Build;
using TorchSharp;

namespace Langevin.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var x = torch.ones(2, 3);
        Assert.Equal(6f, x.sum().item<float>());
    }

    static string? NuGetLibTorchSharp()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [Fact]
    public void PatchMarksOnlyTheMissingVersionWeakAndIsIdempotent()
    {
        string? original = NuGetLibTorchSharp();
        Assert.True(original is not null, "TorchSharp 0.107.0 is restored in the NuGet folder");
        var elf = new ElfVersionNeeds(File.ReadAllBytes(original!));
        var needs = elf.Needs();
        var target = Assert.Single(needs, n => n.Version == "GLIBCXX_3.4.32");
        Assert.False(target.IsWeak);
        Assert.Equal(["_ZSt21ios_base_library_initv"], elf.SymbolsUsing(target.Index));

        Assert.Equal(1, elf.MarkWeak("GLIBCXX_3.4.32"));
        Assert.Equal(0, elf.MarkWeak("GLIBCXX_3.4.32"));
        var after = new ElfVersionNeeds(elf.Bytes).Needs();
        Assert.True(after.Single(n => n.Version == "GLIBCXX_3.4.32").IsWeak);
        Assert.All(after.Where(n => n.Version != "GLIBCXX_3.4.32"),
            n => Assert.Equal(needs.Single(m => m.FlagsOffset == n.FlagsOffset).Flags, n.Flags));
    }

    [Fact]
    public void BuildOutputIsPatchedOnlyWhereTheSystemLacksTheVersion()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output));
        string[] system = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6"];
        bool systemHasIt = system.Where(File.Exists).Any(p => ElfVersionNeeds.DefinesVersion(File.ReadAllBytes(p), "GLIBCXX_3.4.32"));
        var need = new ElfVersionNeeds(File.ReadAllBytes(output)).Needs().Single(n => n.Version == "GLIBCXX_3.4.32");
        Assert.Equal(!systemHasIt, need.IsWeak);
    }

    [Fact]
    public void RejectsNonElfInput()
    {
        Assert.Throws<InvalidDataException>(() => new ElfVersionNeeds(new byte[100]));
        var truncated = File.ReadAllBytes(NuGetLibTorchSharp()!).AsSpan(0, 200).ToArray();
        Assert.Throws<InvalidDataException>(() => new ElfVersionNeeds(truncated).Needs());
    }
}
