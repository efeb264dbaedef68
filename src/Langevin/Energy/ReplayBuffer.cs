using Langevin.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// IGEBM's replay buffer (Du &amp; Mordatch 2019, §3.1): persistent negative samples; each draw re-initialises a chain from
/// noise with probability p (5%). The states live in a tensor that the EBM registers as a module buffer, so they are saved
/// in and restored from every checkpoint (resume stays exact); <see cref="Save"/>/<see cref="Load"/> write them as .npy.
/// </summary>
public static class ReplayBuffer
{
    /// <summary>Draws a batch of chain starts: buffer rows, each replaced by <paramref name="noise"/>'s row with probability p.</summary>
    public static (Tensor Start, Tensor Index) Draw(Tensor buffer, int batch, double reinitProbability, Func<long, Tensor> noise, Generator gen)
    {
        using var scope = NewDisposeScope();
        var idx = randint(0, buffer.shape[0], [batch], generator: gen, device: buffer.device);
        var start = buffer.index_select(0, idx);
        var fresh = rand([batch], generator: gen, device: buffer.device) < reinitProbability;
        long[] shape = [batch, .. Enumerable.Repeat(1L, (int)buffer.dim() - 1)];
        start = where(fresh.view(shape), noise(batch), start);
        return (start.MoveToOuterDisposeScope(), idx.MoveToOuterDisposeScope());
    }

    /// <summary>Writes the chains' end states back to their rows.</summary>
    public static void Update(Tensor buffer, Tensor index, Tensor states)
    {
        using var _ = no_grad();
        buffer.index_copy_(0, index, states.detach().to(buffer.dtype));
    }

    public static void Save(string path, Tensor buffer) => NpyFile.Write(path, buffer.cpu());

    /// <summary>Reads a buffer .npy of items shaped <paramref name="itemShape"/>; an empty, mis-shaped, NaN or corrupt file is a <see cref="DataException"/>.</summary>
    public static Tensor Load(string path, long[] itemShape)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: replay buffer file not found");
        Tensor t;
        try { t = NpyFile.Read(path); }
        catch (DataException e) { throw new DataException($"{path}: not a readable replay buffer .npy ({e.Message})"); }
        string shape = $"[{string.Join(", ", t.shape)}]";
        if (t.dim() != itemShape.Length + 1 || !t.shape[1..].SequenceEqual(itemShape))
        { t.Dispose(); throw new DataException($"{path}: replay buffer has shape {shape}, expected [N, {string.Join(", ", itemShape)}]"); }
        if (t.shape[0] == 0) { t.Dispose(); throw new DataException($"{path}: the replay buffer is empty; delete the file or train without it"); }
        if (!t.is_floating_point() || !t.isfinite().all().item<bool>()) { t.Dispose(); throw new DataException($"{path}: the replay buffer must hold finite floats"); }
        return t.to(float32);
    }
}
