using System.Diagnostics;
using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Guidance;

/// <summary>
/// The trade-off sweep: classifier-free guidance at each w of <see cref="CfgScales"/> (a class-conditional run) and classifier
/// guidance at each s of <see cref="ClassifierScales"/> (with a classifier; on a conditional run its unconditional model, unless
/// <see cref="GuideConditional"/>), every row drawing <see cref="N"/> samples of all classes in equal blocks from the same
/// seeded noise with one catalog sampler.
/// </summary>
public sealed record GuidanceSweepSettings(IReadOnlyList<double> CfgScales, IReadOnlyList<double> ClassifierScales, int N, SamplerRequest Sampler,
    int Seed = 0, int? Batch = null, bool GuideConditional = false, double? BelowSigma = null);

/// <summary>One row: the guidance and its scale, what one sample cost, and its scores (accuracy of the class asked for, quality metrics).</summary>
public sealed record GuidanceSweepRow(string Kind, double Scale, int Nfe, int ClassifierEvaluations, double SecondsPerSample, double Accuracy,
    IReadOnlyList<(string Metric, double Value)> Quality);

/// <summary>Runs a <see cref="GuidanceSweepSettings"/>: the library side of <c>langevin guidance</c>.</summary>
public static class GuidanceSweep
{
    public const string Cfg = "cfg", Classifier = "classifier";

    /// <param name="score">samples (data space, [N, …]) and their labels → the share classified as asked and the quality rows.</param>
    /// <param name="onSamples">each row's samples and labels as drawn (for grids or files).</param>
    /// <param name="done">rows an interrupted sweep with the same settings already measured: kept, not drawn again.</param>
    /// <param name="onRow">the rows so far, after each new one (to write them as the sweep goes).</param>
    public static IReadOnlyList<GuidanceSweepRow> Run(IDenoisingMethod method, INoisyClassifier? classifier, GuidanceSweepSettings settings,
        Func<Tensor, Tensor, (double Accuracy, IReadOnlyList<(string Metric, double Value)> Quality)> score, ProgressRunner? progress = null,
        Action<string, double, Tensor, Tensor>? onSamples = null, IReadOnlyList<GuidanceSweepRow>? done = null,
        Action<IReadOnlyList<GuidanceSweepRow>>? onRow = null)
    {
        int classes = (method as IClassConditionalMethod)?.Classes ?? 0;
        if (settings.CfgScales.Count > 0 && classes == 0)
            throw SettingException.About("cfg", string.Join(",", settings.CfgScales), "classifier-free guidance needs a class-conditional run (one trained with network.classes > 0)");
        if (settings.ClassifierScales.Count > 0 && classifier is null)
            throw SettingException.About("guidance", string.Join(",", settings.ClassifierScales), "classifier guidance needs a noisy classifier");
        if (classes > 0 && classifier is not null && classifier.Classes != classes)
            throw SettingException.About("classifier", "", $"the classifier knows {classifier.Classes} classes, the run {classes}");
        int k = classes > 0 ? classes : classifier?.Classes ?? 0;
        if (settings.N < k) throw new SettingException("n", settings.N, $"must be ≥ the {k} classes");
        var rows = new List<GuidanceSweepRow>();
        var runs = settings.CfgScales.Select(w => (Kind: Cfg, Scale: w)).Concat(settings.ClassifierScales.Select(s => (Kind: Classifier, Scale: s))).ToList();
        using var labels = ClassGuidance.ParseLabels("all", k, settings.N);
        foreach (var (kind, scale) in runs)
        {
            if (done?.FirstOrDefault(r => r.Kind == kind && r.Scale == scale) is { } earlier) { rows.Add(earlier); continue; }
            var scales = kind == Cfg ? new GuidanceScales(Cfg: scale, BelowSigma: settings.BelowSigma) : new GuidanceScales(Classifier: scale, BelowSigma: settings.BelowSigma);
            var guidance = new ClassGuidance(labels, scales, kind == Classifier ? classifier : null, Unconditional: kind == Classifier && classes > 0 && !settings.GuideConditional);
            using var gen = new Generator(unchecked((ulong)settings.Seed), method.Device());
            var clock = Stopwatch.StartNew();
            using var draw = MethodSampling.Run(method, new DrawRequest
            {
                N = settings.N, Sampler = settings.Sampler.Sampler, Steps = settings.Sampler.Steps, Catalog = settings.Sampler, Batch = settings.Batch, Guidance = guidance,
            }, gen, progress ?? ProgressRunners.Silent);
            double seconds = clock.Elapsed.TotalSeconds / settings.N;
            onSamples?.Invoke(kind, scale, draw.Samples, labels);
            var (accuracy, quality) = score(draw.Samples, labels);
            rows.Add(new GuidanceSweepRow(kind, scale, draw.Evaluations, draw.ClassifierEvaluations, seconds, accuracy, quality));
            onRow?.Invoke(rows);
        }
        return rows;
    }
}
