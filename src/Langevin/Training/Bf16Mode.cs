using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Langevin.Training;

/// <summary>
/// Whether a run trains in bfloat16 mixed precision (<see cref="BFloat16WorkingCopy"/>): never, always, or where a probe on
/// the run's own first batch measures it faster than fp32 (<see cref="Bf16Probe"/>). CPU flags do not decide it: two
/// CPUs that both report AVX512_BF16 gave mixed/fp32 step times of 0.65 and 1.08 (docs/benchmarks.md).
/// In JSON "off", "on" or "auto"; configs written before auto existed hold false / true.
/// </summary>
[JsonConverter(typeof(Bf16ModeJson))]
public enum Bf16Mode { Off, On, Auto }

sealed class Bf16ModeJson : JsonConverter<Bf16Mode>
{
    public override Bf16Mode Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => Bf16Mode.On,
        JsonTokenType.False => Bf16Mode.Off,
        JsonTokenType.String => Bf16Modes.Parse(reader.GetString()!) ?? throw new JsonException("bf16 must be off, on or auto"),
        _ => throw new JsonException("bf16 must be off, on or auto"),
    };

    public override void Write(Utf8JsonWriter writer, Bf16Mode value, JsonSerializerOptions options) => writer.WriteStringValue(Bf16Modes.Name(value));
}

public static class Bf16Modes
{
    /// <summary>off / on / auto (and false / true, as a flag's values); null for anything else.</summary>
    public static Bf16Mode? Parse(string text) => text switch
    {
        "off" or "false" => Bf16Mode.Off,
        "on" or "true" => Bf16Mode.On,
        "auto" => Bf16Mode.Auto,
        _ => null,
    };

    public static string Name(Bf16Mode mode) => mode switch { Bf16Mode.On => "on", Bf16Mode.Auto => "auto", _ => "off" };
}

/// <summary>
/// What <c>bf16: auto</c> measured when the run started, and what it chose (RUN/config.json, <c>bf16_probe</c>): the
/// method's own training step — forward and backward of its loss on the run's batch, without the optimizer step — timed
/// in fp32 and in bf16 mixed precision, alternating (ABBA) after one warm-up of each, so load and clock changes fall on
/// both arms. bf16 is chosen when the median of the per-pair time ratios is at most <see cref="Threshold"/>: below the
/// few percent these timings move between runs, so a machine where bf16 is not clearly faster keeps fp32.
/// A resumed run keeps the decision recorded here (the same arithmetic as before the stop).
/// </summary>
/// <param name="Fp32Ms">median fp32 step (forward + backward), ms; null when nothing was measured.</param>
/// <param name="Bf16Ms">median bf16 mixed step, ms.</param>
/// <param name="Ratio">median of the per-pair ratios bf16 / fp32 (under MPI: its mean over the ranks, so every rank decides alike).</param>
/// <param name="Pairs">timed pairs.</param>
/// <param name="UsesBf16">the decision.</param>
/// <param name="Reason">why nothing was measured (a method that cannot train in bf16).</param>
public sealed record Bf16Probe(double? Fp32Ms, double? Bf16Ms, double? Ratio, int Pairs, bool UsesBf16, string? Reason = null)
{
    /// <summary>bf16 must take at most this share of fp32's time to be chosen.</summary>
    public const double Threshold = 0.95;

    /// <summary>Pairs timed by default after the warm-up (each pair one fp32 and one bf16 step).</summary>
    public const int DefaultPairs = 3;

    /// <summary>No probe: the method cannot train in bf16, so auto trains in fp32.</summary>
    public static Bf16Probe Refused(string why) => new(null, null, null, 0, false, why);

    /// <summary>
    /// Times <paramref name="step"/>(false) = fp32 against <paramref name="step"/>(true) = bf16: one untimed warm-up of each,
    /// then <paramref name="pairs"/> pairs in ABBA order. <paramref name="agree"/> turns this process's ratio into the one
    /// every process uses (the mean over MPI ranks; identity for one process).
    /// </summary>
    public static Bf16Probe Measure(Action<bool> step, int pairs = DefaultPairs, Func<double, double>? agree = null)
    {
        if (pairs < 1) throw new ArgumentOutOfRangeException(nameof(pairs), pairs, "at least one pair");
        step(false);
        step(true);
        var fp32 = new double[pairs];
        var bf16 = new double[pairs];
        for (int i = 0; i < pairs; i++)
        {
            bool bf16First = i % 2 == 1;
            double first = Time(() => step(bf16First)), second = Time(() => step(!bf16First));
            (fp32[i], bf16[i]) = bf16First ? (second, first) : (first, second);
        }
        double ratio = Median(bf16.Zip(fp32, (b, f) => b / f).ToArray());
        if (agree is not null) ratio = agree(ratio);
        return new Bf16Probe(Math.Round(Median(fp32), 2), Math.Round(Median(bf16), 2), Math.Round(ratio, 4), pairs, ratio <= Threshold);
    }

    /// <summary>One line for the console: what was measured and chosen.</summary>
    public string Describe() => Ratio is { } r
        ? $"bf16 auto: {(UsesBf16 ? "bf16 mixed precision" : "fp32")} — a training step (forward + backward) took {Bf16Ms:F0} ms in bf16 against {Fp32Ms:F0} ms in fp32 ({r:F2}×, median of {Pairs} pairs; bf16 needs ≤ {Threshold:F2}×)"
        : $"bf16 auto: fp32 ({Reason})";

    static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
