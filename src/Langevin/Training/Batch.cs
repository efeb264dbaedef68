using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// One training batch: the items [B, ...] and, when the dataset has them, their class labels (int64 [B]).
/// A plain tensor converts to an unlabelled batch, so single-loss methods can still be called with a tensor.
/// </summary>
public sealed record Batch(Tensor X, Tensor? Labels = null)
{
    public long Count => X.shape[0];

    public static implicit operator Batch(Tensor x) => new(x);
}
