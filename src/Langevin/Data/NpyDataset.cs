using Langevin.IO;
using static TorchSharp.torch;

namespace Langevin.Data;

/// <summary>
/// Datasets stored as one NumPy <c>.npy</c> array (float32, float64 or uint8). The shape says what it is:
/// <list type="bullet">
/// <item>[N, D]: points, taken as given (converted to float32).</item>
/// <item>[N, H, W] or [N, C, H, W] with C = 1 or 3: images. uint8 is scaled /255 to [0, 1]; floats must already lie in
/// [0, 1] or in [−1, 1]: when every value is in [0, 1] the array is taken as [0, 1]. Then [0, 1] is mapped to [−1, 1].</item>
/// </list>
/// NaN or ±Inf anywhere, an empty array, or another shape raises <see cref="DataException"/>.
/// Class labels come from a second file (<see cref="LoadLabels"/>): an integer array [N] of values ≥ 0.
/// </summary>
public static class NpyDataset
{
    /// <summary>Reads <paramref name="path"/> and converts it by the rules above: float32 [N, D] or [N, C, H, W] in [−1, 1].</summary>
    public static Tensor Load(string path)
    {
        using var raw = NpyFile.Read(path);
        return Convert(raw, path);
    }

    /// <summary>Converts an array read from a .npy file by the rules above; <paramref name="name"/> names it in errors.</summary>
    public static Tensor Convert(Tensor raw, string name)
    {
        string shape = "[" + string.Join(", ", raw.shape) + "]";
        if (raw.dim() is < 2 or > 4)
            throw new DataException($"{name}: array of shape {shape} is neither points [N, D] nor images [N, H, W] / [N, C, H, W]; reshape it before saving");
        if (raw.shape.Any(d => d == 0)) throw new DataException($"{name}: array of shape {shape} is empty");
        if (raw.dim() == 4 && raw.shape[1] is not (1 or 3))
        {
            string hint = raw.shape[3] is 1 or 3 ? "; it looks channels-last, save np.transpose(x, (0, 3, 1, 2))" : "";
            throw new DataException($"{name}: images of shape {shape} must be [N, C, H, W] with C = 1 or 3{hint}");
        }
        using var scope = NewDisposeScope();
        if (raw.dtype != ScalarType.Byte)
        {
            long bad = raw.isfinite().logical_not().sum().item<long>();
            if (bad > 0) throw new DataException($"{name}: {bad} values are NaN or infinite; clean the array before saving");
        }
        if (raw.dim() == 2) return raw.to_type(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();

        var images = raw.dim() == 3 ? raw.unsqueeze(1) : raw;
        if (images.dtype == ScalarType.Byte) return ImageTensors.FromBytes(images.contiguous()).MoveToOuterDisposeScope();
        double min = images.min().to_type(ScalarType.Float64).item<double>(), max = images.max().to_type(ScalarType.Float64).item<double>();
        var f = images.to_type(ScalarType.Float32);
        if (min >= 0 && max <= 1) return f.mul(2).sub(1).contiguous().MoveToOuterDisposeScope();   // [0, 1] → [−1, 1]
        if (min >= -1 && max <= 1) return f.contiguous().MoveToOuterDisposeScope();
        throw new DataException($"{name}: float image values span [{min:G4}, {max:G4}]; scale them to [0, 1] or [-1, 1] (or save uint8 0..255)");
    }

    /// <summary>
    /// Reads class labels for the <paramref name="count"/> items of <paramref name="dataName"/>: an int64, int32 or uint8
    /// array [N] with N = <paramref name="count"/> and every value ≥ 0, returned as int64 [N].
    /// </summary>
    public static Tensor LoadLabels(string path, long count, string dataName)
    {
        using var raw = NpyFile.Read(path, integers: true);
        string shape = "[" + string.Join(", ", raw.shape) + "]";
        if (raw.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Byte))
            throw new DataException($"{path}: labels must be integers (int64, int32 or uint8), this array is {raw.dtype.ToString().ToLowerInvariant()}; save labels.astype(np.int64)");
        if (raw.dim() != 1) throw new DataException($"{path}: labels must be a 1-D array [N], this one has shape {shape}");
        if (raw.shape[0] != count) throw new DataException($"{path}: holds {raw.shape[0]} labels but {dataName} holds {count} items; give one label per item, in the same order");
        var labels = raw.to_type(ScalarType.Int64);
        long negative = labels.lt(0).sum().item<long>();
        if (negative > 0)
        {
            labels.Dispose();
            throw new DataException($"{path}: {negative} labels are negative; labels are class indices 0, 1, 2, ...");
        }
        return labels;
    }
}
