using Langevin.IO;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// The out-of-distribution sets an energy model is scored against (<see cref="EnergyScores"/>): corruptions of the
/// in-distribution images (<see cref="OodImageSets"/>), chain-start noise for points, or a .npy file.
/// </summary>
public static class OodSets
{
    /// <summary>The sets scored when none are named: noise, flip and rotate for images; noise for points.</summary>
    public static IReadOnlyList<string> Defaults(long[] itemShape) => itemShape.Length == 3 ? OodImageSets.Names : ["noise"];

    /// <summary>
    /// A set by name: <c>npy:FILE</c> (images [N, C, H, W] in [0, 1], as <c>sample --out</c> writes them, mapped to [−1, 1]; points as
    /// they are), for points <c>noise</c> (the model's chain start: uniform on its box, drawn from <paramref name="deviceGen"/>, as many
    /// as <paramref name="inData"/>), for images a corruption of <paramref name="inData"/> drawn from <paramref name="gen"/> (CPU).
    /// Returned on the CPU.
    /// </summary>
    public static Tensor Make(string set, Tensor inData, IEnergyMethod model, Generator gen, Generator deviceGen)
    {
        bool images = model.ItemShape.Length == 3;
        if (set.StartsWith("npy:", StringComparison.Ordinal))
        {
            string file = set[4..];
            if (!File.Exists(file)) throw new DataException($"{file} not found");
            var t = NpyFile.Read(file);
            if (t.dtype != float32) using (var read = t) t = read.to(float32);
            if (!t.shape.Skip(1).SequenceEqual(model.ItemShape))
            {
                string shape = string.Join(", ", t.shape);
                t.Dispose();
                throw new DataException($"{file} has shape [{shape}], the model takes [N, {string.Join(", ", model.ItemShape)}]");
            }
            if (!images) return t;
            using (t) return t * 2 - 1;
        }
        if (!images)
        {
            if (set != "noise") throw new UsageException($"'{set}' applies to images; for points use noise or npy:FILE");
            return model.InitialState(inData.shape[0], deviceGen).cpu();
        }
        return OodImageSets.Make(set, inData, gen);
    }
}
