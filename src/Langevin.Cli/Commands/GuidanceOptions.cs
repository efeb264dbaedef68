using Langevin.Guidance;
using Langevin.Methods;
using TorchSharp;

namespace Langevin.Cli.Commands;

/// <summary>The class and guidance options of the commands that draw from a diffusion run (sample, inpaint): parsed and checked in one place.</summary>
static class GuidanceOptions
{
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        new("class", "K|K1,K2,...|all", "class-conditional or classifier-guided runs: sample class K, the listed classes in equal blocks, or all (one grid row per class); with --out, the labels go to FILE.labels.npy"),
        new("cfg", "W", "classifier-free guidance ε̃ = (1 + W) ε(x, y) − W ε(x, ∅) on a run trained with --classes (default 0: conditional, unguided; W > 0 costs 2 network calls per step)"),
        new("guidance", "S", "classifier guidance: add S ∇ log p(y | x, σ) of --classifier to the score (Dhariwal & Nichol 2021)"),
        new("classifier", "RUN", "a noisy-classifier run (langevin train --method noisy-classifier --denoiser RUN) for --guidance"),
        new("unconditional", null, "a class-conditional run: sample its unconditional model (the 'no class' label), steered by --classifier alone"),
        new("guidance-below", "SIGMA", "guide only where σ ≤ SIGMA (above it: the conditional or unconditional model alone)"),
    ];

    /// <summary>The --classifier run on <paramref name="device"/>, or null without one.</summary>
    public static IGenerativeMethod? LoadClassifier(ParsedArgs a, torch.Device device)
    {
        var run = a.String("classifier") is { } path ? ModelSource.LoadRun(path, a.Flag("no-ema"), "--classifier") : null;
        run?.To(device);
        return run;
    }

    /// <summary>--class, --cfg, --guidance, --classifier, --guidance-below as a <see cref="ClassGuidance"/> (null when none is given), checked before anything is drawn.</summary>
    public static ClassGuidance? Of(ParsedArgs a, IGenerativeMethod method, IGenerativeMethod? classifierRun, int n)
    {
        string[] options = ["class", "cfg", "guidance", "classifier", "guidance-below", "unconditional"];
        if (!options.Any(a.Has)) return null;
        if (a.String("class") is not { } spec) throw new UsageException($"--{options.Skip(1).First(a.Has)} needs --class K|K1,K2,...|all (the labels to sample)");
        if (method is not IDenoisingMethod) throw new UsageException($"--class: a {method.Config.Method} run cannot be guided; class labels and guidance apply to diffusion runs (ddpm, edm, sde)");
        INoisyClassifier? classifier = null;
        if (classifierRun is not null)
            classifier = (classifierRun as IClassifierMethod)?.Classifier
                ?? throw new UsageException($"--classifier: {a.String("classifier")} is a {classifierRun.Config.Method} run, not a noisy-classifier run");
        if (a.Has("guidance") && classifier is null) throw new UsageException("--guidance needs --classifier RUN (a noisy-classifier run)");
        if (classifier is not null && !a.Has("guidance")) throw new UsageException("--classifier needs --guidance S (its scale)");
        int modelClasses = (method as IClassConditionalMethod)?.Classes ?? 0;
        if (a.Flag("unconditional") && (modelClasses == 0 || a.Has("cfg")))
            throw new UsageException(modelClasses == 0 ? "--unconditional applies to a class-conditional run (this one is unconditional already)" : "--unconditional samples without the class input: --cfg does not apply");
        if (a.Flag("unconditional") && classifier is null) throw new UsageException("--unconditional needs --classifier RUN --guidance S (else it ignores --class)");
        if (a.Has("cfg") && modelClasses == 0) throw new UsageException($"--cfg needs a class-conditional run (trained with --classes); {method.Config.Method} run {a.String("run") ?? a.String("checkpoint")} is unconditional: guide it with --classifier RUN --guidance S");
        if (modelClasses == 0 && classifier is null) throw new UsageException("--class: this run is unconditional (trained without --classes); guide it with --classifier RUN --guidance S");
        if (classifier is not null && modelClasses > 0 && classifier.Classes != modelClasses)
            throw new UsageException($"--classifier knows {classifier.Classes} classes, the run {modelClasses}");
        var scales = new GuidanceScales(a.Double("cfg") ?? 0, a.Double("guidance") ?? 0, a.Double("guidance-below"));
        scales.Validate();
        return new ClassGuidance(ClassGuidance.ParseLabels(spec, modelClasses > 0 ? modelClasses : classifier!.Classes, n), scales, classifier, a.Flag("unconditional"));
    }
}
