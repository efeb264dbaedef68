using System.Text.Json;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// An analytic Gaussian mixture written as JSON, <c>{"weights": [w_k…], "means": [[μ_k…]…], "std": s}</c>:
/// a ground-truth score (<see cref="GaussianMixtureScore"/>) that samplers can be run and tested against without training.
/// </summary>
public static class AnalyticMixtureFile
{
    public static GaussianMixtureScore Load(string path, ScalarType dtype = ScalarType.Float64)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"dtype must be Float32 or Float64 (got {dtype})", nameof(dtype));
        if (Directory.Exists(path)) throw new DataException($"{path}: is a folder, expected a mixture JSON file");
        if (!File.Exists(path)) throw new DataException($"{path}: mixture file not found; check the path");

        string text; // ReadAllText detects and strips a byte-order mark, which JsonDocument would reject
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new DataException($"{path}: cannot read the mixture file ({e.Message})", e); }

        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e)
        { throw new DataException($"{path}: not valid JSON ({OneLine(e.Message)}); expected {{\"weights\": [...], \"means\": [[...], ...], \"std\": s}}", e); }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(path, $"the top level is {Kind(root)}, expected an object with \"weights\", \"means\" and \"std\"");

            var weights = NumberArray(path, Property(path, root, "weights", JsonValueKind.Array), "weights");
            var meansElement = Property(path, root, "means", JsonValueKind.Array);
            var std = Number(path, Property(path, root, "std", JsonValueKind.Number), "std");

            if (weights.Length == 0) throw Bad(path, "\"weights\" is empty; give one weight per component");
            for (int k = 0; k < weights.Length; k++)
                if (weights[k] < 0) throw Bad(path, $"weights[{k}] = {weights[k]} is negative; weights must be ≥ 0");
            double total = weights.Sum();
            if (!(total > 0) || !double.IsFinite(total)) throw Bad(path, $"the weights sum to {total}; they must have a positive, finite sum");

            var means = new double[meansElement.GetArrayLength()][];
            int i = 0;
            foreach (var m in meansElement.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.Array) throw Bad(path, $"means[{i}] is {Kind(m)}, expected an array of numbers");
                means[i] = NumberArray(path, m, $"means[{i}]");
                i++;
            }
            if (means.Length != weights.Length)
                throw Bad(path, $"{weights.Length} weights but {means.Length} means; give one mean per weight");
            int dim = means[0].Length;
            if (dim == 0) throw Bad(path, "means[0] is empty; each mean needs at least one coordinate");
            for (int k = 1; k < means.Length; k++)
                if (means[k].Length != dim) throw Bad(path, $"means[{k}] has {means[k].Length} coordinates but means[0] has {dim}; all means must have the same dimension");

            if (!(std > 0)) throw Bad(path, $"\"std\" = {std}; it must be > 0");
            return new GaussianMixtureScore(weights, means, std, dtype);
        }
    }

    static DataException Bad(string path, string what) => new($"{path}: {what}");

    static string OneLine(string s) => MessageText.OneLine(s.ReplaceLineEndings(" "), 300);

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    static JsonElement Property(string path, JsonElement root, string name, JsonValueKind kind)
    {
        if (!root.TryGetProperty(name, out var e)) throw Bad(path, $"missing \"{name}\"");
        if (e.ValueKind != kind)
            throw Bad(path, $"\"{name}\" is {Kind(e)}, expected {(kind == JsonValueKind.Array ? "an array" : "a number")}");
        return e;
    }

    static double Number(string path, JsonElement e, string where)
    {
        // TryGetDouble refuses values that overflow to ±∞; JSON itself has no NaN literal, so a "NaN" string lands here too.
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var v) || !double.IsFinite(v))
            throw Bad(path, $"{where} is {(e.ValueKind == JsonValueKind.Number ? "out of range" : Kind(e))}, expected a finite number");
        return v;
    }

    static double[] NumberArray(string path, JsonElement array, string where)
    {
        var values = new double[array.GetArrayLength()];
        int i = 0;
        foreach (var e in array.EnumerateArray()) { values[i] = Number(path, e, $"{where}[{i}]"); i++; }
        return values;
    }
}
