using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

public sealed class InpaintCommand : ICommand
{
    public string Name => "inpaint";
    public string Summary => "fill masked pixels of images: NCSN by annealed Langevin, diffusion models by replacement, EBMs by energy descent";
    public string Usage => "langevin inpaint (--run RUN | --checkpoint FILE) [--data SPEC] [--mask right-half|left-half|top-half|bottom-half|center] [--n N] --grid FILE.png";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("data", "SPEC", "images to inpaint (default: the run's data, test split where it has one)"),
        new("mask", "KIND", "which pixels are unknown: right-half (default), left-half, top-half, bottom-half, center"),
        new("n", "N", "number of images (default 8)"),
        new("grid", "FILE.png", "rows: masked input, inpainted, original"),
        new("out", "FILE.npy", "the inpainted images, float32 [N, C, H, W] in [0, 1]"),
        new("steps", "N", "diffusion models: ancestral steps of the replacement sampler (default 100); EBMs: SGLD/PGD steps (default: the run's sampling length)"),
    ];

    public int Run(ParsedArgs a)
    {
        string? gridPath = a.String("grid"), outPath = a.String("out");
        if (gridPath is null && outPath is null) throw new UsageException("inpaint: give --grid FILE.png and/or --out FILE.npy");
        int n = a.Int("n") ?? 8;
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        if (method is not (NcsnMethod or IDenoisingMethod or IEnergyMethod)) throw new UsageException($"inpaint: method '{method.Config.Method}' does not support inpainting");
        if (method is NcsnMethod && a.Has("steps")) throw new UsageException("--steps applies to diffusion models; NCSN inpaints with its trained σ's and T");
        if (method.ItemShape.Length != 3) throw new UsageException("inpaint: the model was trained on points, not images");
        string spec = a.String("data") ?? HeldOutSplit.SpecOrSelf(method.Config.Data);
        using var data = DataSources.Load(spec, new DataOptions(Seed: 0, Limit: n));
        if (!data.ItemShape.SequenceEqual(method.ItemShape))
            throw new UsageException($"--data: {spec} has items [{string.Join(", ", data.ItemShape)}], the model makes [{string.Join(", ", method.ItemShape)}]");
        using var original = data.X.narrow(0, 0, Math.Min(n, data.X.shape[0])).to(float32);
        using var mask = Mask(a.String("mask", "right-half"), original.shape);
        Tensor? filled = null;
        if (method is NcsnMethod ncsn)
            ProgressDisplay.Run("inpaint", method.FunctionEvaluations, 0, a.Flag("quiet"), "NFE", p =>
                filled = ncsn.Inpaint(original, mask, gen, (done, _) => p.Report(done)));
        else if (method is IEnergyMethod ebm)
        {
            // energy descent on the unknown pixels only: the run's own sampler, with the known pixels put back after every step
            method.Eval();
            int steps = a.Int("steps") ?? ebm.SampleSteps;
            if (steps < 1) throw new UsageException($"--steps must be ≥ 1 (got {steps})");
            var device = method.Device();
            ProgressDisplay.Run("inpaint", steps, 0, a.Flag("quiet"), "steps", p =>
            {
                using var scope = NewDisposeScope();
                var known = original.to(device);
                var m = mask.to(device);
                var x = known * m + ebm.InitialState(known.shape[0], gen) * (1 - m);
                x = ebm.Descend(ebm.Energy, x, steps, gen, k => p.Report(k), project: y => known * m + y * (1 - m));
                filled = x.detach().clamp(-1, 1).cpu().MoveToOuterDisposeScope();
            });
        }
        else
        {
            var denoising = (IDenoisingMethod)method;
            method.Eval();
            var plan = SamplerCatalog.Plan(new SamplerRequest { Sampler = "euler-ancestral", Steps = a.Int("steps") ?? 100 }, denoising.Process);
            var device = method.Device();
            ProgressDisplay.Run("inpaint", plan.Steps, 0, a.Flag("quiet"), "NFE", p =>
            {
                using var scope = NewDisposeScope();
                var init = randn(original.shape, generator: gen, device: device) * plan.InitialScale;
                var x = DiffusionTasks.Inpaint(denoising.Denoiser, original.to(device), mask.to(device), init, plan.Sigmas, gen, (done, _) => p.Report(done));
                filled = denoising.ToData(x).cpu().MoveToOuterDisposeScope();
            });
        }
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
        }
        a.Result["grid"] = gridPath;
        a.Result["out"] = outPath;
        a.Result["n"] = result.shape[0];
        return 0;
    }

    /// <summary>1 where a pixel is known, 0 where it is to be filled.</summary>
    public static Tensor Mask(string kind, long[] shape)
    {
        long h = shape[2], w = shape[3];
        var m = ones(shape);
        switch (kind)
        {
            case "right-half": m[.., .., .., (int)(w / 2)..] = 0; break;
            case "left-half": m[.., .., .., ..(int)(w / 2)] = 0; break;
            case "bottom-half": m[.., .., (int)(h / 2).., ..] = 0; break;
            case "top-half": m[.., .., ..(int)(h / 2), ..] = 0; break;
            case "center": m[.., .., (int)(h / 4)..(int)(3 * h / 4), (int)(w / 4)..(int)(3 * w / 4)] = 0; break;
            default:
                m.Dispose();
                throw new UsageException($"--mask must be right-half, left-half, top-half, bottom-half or center (got '{kind}')");
        }
        return m;
    }
}
