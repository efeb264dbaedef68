using System.Globalization;
using System.Text.Json;
using Langevin.IO;
using Langevin.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

// Field names are snake_case on purpose: TorchSharp turns field names into state-dict keys (as PyTorch names them).
#pragma warning disable IDE1006

namespace Langevin.Metrics;

/// <summary>What a feature network looks like: the image shape it reads, its class count, widths.</summary>
/// <param name="InputShape">[C, H, W] of the images it reads (in [−1, 1], the datasets' range); H and W divisible by 4.</param>
/// <param name="Classes">Number of classes of its classifier head.</param>
/// <param name="Width">Channels of the first conv stage (the second has twice as many).</param>
/// <param name="FeatureDim">Size of the penultimate layer: the features FD, KID and precision/recall use.</param>
public sealed record FeatureNetworkShape(long[] InputShape, int Classes, int Width = 32, int FeatureDim = 128)
{
    public string Describe() => $"[{string.Join(", ", InputShape)}]";

    public void Validate()
    {
        if (InputShape.Length != 3 || InputShape.Any(d => d < 1) || InputShape[1] % 4 != 0 || InputShape[2] % 4 != 0)
            throw new UsageException($"feature network: images must be [C, H, W] with H and W divisible by 4 (got {Describe()})");
        if (Classes < 2) throw new UsageException($"feature network: needs at least 2 classes (got {Classes}); train it on labelled data");
        if (Width < 1 || FeatureDim < 1) throw new UsageException("feature network: width and feature size must be positive");
    }
}

/// <summary>
/// The classifier whose penultimate layer is the feature space of the image metrics (the role Inception-v3's pool3
/// plays for FID; Heusel et al. 2017 §3): three 3×3 conv layers (width w, 2w, 2w) with BatchNorm and ReLU, a 2×2
/// max-pool after the first two, a linear layer to <see cref="FeatureNetworkShape.FeatureDim"/> features with ReLU, dropout, and a
/// linear head to class logits (for the Inception-Score analogue). Trained by <see cref="FeatureNetworkTrainer"/>.
/// </summary>
public sealed class FeatureNetwork : nn.Module<Tensor, Tensor>
{
    public const string Format = "langevin-features/1";

    private readonly Sequential conv;
    private readonly Linear embed;
    private readonly Dropout dropout;
    private readonly Linear head;

    public FeatureNetworkShape Shape { get; }

    public FeatureNetwork(FeatureNetworkShape shape) : base(nameof(FeatureNetwork))
    {
        shape.Validate();
        Shape = shape;
        int c = (int)shape.InputShape[0], w = shape.Width;
        conv = nn.Sequential(
            new SafeConv2d(c, w, 3, 1, 1), Norm(w), nn.ReLU(), nn.MaxPool2d(2),
            new SafeConv2d(w, 2 * w, 3, 1, 1), Norm(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            new SafeConv2d(2 * w, 2 * w, 3, 1, 1), Norm(2 * w), nn.ReLU());
        long flat = 2L * w * (shape.InputShape[1] / 4) * (shape.InputShape[2] / 4);
        embed = nn.Linear(flat, shape.FeatureDim);
        dropout = nn.Dropout(0.3);
        head = nn.Linear(shape.FeatureDim, shape.Classes);
        RegisterComponents();
    }

    static BatchNorm2d Norm(int channels)
    {
        var bn = nn.BatchNorm2d(channels);
        using (no_grad()) { bn.weight!.fill_(1f); bn.bias!.zero_(); }   // as PyTorch; do not rely on TorchSharp's init
        return bn;
    }

    /// <summary>Penultimate-layer features [B, FeatureDim] of images [B, C, H, W] in [−1, 1].</summary>
    public Tensor Features(Tensor x) => F.relu(embed.forward(conv.forward(x).flatten(1)));

    /// <summary>Class logits [B, Classes].</summary>
    public override Tensor forward(Tensor x) => head.forward(dropout.forward(Features(x)));

    /// <summary>Logits from already computed features (eval mode: dropout is the identity).</summary>
    public Tensor LogitsFromFeatures(Tensor features) => head.forward(features);

    /// <summary>Writes weights and shape to a safetensors file (metadata: format, input shape, classes, width, feature size, extras).</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? extra = null)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["input_shape"] = JsonSerializer.Serialize(Shape.InputShape),
            ["classes"] = Shape.Classes.ToString(CultureInfo.InvariantCulture),
            ["width"] = Shape.Width.ToString(CultureInfo.InvariantCulture),
            ["feature_dim"] = Shape.FeatureDim.ToString(CultureInfo.InvariantCulture),
        };
        if (extra is not null) foreach (var (k, v) in extra) meta.TryAdd(k, v);
        var tensors = state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        SafetensorsFile.Write(path, tensors, meta);
    }

    /// <summary>Reads the metadata of a feature-network file without loading weights.</summary>
    /// <exception cref="DataException">The file is missing, not a safetensors file, or not a Langevin feature network.</exception>
    public static (FeatureNetworkShape Shape, IReadOnlyDictionary<string, string> Metadata) ReadShape(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: feature network not found; train one with 'langevin features train --data DATA --out {path}'");
        var m = SafetensorsFile.ReadHeader(path).Metadata;
        string Get(string key) => m.TryGetValue(key, out var v) ? v
            : throw new DataException($"{path}: not a Langevin feature network (metadata '{key}' missing); train one with 'langevin features train'");
        if (Get("format") != Format) throw new DataException($"{path}: not a Langevin feature network (format '{m["format"]}', expected {Format})");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new DataException($"{path}: feature network metadata '{key}' is not an integer");
        long[] shape;
        try { shape = JsonSerializer.Deserialize<long[]>(Get("input_shape")) ?? []; }
        catch (JsonException) { throw new DataException($"{path}: feature network metadata 'input_shape' is not a JSON array"); }
        var s = new FeatureNetworkShape(shape, Int("classes"), Int("width"), Int("feature_dim"));
        try { s.Validate(); }
        catch (UsageException e) { throw new DataException($"{path}: {e.Message}"); }
        return (s, m);
    }

    /// <summary>
    /// Loads a feature network in eval mode. When <paramref name="expectedInput"/> is given, a network for another image
    /// shape is refused with a one-line <see cref="DataException"/>.
    /// </summary>
    public static FeatureNetwork Load(string path, long[]? expectedInput = null)
    {
        var (shape, _) = ReadShape(path);
        if (expectedInput is not null && !expectedInput.SequenceEqual(shape.InputShape))
            throw new DataException($"{path}: this feature network reads {shape.Describe()} images, the data is [{string.Join(", ", expectedInput)}]; use a feature network trained on data of that shape (langevin features train --data ...)");
        var net = new FeatureNetwork(shape);
        try
        {
            using var content = SafetensorsFile.Read(path);
            Training.Checkpoint.LoadInto(net, content.Tensors, path);
        }
        catch (UsageException e)
        {
            net.Dispose();
            throw new DataException(e.Message);
        }
        net.eval();
        return net;
    }

    /// <summary>
    /// Features (float64 [N, FeatureDim]) and logits (float64 [N, Classes]) of images [N, C, H, W] in [−1, 1], in batches,
    /// without gradients, in eval mode.
    /// </summary>
    public (Tensor Features, Tensor Logits) Embed(Tensor images, int batchSize = 500, IProgress<long>? progress = null)
    {
        if (images.dim() != 4 || !images.shape[1..].SequenceEqual(Shape.InputShape))
            throw new DataException($"feature network reads {Shape.Describe()} images, got [{string.Join(", ", images.shape)}]");
        eval();
        using var _ = no_grad();
        var device = parameters().First().device;
        long n = images.shape[0];
        var feats = new List<Tensor>();
        var logits = new List<Tensor>();
        try
        {
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, n - start);
                var x = images.narrow(0, start, len).to(ScalarType.Float32).to(device);
                var f = Features(x);
                var l = LogitsFromFeatures(f);
                feats.Add(f.to(ScalarType.Float64).cpu().MoveToOuterDisposeScope());
                logits.Add(l.to(ScalarType.Float64).cpu().MoveToOuterDisposeScope());
                progress?.Report(start + len);
            }
            if (n == 0) return (zeros(0, Shape.FeatureDim, ScalarType.Float64), zeros(0, Shape.Classes, ScalarType.Float64));
            return (cat(feats, 0), cat(logits, 0));
        }
        finally
        {
            foreach (var t in feats) t.Dispose();
            foreach (var t in logits) t.Dispose();
        }
    }
}
