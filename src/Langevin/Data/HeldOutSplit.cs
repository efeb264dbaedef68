namespace Langevin.Data;

/// <summary>A data spec and the seed to load it with (the seed draws generated data; files ignore it).</summary>
/// <param name="FreshDraw">Generated data drawn again with another seed, rather than another split of a file.</param>
public sealed record DataDraw(string Spec, int Seed, bool FreshDraw = false)
{
    /// <summary>Loads it: <paramref name="options"/> (default <see cref="DataOptions"/>) with this seed.</summary>
    public Dataset Load(DataOptions? options = null) => DataSources.Load(Spec, (options ?? new DataOptions()) with { Seed = Seed });

    /// <summary><c>fashion-mnist:test</c>, or <c>shapes:16 (a fresh draw, seed 1)</c>.</summary>
    public override string ToString() => FreshDraw ? $"{Spec} (a fresh draw, seed {Seed})" : Spec;
}

/// <summary>
/// The data a model did not see, given the spec (and seed) of the data it did — the one rule every command uses:
/// <list type="bullet">
/// <item>a dataset with splits (<c>fashion-mnist[:DIR]</c>, <c>mnist:DIR</c>, <c>cifar10:DIR</c>): the other split,
/// train → test and test → train (the latter is the floor's reference for a test-split reference);</item>
/// <item>generated data (the 2-D sets, <c>shapes:N</c>): the same spec drawn with seed + 1;</item>
/// <item><c>npy:FILE</c>, <c>images:DIR</c>: none (null) — callers fall back to the data itself.</item>
/// </list>
/// Held-out draws always load with seed + <see cref="SeedOffset"/>, which only generated data notices.
/// </summary>
public static class HeldOutSplit
{
    public const int SeedOffset = 1;

    /// <summary>The held-out counterpart of <paramref name="spec"/> loaded with <paramref name="seed"/>; null when the data has none.</summary>
    /// <exception cref="UsageException">The spec is not a data spec.</exception>
    public static DataDraw? Of(string spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = DataSpec.Parse(spec);
        int heldOutSeed = unchecked(seed + SeedOffset);
        if (s.HasSplits) return new DataDraw(s.WithSplit(test: !s.FolderAndSplit().Test), heldOutSeed);
        if (s.IsGenerated) return new DataDraw(s.ToString(), heldOutSeed, FreshDraw: true);
        if (s.Kind is "npy" or "images") return null;
        throw DataSources.UnknownSpec(spec);
    }

    /// <summary>The held-out spec, or <paramref name="spec"/> itself when the data has no held-out part (npy:, images:).</summary>
    public static string SpecOrSelf(string spec) => Of(spec, 0)?.Spec ?? spec;

    /// <summary>The training split of a spec: <c>fashion-mnist:/d:test</c> → <c>fashion-mnist:/d</c>; specs without splits unchanged.</summary>
    public static string TrainingSplit(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = DataSpec.Parse(spec);
        return s.HasSplits ? s.WithSplit(test: false) : s.ToString();
    }
}
