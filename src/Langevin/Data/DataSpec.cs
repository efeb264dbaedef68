namespace Langevin.Data;

/// <summary>
/// A data spec cut the way <see cref="DataSources.Load"/> reads it: the source kind (case-insensitive, trimmed) and the
/// argument after the first ':', e.g. <c> Fashion-MNIST:/d:test </c> → (<c>fashion-mnist</c>, <c>/d:test</c>).
/// </summary>
internal readonly record struct DataSpec(string Kind, string? Arg)
{
    public static DataSpec Parse(string spec)
    {
        string trimmed = spec.Trim();
        int colon = trimmed.IndexOf(':');
        return new((colon < 0 ? trimmed : trimmed[..colon]).ToLowerInvariant(), colon < 0 ? null : trimmed[(colon + 1)..]);
    }

    /// <summary>Datasets with a train and a test split, and the folder each reads when the spec names none (null: a folder is required).</summary>
    public static IReadOnlyDictionary<string, string?> SplitDatasets { get; } = new Dictionary<string, string?>
    {
        ["fashion-mnist"] = DataSources.FashionMnistDefaultDir,
        ["mnist"] = DataSources.MnistDefaultDir,
        ["cifar10"] = null,
    };

    public bool HasSplits => SplitDatasets.ContainsKey(Kind);

    /// <summary>Generated afresh from the seed: the built-in 2-D sets and <c>shapes:N</c>.</summary>
    public bool IsGenerated => Kind == "shapes" || Toy2D.TryGet(Kind) is not null;

    /// <summary>
    /// Folder (null: the default one) and split of a dataset with splits: "" → (null, train); "test" or "train" →
    /// (null, that split) where there is a default folder; "DIR[:test|:train]" → (DIR, split). Split words are
    /// case-insensitive.
    /// </summary>
    /// <exception cref="UsageException">No folder given and the dataset has no default one (cifar10).</exception>
    public (string? Folder, bool Test) FolderAndSplit()
    {
        bool hasDefault = SplitDatasets[Kind] is not null;
        if (string.IsNullOrEmpty(Arg))
            return hasDefault ? (null, false) : throw new UsageException($"data spec '{this}': give {Kind}:DIR[:test] with DIR holding the CIFAR-10 binary batches");
        if (hasDefault && IsSplitWord(Arg)) return (null, IsTest(Arg));
        int last = Arg.LastIndexOf(':');
        if (last >= 0 && IsSplitWord(Arg[(last + 1)..])) return (Arg[..last], IsTest(Arg[(last + 1)..]));
        return (Arg, false);
    }

    /// <summary>The spec of one split of a dataset with splits, naming the folder only when the spec did.</summary>
    public string WithSplit(bool test)
    {
        var (folder, _) = FolderAndSplit();
        return Kind + (folder is null ? "" : ":" + folder) + (test ? ":test" : "");
    }

    static bool IsSplitWord(string s) => IsTest(s) || s.Equals("train", StringComparison.OrdinalIgnoreCase);
    static bool IsTest(string s) => s.Equals("test", StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Arg is null ? Kind : Kind + ":" + Arg;
}
