using Langevin.IO;
using Langevin.Methods;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

/// <summary>A command whose bare arguments, wherever they stand, are files of one list option (<c>langevin merge --out X A B C</c>).</summary>
public interface IFileListCommand
{
    string FileListOption { get; }
}

public static class FileListCommands
{
    /// <summary>Moves every bare argument (one that is no option's value) into <c>--OPTION a|b|c</c>; a given --OPTION keeps its place.</summary>
    public static List<string> Gather(List<string> args, IReadOnlyList<OptionSpec> specs, string option)
    {
        var kept = new List<string>();
        var files = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) { files.Add(a); continue; }
            kept.Add(a);
            string name = a[2..];
            bool takesValue = !name.Contains('=') && specs.FirstOrDefault(s => s.Name == name) is { Value: not null };
            if (takesValue && i + 1 < args.Count) kept.Add(args[++i]);
        }
        if (files.Count > 0) kept.AddRange(["--" + option, string.Join('|', files)]);
        return kept;
    }
}

/// <summary><c>langevin merge --out FILE.npy SHARD.npy…</c>: the shards of one draw (<c>sample --shard I/N</c>) as one file.</summary>
public sealed class MergeCommand : ICommand, IFileListCommand
{
    public string Name => "merge";
    public string Summary => "join the shards of one draw (sample --shard I/N) into one samples file, exactly the unsharded draw; or of one grid (compare --shard I/N)";
    public string Usage => "langevin merge --out FILE.npy SHARD.npy [SHARD.npy ...]   (or --shards 'DIR/shard-*.npy'); langevin merge --out DIR/compare.json DIR/compare.shard-*.json";
    public string FileListOption => "shards";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("shards", "FILES", "the shard files (bare arguments, or a pattern such as 'DIR/shard-*.npy' with * in the file name; or a|b|c)"),
        new("out", "FILE.npy|FILE.json", "the merged samples (and FILE.labels.npy when the shards have labels); for compare shards the grid's JSON, its plot beside it (.png)"),
        new("grid", "FILE.png", "a picture of the merged samples"),
    ];

    public int Run(ParsedArgs a)
    {
        string outPath = a.String("out") ?? throw new UsageException("merge: give --out FILE.npy");
        string spec = a.String("shards") ?? throw new UsageException("merge: name the shard files (langevin merge --out FILE.npy DIR/shard-*.npy)");
        // a shell's DIR/shard-*.npy also names the shards' label files: they are read beside their shards
        var paths = spec.Split('|', StringSplitOptions.RemoveEmptyEntries).SelectMany(Expand)
            .Where(p => !p.EndsWith(".labels.npy", StringComparison.Ordinal)).ToList();
        if (paths.Count == 0) throw new UsageException($"merge: no shard file matches '{spec}'");
        if (paths.Select(Path.GetFullPath).Contains(Path.GetFullPath(outPath))) throw new UsageException($"merge: --out {outPath} is one of the shards");
        if (paths.All(p => p.EndsWith(".json", StringComparison.Ordinal)))
        {
            // compare --shard I/N: the grid's cells
            if (!outPath.EndsWith(".json", StringComparison.Ordinal)) throw new UsageException($"merge: compare shards merge into a .json (got --out {outPath})");
            var (json, png) = CompareCommand.WriteGrid(outPath, CompareCommand.MergeShards(paths));
            a.Result["out"] = json;
            a.Result["plot"] = png;
            return 0;
        }
        if (paths.FirstOrDefault(p => !p.EndsWith(".npy", StringComparison.Ordinal)) is { } other)
            throw new UsageException($"merge: {other} is neither a samples shard (.npy) nor, with only .json files, a compare shard");
        var (samples, labels, first) = SampleShards.Merge(paths);
        using var _ = samples;
        using var __ = labels;
        NpyFile.Write(outPath, samples);
        Console.WriteLine($"wrote {outPath} [{string.Join(", ", samples.shape)}] from {first.Shards} shard{(first.Shards == 1 ? "" : "s")}");
        a.Result["out"] = outPath;
        a.Result["n"] = first.N;
        a.Result["shards"] = first.Shards;
        if (labels is not null)
        {
            string labelsPath = ShardManifest.LabelsPathOf(outPath);
            NpyFile.Write(labelsPath, labels);
            Console.WriteLine($"wrote {labelsPath} [{labels.shape[0]}]");
            a.Result["labels"] = labelsPath;
        }
        if (a.String("grid") is { } grid)
        {
            // image files hold [0, 1], the picture takes data space [−1, 1]; points beyond 2-D show their first two coordinates
            using var data = samples.dim() == 4 ? samples * 2 - 1 : samples.dim() == 2 && samples.shape[1] != 2 ? samples[.., ..2] : samples.alias();
            SamplePreview.Write(grid, data, $"{first.N} samples merged from {first.Shards} shards");
            Console.WriteLine($"wrote {grid}");
        }
        return 0;
    }

    /// <summary>A file, or a pattern with * or ? in its file name (not in its folders), sorted.</summary>
    static IEnumerable<string> Expand(string path)
    {
        string name = Path.GetFileName(path);
        if (name.IndexOfAny(['*', '?']) < 0) return [path];
        string dir = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
        if (!Directory.Exists(dir)) throw new UsageException($"merge: no folder {dir}");
        return Directory.GetFiles(dir, name).Order(StringComparer.Ordinal);
    }
}
