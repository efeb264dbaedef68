using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>How <see cref="DataSources.Load"/> builds a dataset.</summary>
/// <param name="Seed">Seed for generated data (2-D datasets, shapes).</param>
/// <param name="ToyCount">How many points to draw for a built-in 2-D dataset.</param>
/// <param name="Limit">Keep at most this many items (the first ones, in file order); null keeps all.</param>
/// <param name="ImageSize">Side of the square images made from <c>images:DIR</c>; fixed-size datasets keep their size.</param>
/// <param name="Grayscale">Convert colour images to one channel (BT.601 luma).</param>
public sealed record DataOptions(int Seed = 0, int ToyCount = 100_000, int? Limit = null, int ImageSize = 32, bool Grayscale = false);

/// <summary>
/// A dataset held in memory: <see cref="X"/> is float32, [N, D] for points or [N, C, H, W] in [−1, 1] for images.
/// Owns its tensors.
/// </summary>
public sealed class Dataset : IDisposable
{
    /// <param name="spec">What the data came from, e.g. <c>fashion-mnist:test</c>.</param>
    /// <param name="x">float32 [N, D] points or [N, C, H, W] images in [−1, 1]; the dataset takes ownership.</param>
    /// <param name="labels">int64 [N] class labels, or null; the dataset takes ownership.</param>
    /// <param name="toyName">The <see cref="Toy2D"/> name when the points come from a built-in 2-D dataset.</param>
    /// <param name="classNames">The name of each class, indexed by label; needs <paramref name="labels"/>, all below its count.</param>
    public Dataset(string spec, Tensor x, Tensor? labels = null, string? toyName = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dtype != ScalarType.Float32) throw new ArgumentException($"dataset X must be float32, got {x.dtype}", nameof(x));
        if (x.dim() is not (2 or 4)) throw new ArgumentException($"dataset X must be [N, D] or [N, C, H, W], got [{string.Join(", ", x.shape)}]", nameof(x));
        if (labels is not null && (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != x.shape[0]))
            throw new ArgumentException($"labels must be int64 [{x.shape[0]}], got {labels.dtype} [{string.Join(", ", labels.shape)}]", nameof(labels));
        if (toyName is not null && Toy2D.TryGet(toyName) is null) throw new ArgumentException($"unknown 2-D dataset '{toyName}'", nameof(toyName));
        if (classNames is not null)
        {
            if (labels is null) throw new ArgumentException("class names need labels", nameof(classNames));
            if (labels.numel() > 0 && (labels.min().item<long>() < 0 || labels.max().item<long>() >= classNames.Count))
                throw new ArgumentException($"labels must lie in 0..{classNames.Count - 1} for {classNames.Count} class names", nameof(classNames));
        }
        Spec = spec;
        X = x;
        Labels = labels;
        ToyName = toyName;
        ClassNames = classNames;
        IsImage = x.dim() == 4;
        ItemShape = x.shape[1..];
    }

    public string Spec { get; }

    /// <summary>float32: [N, D] for points, [N, C, H, W] in [−1, 1] for images.</summary>
    public Tensor X { get; }

    /// <summary>
    /// int64 [N] class labels when the source has them (IDX, CIFAR-10, shapes, an image folder split into class
    /// sub-folders, <c>npy:FILE,labels=LABELS.npy</c>), else null.
    /// </summary>
    public Tensor? Labels { get; }

    /// <summary>The name of each class, indexed by label, when the source names them (all labelled sources but .npy), else null.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    public bool IsImage { get; }

    /// <summary>The shape of one item: [D] or [C, H, W].</summary>
    public long[] ItemShape { get; }

    /// <summary>Set for built-in 2-D datasets, so callers can draw fresh samples with <see cref="Toy2D.Get"/>.</summary>
    public string? ToyName { get; }

    /// <summary>Number of items N.</summary>
    public long Count => X.shape[0];

    /// <summary>e.g. <c>fashion-mnist: 60000 x [1, 28, 28] images, 10 classes</c>.</summary>
    public override string ToString()
    {
        string what = IsImage ? "images" : "points";
        long? classCount = ClassNames is not null ? ClassNames.Count : Labels is null || Count == 0 ? null : Labels.max().item<long>() + 1;
        string classes = classCount is null ? "" : $", {classCount} classes";
        return $"{Spec}: {Count} x [{string.Join(", ", ItemShape)}] {what}{classes}";
    }

    public void Dispose()
    {
        X.Dispose();
        Labels?.Dispose();
    }
}
