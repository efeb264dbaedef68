using Langevin.Data;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Samplers;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>
/// <c>langevin interpolate</c>: DDIM inversion of pairs of images to latents, spherical interpolation between them, and
/// deterministic decoding (Song et al. 2021, §5.3–5.4), as a grid: one row per pair, ends = reconstructions.
/// </summary>
public sealed class InterpolateCommand : ICommand
{
    public string Name => "interpolate";
    public string Summary => "invert image pairs to latents by DDIM, slerp between them and decode, as a grid";
    public string Usage => "langevin interpolate (--run RUN | --checkpoint FILE) [--data SPEC] [--pairs P] [--frames F] [--steps N] --grid FILE.png";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("data", "SPEC", "images to invert (default: the run's data, test split where it has one)"),
        new("pairs", "P", "pairs of images, one row each (default 4)"),
        new("frames", "F", "images per row including both ends (default 8)"),
        new("steps", "N", "Euler (DDIM η = 0) steps each way (default 50)"),
        new("grid", "FILE.png", "the interpolation grid"),
        new("out", "FILE.npy", "the decoded images, float32 [P·F, C, H, W] in [0, 1]"),
    ];

    public int Run(ParsedArgs a)
    {
        var (gridPath, outPath) = ModelSource.ImageOutputs(a, Name);
        int pairs = a.Int("pairs") ?? 4, frames = a.Int("frames") ?? 8, steps = a.Int("steps") ?? 50;
        if (pairs < 1) throw new UsageException($"--pairs must be ≥ 1 (got {pairs})");
        if (frames < 2) throw new UsageException($"--frames must be ≥ 2 (got {frames})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        if (method is not IDenoisingMethod denoising) throw new UsageException($"interpolate: a {method.Config.Method} model has no deterministic sampler to invert");
        if (method.ItemShape.Length != 3) throw new UsageException("interpolate: the model was trained on points, not images");
        string spec = a.String("data") ?? HeldOutSplit.SpecOrSelf(method.Config.Data);
        using var data = DataSources.Load(spec, new DataOptions(Seed: 0, Limit: 2 * pairs));
        if (!data.ItemShape.SequenceEqual(method.ItemShape))
            throw new UsageException($"--data: {spec} has items [{string.Join(", ", data.ItemShape)}], the model makes [{string.Join(", ", method.ItemShape)}]");
        if (data.Count < 2 * pairs) throw new UsageException($"--data: {spec} has {data.Count} images; --pairs {pairs} needs {2 * pairs}");
        Tensor? decoded = null;
        ProgressDisplay.Run("interpolate", Interpolation.Evaluations(denoising, steps), 0, a.Flag("quiet"), "NFE", p =>
            decoded = Interpolation.Between(denoising, data.X.narrow(0, 0, 2 * pairs), frames, steps, done => p.Report(done)));
        using var result = decoded!;
        if (gridPath is not null)
        {
            ImageGrid.SavePng(gridPath, SamplePreview.ToUnitRange(result), columns: frames);
            Console.WriteLine($"wrote {gridPath} ({pairs} rows × {frames} frames; the ends reconstruct the inverted images)");
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
}
