using Langevin.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// How a class label reaches a network of (x, conditioning): a class-conditional network's conditioning is [B, 2], the
/// noise label and the class index side by side (float32, exact for any class count below 2²⁴); a plain [B] conditioning
/// means "no class". Packing keeps every network a <c>Module&lt;Tensor, Tensor, Tensor&gt;</c>, so the bf16 working copy's
/// hooks, the preconditioning and every sampler reach conditional networks unchanged. The class <see cref="None"/>
/// (index K of K classes) is the learned "no class" embedding that label dropout trains (Ho &amp; Salimans 2021, §3.2).
/// </summary>
public static class ClassConditioning
{
    /// <summary>The index meaning "no class" in a network of <paramref name="classes"/> classes.</summary>
    public static long None(int classes) => classes;

    /// <summary>[B] noise labels and [B] class indices (int64) → the [B, 2] conditioning.</summary>
    public static Tensor Pack(Tensor noiseLabel, Tensor classes)
    {
        if (noiseLabel.dim() != 1 || classes.dim() != 1 || noiseLabel.shape[0] != classes.shape[0])
            throw new ArgumentException($"noise labels [{string.Join(", ", noiseLabel.shape)}] and classes [{string.Join(", ", classes.shape)}] must both be [B]");
        return stack([noiseLabel.to_type(ScalarType.Float32), classes.to(noiseLabel.device).to_type(ScalarType.Float32)], 1);
    }

    /// <summary>The noise labels [B] and, for a packed conditioning, the class indices [B] (int64; else null).</summary>
    public static (Tensor NoiseLabel, Tensor? Classes) Split(Tensor conditioning) => conditioning.dim() == 2 && conditioning.shape[1] == 2
        ? (conditioning.select(1, 0), conditioning.select(1, 1).round().to_type(ScalarType.Int64))
        : (conditioning, null);

    /// <summary>Labels dropped to <see cref="None"/> with probability <paramref name="p"/> each (classifier-free guidance's training).</summary>
    public static Tensor DropLabels(Tensor labels, int classes, double p, Generator gen)
    {
        if (p <= 0) return labels.alias();
        using var scope = NewDisposeScope();
        var drop = ItemDraws.Rand(labels.shape, gen, device: labels.device) < p;
        return where(drop, full_like(labels, None(classes)), labels).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A learned embedding of K classes plus "no class" (index K), added to a network's time embedding (Dhariwal &amp; Nichol
/// 2021's label_emb; Ho &amp; Salimans 2021's null token). A conditioning without classes embeds as "no class".
/// </summary>
public sealed class ClassEmbedding : nn.Module<Tensor, Tensor>
{
    readonly Embedding embedding;

    public int Classes { get; }

    public ClassEmbedding(int classes, int dim) : base(nameof(ClassEmbedding))
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "a class embedding needs ≥ 1 class");
        Classes = classes;
        embedding = nn.Embedding(classes + 1, dim);
        RegisterComponents();
    }

    /// <summary>The embedding [B, dim] of <paramref name="classes"/> ([B] int64, or null: "no class" for all <paramref name="batch"/>).</summary>
    public Tensor Embed(Tensor? classes, long batch, Device device)
    {
        using var scope = NewDisposeScope();
        var y = classes ?? full([batch], ClassConditioning.None(Classes), ScalarType.Int64, device);
        if (y.numel() > 0 && (y.min().item<long>() < 0 || y.max().item<long>() > Classes))
            throw new ArgumentException($"class indices must be in 0..{Classes - 1} (or {Classes}: no class)");
        return embedding.forward(y).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor classes) => Embed(classes, classes.shape[0], classes.device);
}
