using System.Globalization;
using Langevin.Models;
using static TorchSharp.torch;

namespace Langevin.Guidance;

/// <summary>
/// What to sample toward: a label per sample and how strongly to guide (<see cref="GuidanceScales"/>), with the classifier
/// of classifier guidance if any. <see cref="For"/> wraps a run's denoiser for one batch of labels.
/// </summary>
/// <param name="Unconditional">On a class-conditional run: sample its unconditional model (the "no class" label) and steer it by the classifier only.</param>
public sealed record ClassGuidance(Tensor Labels, GuidanceScales Scales, INoisyClassifier? Classifier = null, bool Unconditional = false)
{
    /// <summary>
    /// The labels of N samples from "K" (all of class K), "K1,K2,…" or "all" (every class; the N samples in equal contiguous
    /// blocks, so a grid of N/K columns has one row per class). Indices must lie in 0..classes−1.
    /// </summary>
    public static Tensor ParseLabels(string spec, int classes, int n)
    {
        if (classes < 1) throw SettingException.About("class", spec, "this model knows no classes");
        long[] list = spec.Trim() == "all" ? [.. Enumerable.Range(0, classes).Select(k => (long)k)]
            : [.. spec.Split(',', StringSplitOptions.TrimEntries).Select(p =>
                long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out long k) && k >= 0 && k < classes ? k
                : throw SettingException.About("class", spec, $"'{p}' is not a class of this model (0..{classes - 1}, a list of them, or all)"))];
        if (list.Length > n) throw SettingException.About("class", spec, $"{list.Length} classes but only {n} samples: ask for at least {list.Length}");
        var labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = list[(long)i * list.Length / n];   // contiguous equal blocks
        return tensor(labels, ScalarType.Int64);
    }

    /// <summary>Whether the grid of these labels has one row per class ("all" or a list, N divisible by their count): its columns.</summary>
    public static int? RowColumns(Tensor labels)
    {
        int distinct = (int)labels.unique().Item1.shape[0];
        return distinct > 1 && labels.shape[0] % distinct == 0 ? (int)(labels.shape[0] / distinct) : null;
    }

    /// <summary>The guided denoiser of one batch (labels [B] of it) over a conditional model, or an unconditional one with a classifier.</summary>
    public GuidedDenoiser For(Tensor batchLabels, Methods.IDenoisingMethod method)
    {
        if (Classifier is { } c && method is Methods.IClassConditionalMethod { Classes: > 0 } cc && c.Classes != cc.Classes)
            throw SettingException.About("classifier", "", $"the classifier knows {c.Classes} classes, the model {cc.Classes}");
        if (Unconditional && method is Methods.IClassConditionalMethod { Classes: > 0 } both)
        {
            if (Scales.Cfg > 0) throw SettingException.About("cfg", Scales.Cfg, "does not apply to the unconditional model alone");
            return new GuidedDenoiser(batchLabels, Scales, unconditional: both.DenoiserFor(tensor(ClassConditioning.None(both.Classes))), classifier: Classifier);
        }
        return method is Methods.IClassConditionalMethod { Classes: > 0 } conditional
            ? new GuidedDenoiser(batchLabels, Scales, conditional.DenoiserFor, conditional.Classes, classifier: Classifier)
            : new GuidedDenoiser(batchLabels, Scales, unconditional: method.Denoiser, classifier: Classifier);
    }
}
