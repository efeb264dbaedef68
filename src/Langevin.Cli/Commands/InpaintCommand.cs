using Langevin.Data;
using Langevin.IO;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

public sealed class InpaintCommand : ICommand
{
    public string Name => "inpaint";
    public string Summary => "fill masked pixels of images: NCSN by annealed Langevin, diffusion models by replacement, EBMs by energy descent";
    public string Usage => "langevin inpaint (--run RUN | --checkpoint FILE) [--data SPEC] [--mask right-half|left-half|top-half|bottom-half|center] [--n N] [--class K|all [--cfg W]] --grid FILE.png";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("data", "SPEC", "images to inpaint (default: the run's data, test split where it has one)"),
        new("mask", "KIND", "which pixels are unknown: right-half (default), left-half, top-half, bottom-half, center"),
        new("n", "N", "number of images (default 8)"),
        new("grid", "FILE.png", "rows: masked input, inpainted, original"),
        new("out", "FILE.npy", "the inpainted images, float32 [N, C, H, W] in [0, 1]"),
        .. GuidanceOptions.Specs,
        new("steps", "N", "diffusion models: ancestral steps of the replacement sampler (default 100); EBMs: SGLD/PGD steps (default: the run's sampling length)"),
    ];

    public int Run(ParsedArgs a)
    {
        var (gridPath, outPath) = ModelSource.ImageOutputs(a, Name);
        int n = a.Int("n") ?? 8;
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        var path = Inpainting.PathFor(method) ?? throw new UsageException($"inpaint: method '{method.Config.Method}' does not support inpainting");
        if (path == InpaintingPath.AnnealedLangevin && a.Has("steps")) throw new UsageException("--steps applies to diffusion models; NCSN inpaints with its trained σ's and T");
        if (method.ItemShape.Length != 3) throw new UsageException("inpaint: the model was trained on points, not images");
        string spec = a.String("data") ?? HeldOutSplit.SpecOrSelf(method.Config.Data);
        using var data = DataSources.Load(spec, new DataOptions(Seed: 0, Limit: n));
        if (!data.ItemShape.SequenceEqual(method.ItemShape))
            throw new UsageException($"--data: {spec} has items [{string.Join(", ", data.ItemShape)}], the model makes [{string.Join(", ", method.ItemShape)}]");
        using var original = data.X.narrow(0, 0, Math.Min(n, data.X.shape[0])).to(float32);
        string kind = a.String("mask", "right-half");
        if (!InpaintingMask.Kinds.Contains(kind))
            throw new UsageException($"--mask must be {string.Join(", ", InpaintingMask.Kinds.SkipLast(1))} or {InpaintingMask.Kinds[^1]} (got '{kind}')");
        using var mask = InpaintingMask.Make(kind, original.shape);
        int? steps = a.Int("steps");
        if (steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {steps})");
        using var classifierRun = GuidanceOptions.LoadClassifier(a, gen.device);
        var guidance = GuidanceOptions.Of(a, method, classifierRun, (int)original.shape[0]);   // each image filled as its class
        using var labels = guidance?.Labels;
        Tensor? filled = null;
        ProgressDisplay.Run("inpaint", Inpainting.ProgressTotal(method, steps), 0, a.Flag("quiet"), path == InpaintingPath.EnergyDescent ? "steps" : "NFE", p =>
            filled = Inpainting.Run(method, original, mask, gen, steps, done => p.Report(done), guidance));
        using var result = filled!;
        if (gridPath is not null)
        {
            using var shown = cat([original * mask + (1 - mask) * -1, result, original]);
            ImageGrid.SavePng(gridPath, SamplePreview.ToUnitRange(shown), columns: (int)original.shape[0]);
            Console.WriteLine($"wrote {gridPath} (rows: masked input, inpainted, original)");
        }
        if (outPath is not null)
        {
            NpyFile.Write(outPath, SamplePreview.ToUnitRange(result));
            Console.WriteLine($"wrote {outPath}");
            if (labels is not null)
            {
                NpyFile.Write(SampleCommand.LabelsPath(outPath), labels);
                a.Result["labels"] = SampleCommand.LabelsPath(outPath);
            }
        }
        a.Result["grid"] = gridPath;
        a.Result["out"] = outPath;
        a.Result["n"] = result.shape[0];
        return 0;
    }

}
