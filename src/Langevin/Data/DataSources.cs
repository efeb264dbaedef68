using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// Turns a data spec (what a user types after <c>--data</c>) into an in-memory <see cref="Dataset"/>.
/// See <see cref="Catalog"/> for the accepted forms.
/// </summary>
public static class DataSources
{
    /// <summary>Where the <c>dataset-fashion-mnist</c> package installs Fashion-MNIST.</summary>
    public const string FashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where an MNIST copy is looked for when the spec names no folder.</summary>
    public const string MnistDefaultDir = "/usr/share/datasets/mnist";

    /// <summary>Fashion-MNIST's class names, indexed by label (Xiao et al. 2017, Table 1).</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's class names: the digits.</summary>
    public static IReadOnlyList<string> MnistClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Images generated for <c>shapes:SIZE</c> unless <see cref="DataOptions.Limit"/> says otherwise.</summary>
    public const int ShapesDefaultCount = 10_000;

    /// <summary>The accepted spec forms with one line each, for <c>langevin datasets</c>.</summary>
    public static IReadOnlyList<(string Spec, string Description)> Catalog { get; } =
    [
        .. Toy2D.Datasets.Select(d => (d.Name, $"2-D: {d.Description}")),
        ("fashion-mnist[:test]", $"Fashion-MNIST 28x28 grayscale, 10 classes, 60,000 train / 10,000 test, from {FashionMnistDefaultDir} (sudo apt-get install dataset-fashion-mnist)"),
        ("fashion-mnist:DIR[:test]", "Fashion-MNIST from a folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]"),
        ("mnist:DIR[:test]", "MNIST 28x28 grayscale digits from a folder holding the IDX files (plain or .gz)"),
        ("cifar10:DIR[:test]", "CIFAR-10 32x32 RGB, 10 classes, from the binary batches (data_batch_1..5.bin, test_batch.bin) in DIR"),
        ("images:DIR", "every .png/.jpg/.jpeg under DIR, shorter side scaled to --image-size and centre-cropped; labelled by class when all lie in 2+ sub-folders DIR/CLASS/"),
        ("npy:FILE", ".npy array: [N,D] points as given; [N,H,W] or [N,C,H,W] images (uint8, or float in [0,1] or [-1,1])"),
        ("npy:FILE,labels=LABELS", "the same with class labels from LABELS.npy: integers [N] (int64, int32 or uint8), values >= 0"),
        ("shapes:16", $"generated circles, squares and triangles, 16x16 RGB, {ShapesDefaultCount} images (or --limit), labelled by shape"),
        ("shapes:32", $"generated circles, squares and triangles, 32x32 RGB, {ShapesDefaultCount} images (or --limit), labelled by shape"),
    ];

    static string AcceptedForms => string.Join(", ", Catalog.Select(c => c.Spec));

    internal static UsageException UnknownSpec(string spec) => new($"unknown data spec '{spec}'; use one of: {AcceptedForms}");

    /// <summary>Loads or generates the data a spec names.</summary>
    /// <exception cref="UsageException">The spec or an option is not understood (exit code 2).</exception>
    /// <exception cref="DataException">The data is missing, corrupt or of the wrong shape (exit code 1).</exception>
    public static Dataset Load(string spec, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ToyCount < 1) throw new UsageException($"the number of 2-D points must be at least 1, got {options.ToyCount}");
        if (options.Limit is < 1) throw new SettingException("limit", options.Limit, "must be at least 1");
        if (options.ImageSize is < 1 or > 1024) throw new SettingException("image_size", options.ImageSize, "must be in 1..1024");

        var (kind, arg) = DataSpec.Parse(spec);

        if (Toy2D.TryGet(kind) is { } toy)
        {
            if (arg is not null) throw new UsageException($"data spec '{spec}': {toy.Name} takes no ':' argument; set the number of points with the count option");
            int n = Math.Min(options.ToyCount, options.Limit ?? int.MaxValue);
            using var gen = new Generator(unchecked((ulong)options.Seed));
            var (points, labels) = toy.SampleLabelled(n, gen);   // 8gaussians, 25gaussians: the component as the label
            return new Dataset(toy.Name, points, labels, toyName: toy.Name);
        }

        switch (kind)
        {
            case "fashion-mnist":
            {
                var (folder, test) = new DataSpec(kind, arg).FolderAndSplit();
                string dir = folder ?? FashionMnistDefaultDir;
                string how = dir == FashionMnistDefaultDir
                    ? $"install it with 'sudo apt-get install dataset-fashion-mnist' or give fashion-mnist:DIR"
                    : "give fashion-mnist:DIR with DIR holding train-images-idx3-ubyte.gz and the other Fashion-MNIST files";
                if (!Directory.Exists(dir)) throw new DataException($"fashion-mnist: {dir} not found; {how}");
                return FromIdx(spec, dir, test, "fashion-mnist", how, FashionMnistClassNames, options);
            }
            case "mnist":
            {
                var (folder, test) = new DataSpec(kind, arg).FolderAndSplit();
                string dir = folder ?? MnistDefaultDir;
                string how = "give mnist:DIR with DIR holding train-images-idx3-ubyte.gz and the other MNIST files";
                if (!Directory.Exists(dir)) throw new DataException($"mnist: {dir} not found; {how}");
                return FromIdx(spec, dir, test, "mnist", how, MnistClassNames, options);
            }
            case "cifar10":
            {
                var (folder, test) = new DataSpec(kind, arg).FolderAndSplit();
                string dir = folder!;
                if (!Directory.Exists(dir)) throw new DataException($"cifar10: {dir} not found; {Cifar10Reader.HowToGet}");
                var (images, labels) = Cifar10Reader.ReadSplit(dir, test);
                return Images(spec, images, labels, Cifar10Reader.ClassNames, options);
            }
            case "images":
            {
                if (string.IsNullOrEmpty(arg)) throw new UsageException($"data spec '{spec}': give images:DIR with DIR a folder of .png/.jpg files");
                var (bytes, labels, names) = ImageFolderReader.ReadWithLabels(arg, options.ImageSize, options.Grayscale, options.Limit);
                return Images(spec, bytes, labels, names, options);
            }
            case "npy":
                return FromNpy(spec, arg, options);
            case "shapes":
            {
                int size = arg switch
                {
                    null or "" => 32,
                    _ when int.TryParse(arg, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s) && s is >= 8 and <= 256 => s,
                    _ => throw new UsageException($"data spec '{spec}': the image size must be a number in 8..256, e.g. shapes:16 or shapes:32"),
                };
                using var gen = new Generator(unchecked((ulong)options.Seed));
                var (x, labels) = ShapesDataset.GenerateWithLabels(options.Limit ?? ShapesDefaultCount, size, gen);
                if (options.Grayscale) { using var old = x; x = ImageTensors.ToGrayscale(old); }
                return new Dataset(spec, x, labels, classNames: ShapesDataset.ClassNames);
            }
            default:
                throw UnknownSpec(spec);
        }
    }

    static Dataset FromIdx(string spec, string dir, bool test, string name, string how, IReadOnlyList<string> classNames, DataOptions options)
    {
        var (images, labels) = IdxReader.ReadSplit(dir, test, name, how);
        return Images(spec, images, labels, classNames, options);
    }

    /// <summary>The separator and key of the labels file in <c>npy:FILE,labels=LABELS.npy</c>.</summary>
    const string NpyLabelsKey = ",labels=";

    // npy:FILE or npy:FILE,labels=LABELS.npy → points or images, with labels when given; --limit narrows both.
    static Dataset FromNpy(string spec, string? arg, DataOptions options)
    {
        if (string.IsNullOrEmpty(arg)) throw new UsageException($"data spec '{spec}': give npy:FILE with FILE a .npy array");
        int at = arg.LastIndexOf(NpyLabelsKey, StringComparison.OrdinalIgnoreCase);
        string file = at < 0 ? arg : arg[..at];
        string? labelsFile = at < 0 ? null : arg[(at + NpyLabelsKey.Length)..];
        if (file.Length == 0 || labelsFile is "")
            throw new UsageException($"data spec '{spec}': give npy:FILE or npy:FILE,labels=LABELS.npy with FILE a .npy array and LABELS.npy its integer class labels");
        var x = NpyDataset.Load(file);
        Tensor? y = null;
        try { if (labelsFile is not null) y = NpyDataset.LoadLabels(labelsFile, x.shape[0], file); }
        catch { x.Dispose(); throw; }
        if (options.Limit is int limit && limit < x.shape[0]) { x = Narrowed(x, limit); y = y is null ? null : Narrowed(y, limit); }
        if (x.dim() == 4 && options.Grayscale && x.shape[1] == 3) { using var old = x; x = ImageTensors.ToGrayscale(old); }
        return new Dataset(spec, x, y);
    }

    // uint8 [N, C, H, W] + labels → limited, [−1, 1] float32, grayscale on request. Takes ownership of its inputs.
    static Dataset Images(string spec, Tensor bytes, Tensor? labels, IReadOnlyList<string>? classNames, DataOptions options)
    {
        using (bytes)
        using (labels)
        {
            using var scope = NewDisposeScope();
            var b = bytes;
            var y = labels;
            if (options.Limit is int limit && limit < b.shape[0]) { b = b.narrow(0, 0, limit); y = y?.narrow(0, 0, limit); }
            var x = ImageTensors.FromBytes(b);
            if (options.Grayscale && x.shape[1] == 3) x = ImageTensors.ToGrayscale(x);
            var xOut = x.contiguous().MoveToOuterDisposeScope();
            var yOut = y?.contiguous().clone().MoveToOuterDisposeScope();
            return new Dataset(spec, xOut, yOut, classNames: classNames);
        }
    }

    static Tensor Narrowed(Tensor x, int limit)
    {
        using (x) return x.narrow(0, 0, limit).clone();
    }
}
