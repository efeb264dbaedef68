using Langevin.Data;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>What an image evaluation scores against, and in which feature space.</summary>
/// <param name="Reference">The reference data (spec and the seed it is loaded with).</param>
/// <param name="Seed">Seeds the reference and floor draws and the KID subsets.</param>
/// <param name="FeaturesFile">An explicit feature network; null: the cached default for <paramref name="FeaturesData"/>.</param>
/// <param name="FeaturesData">The labelled data whose default feature network is used; null: the reference's.</param>
public sealed record ImageEvaluationSettings(DataDraw Reference, int Seed, string? FeaturesFile = null, string? FeaturesData = null);

/// <summary>
/// The one protocol by which `eval` and `compare` score images:
/// <list type="bullet">
/// <item>the reference: at most <see cref="MaxReference"/> images of the reference data, drawn without replacement
/// (a permutation from a generator seeded with <see cref="ImageEvaluationSettings.Seed"/>);</item>
/// <item>the floor: N real images of the reference's other split (<see cref="HeldOutSplit"/>), drawn without
/// replacement by the same generator after the reference, scored like samples — what real data scores at this N;</item>
/// <item>the feature network: the explicit file, else the cache, else the default trained once and cached
/// (<see cref="FeatureNetworkCache.Open"/>), opened on first use, so callers can check the reference's shape first;</item>
/// <item>the metrics of <see cref="ImageSetEvaluation"/> (+ <see cref="ChainMixing"/> for one chain).</item>
/// </list>
/// </summary>
public sealed class ImageEvaluationProtocol : IDisposable
{
    /// <summary>Most reference images used for FD and KID (and, first N of them, precision/recall).</summary>
    public const int MaxReference = 10_000;

    readonly ImageEvaluationSettings _settings;
    readonly Dataset _data;
    readonly Tensor _referenceIndex;
    readonly Tensor _floorGeneratorState;     // the draw generator after the reference permutation
    readonly Action<string>? _log;
    readonly ProgressRunner? _progress;
    FeatureNetwork? _network;
    FeatureEmbedding? _reference;

    ImageEvaluationProtocol(ImageEvaluationSettings settings, Dataset data, Action<string>? log, ProgressRunner? progress)
    {
        (_settings, _data, _log, _progress) = (settings, data, log, progress);
        using var gen = new Generator(unchecked((ulong)settings.Seed));
        using var permutation = randperm(data.Count, generator: gen);
        _referenceIndex = permutation.narrow(0, 0, ReferenceCount).clone();
        _floorGeneratorState = gen.get_state();
        Floor = HeldOutSplit.Of(settings.Reference.Spec, settings.Reference.Seed);
    }

    /// <summary>Loads the reference data and draws the reference; the feature network waits for first use.</summary>
    /// <param name="log">Says which feature network is used, and when one is trained.</param>
    /// <param name="progress">Shows the training of a default feature network.</param>
    public static ImageEvaluationProtocol Open(ImageEvaluationSettings settings, Action<string>? log = null, ProgressRunner? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var data = settings.Reference.Load();
        try { return new ImageEvaluationProtocol(settings, data, log, progress); }
        catch { data.Dispose(); throw; }
    }

    public ImageEvaluationSettings Settings => _settings;

    /// <summary>Whether the reference holds images (callers refuse points before anything is embedded).</summary>
    public bool IsImage => _data.IsImage;

    /// <summary>The reference's item shape, [C, H, W] for images.</summary>
    public long[] ItemShape => _data.ItemShape;

    /// <summary>Images in the reference draw: min(<see cref="MaxReference"/>, the reference data's size).</summary>
    public long ReferenceCount => Math.Min(MaxReference, _data.Count);

    /// <summary>Where the floor's real images come from; null when the reference has no other split (npy:, images:).</summary>
    public DataDraw? Floor { get; }

    /// <summary>The feature network (opened, or trained and cached, on first use).</summary>
    public FeatureNetwork Network => _network ??= FeatureNetworkCache.Open(_settings.FeaturesFile,
        _settings.FeaturesData ?? _settings.Reference.Spec, ItemShape, _log, _progress);

    /// <summary>The reference draw's features and logits (embedded on first use).</summary>
    public FeatureEmbedding Reference
    {
        get
        {
            if (_reference is not null) return _reference;
            using var ref01 = UnitImages(_data, _referenceIndex);
            return _reference = FeatureEmbedding.OfUnitImages(Network, ref01);
        }
    }

    /// <summary>
    /// The share of samples [N, C, H, W] in [0, 1] that the feature network classifies as their <paramref name="labels"/> ([N]):
    /// how often a class-conditional or guided sampler gives the class it was asked for.
    /// </summary>
    public double ClassAccuracy(Tensor samples01, Tensor labels)
    {
        if (labels.dim() != 1 || labels.shape[0] != samples01.shape[0])
            throw SettingException.About("labels", "", $"{labels.shape.FirstOrDefault()} labels for {samples01.shape[0]} samples");
        using var embedding = FeatureEmbedding.OfUnitImages(Network, samples01);
        using var scope = NewDisposeScope();
        long k = embedding.Logits.shape[1];
        var y = labels.to(ScalarType.Int64);
        if (y.min().item<long>() < 0 || y.max().item<long>() >= k)
            throw SettingException.About("labels", "", $"labels must be classes 0..{k - 1} of the feature network");
        return embedding.Logits.argmax(1).eq(y).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>The rows of <paramref name="metrics"/> (null: all) for samples [N, C, H, W] in [0, 1].</summary>
    /// <param name="chainWindow">The samples are one chain in emission order: add its mixing over windows of this many samples.</param>
    public IReadOnlyList<(string Metric, double Value)> Score(Tensor samples01, IReadOnlyList<string>? metrics = null, int? chainWindow = null)
    {
        using var embedding = FeatureEmbedding.OfUnitImages(Network, samples01);
        return Score(embedding, metrics, chainWindow);
    }

    /// <summary>
    /// The floor: the same rows for <paramref name="n"/> real images of <see cref="Floor"/>; null when there is no
    /// other split or it holds fewer than <paramref name="n"/> images.
    /// </summary>
    public IReadOnlyList<(string Metric, double Value)>? ScoreFloor(long n, IReadOnlyList<string>? metrics = null, int? chainWindow = null)
    {
        if (Floor is null) return null;
        using var other = Floor.Load();
        if (other.Count < n) return null;
        using var gen = new Generator(unchecked((ulong)_settings.Seed));
        gen.set_state(_floorGeneratorState);
        using var permutation = randperm(other.Count, generator: gen);
        using var index = permutation.narrow(0, 0, n);
        using var floor01 = UnitImages(other, index);
        using var embedding = FeatureEmbedding.OfUnitImages(Network, floor01);
        return Score(embedding, metrics, chainWindow);
    }

    // Items of a dataset's [−1, 1] images, mapped to [0, 1].
    static Tensor UnitImages(Dataset data, Tensor index)
    {
        using var scope = NewDisposeScope();
        return data.X.index_select(0, index).add(1).div(2).MoveToOuterDisposeScope();
    }

    IReadOnlyList<(string Metric, double Value)> Score(FeatureEmbedding embedding, IReadOnlyList<string>? metrics, int? chainWindow)
    {
        var rows = ImageSetEvaluation.Score(embedding, Reference, metrics, _settings.Seed).ToList();
        if (chainWindow is int window) rows.AddRange(ChainMixing.Compute(ChainMixing.PredictedClass(embedding.Logits), window).Rows());
        return rows;
    }

    public void Dispose()
    {
        _reference?.Dispose();
        _network?.Dispose();
        _referenceIndex.Dispose();
        _floorGeneratorState.Dispose();
        _data.Dispose();
    }
}
