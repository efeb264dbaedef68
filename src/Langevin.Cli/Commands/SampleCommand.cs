using Langevin.IO;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

public sealed class SampleCommand : ICommand
{
    public string Name => "sample";
    public string Summary => "draw samples from a trained model to .npy and/or a PNG";
    public string Usage => "langevin sample (--run RUN | --checkpoint FILE) [--n N] [--seed S] [--noise FILE.npy] [--out FILE.npy] [--grid FILE.png]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("n", "N", "number of samples (default 64; with --noise, its first dimension)"),
        new("noise", "FILE.npy", "unit Gaussian noise [N, ...] that starts the chain (scaled by the initial σ)"),
        new("out", "FILE.npy", "samples: float32 [N, C, H, W] in [0, 1] for images, [N, D] for points"),
        new("grid", "FILE.png", "a picture of the samples (image grid or scatter plot)"),
        new("gif", "FILE.gif", "an animation of the sampling trajectory (one frame per noise level)"),
    ];

    public int Run(ParsedArgs a)
    {
        string? outPath = a.String("out"), gridPath = a.String("grid"), gifPath = a.String("gif");
        if (outPath is null && gridPath is null && gifPath is null) throw new UsageException("sample: give --out FILE.npy, --grid FILE.png and/or --gif FILE.gif");
        using var noise = a.String("noise") is { } nf ? NpyFile.Read(nf) : null;
        int n = a.Int("n") ?? (noise is null ? 64 : (int)noise.shape[0]);
        if (n < 1) throw new UsageException($"--n must be ≥ 1 (got {n})");
        if (noise is not null && noise.shape[0] != n) throw new UsageException($"--noise: holds {noise.shape[0]} items but --n is {n}");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        Tensor? samples = null;
        var frames = new List<Tensor>();
        Action<Tensor>? onFrame = gifPath is null ? null : x => frames.Add(SamplePreview.Frame(x));
        ProgressDisplay.Run("sample", method.FunctionEvaluations, 0, a.Flag("quiet"), "NFE", p =>
            samples = method.Sample(n, gen, noise, (done, _) => p.Report(done), onFrame));
        using var result = samples!;
        if (gifPath is not null)
        {
            frames.Add(SamplePreview.Frame(result));
            GifWriter.Save(gifPath, frames, delayCentiseconds: 12);
            foreach (var f in frames) f.Dispose();
            Console.WriteLine($"wrote {gifPath} ({frames.Count} frames)");
        }
        bool image = result.dim() == 4;
        if (outPath is not null)
        {
            using var written = image ? SamplePreview.ToUnitRange(result) : result.to(float32);
            NpyFile.Write(outPath, written);
            Console.WriteLine($"wrote {outPath} [{string.Join(", ", written.shape)}]");
        }
        if (gridPath is not null)
        {
            SamplePreview.Write(gridPath, result, $"{method.Config.Method} samples (N = {n})");
            Console.WriteLine($"wrote {gridPath}");
        }
        return 0;
    }
}
