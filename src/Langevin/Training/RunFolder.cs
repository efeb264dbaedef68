using System.Globalization;
using System.Text.RegularExpressions;

namespace Langevin.Training;

/// <summary>The layout of a run folder: config.json, log.jsonl, checkpoints/, samples/, loss.png.</summary>
public sealed partial class RunFolder(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    public string ConfigPath => Path.Combine(Root, "config.json");
    public string LogPath => Path.Combine(Root, "log.jsonl");
    public string CheckpointsDir => Path.Combine(Root, "checkpoints");
    public string SamplesDir => Path.Combine(Root, "samples");
    public string LossPlotPath => Path.Combine(Root, "loss.png");

    public string CheckpointPath(long step) => Path.Combine(CheckpointsDir, $"step_{step:D7}.safetensors");

    /// <summary>The checkpoint with the highest step, or null.</summary>
    public (string Path, long Step)? LatestCheckpoint()
    {
        if (!Directory.Exists(CheckpointsDir)) return null;
        return Directory.EnumerateFiles(CheckpointsDir, "step_*.safetensors")
            .Select(p => (Path: p, M: StepPattern().Match(System.IO.Path.GetFileName(p))))
            .Where(x => x.M.Success)
            .Select(x => (x.Path, Step: long.Parse(x.M.Groups[1].Value, CultureInfo.InvariantCulture)))
            .OrderByDescending(x => x.Step)
            .Select(x => ((string, long)?)x)
            .FirstOrDefault();
    }

    [GeneratedRegex(@"^step_(\d+)\.safetensors$")]
    private static partial Regex StepPattern();
}
