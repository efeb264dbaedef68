using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Opening a trained method from a run folder (its latest checkpoint) or a checkpoint file, with the EMA weights by default:
/// what <c>sample</c>, <c>inpaint</c>, <c>likelihood</c>, … and a C# user start from. Bad input names <paramref name="setting"/>
/// (the CLI's --run / --checkpoint).
/// </summary>
public static class TrainedRuns
{
    /// <summary>The latest checkpoint of a run folder.</summary>
    public static string LatestCheckpoint(string runDir, string setting = "run")
    {
        if (!Directory.Exists(runDir)) throw SettingException.About(setting, runDir, $"{runDir} is not a folder");
        return new RunFolder(runDir).LatestCheckpoint()?.Path
            ?? throw SettingException.About(setting, runDir, $"{runDir} holds no checkpoint (train it first: langevin train --out {runDir})");
    }

    /// <summary>The method of a run's latest checkpoint, weights loaded (EMA unless <paramref name="ema"/> is false), on <paramref name="device"/>.</summary>
    public static IGenerativeMethod OpenRun(string runDir, bool ema = true, Device? device = null, string setting = "run") =>
        OpenCheckpoint(LatestCheckpoint(runDir, setting), ema, device);

    /// <summary>The method of a checkpoint file, weights and method state loaded, on <paramref name="device"/> (default CPU).</summary>
    public static IGenerativeMethod OpenCheckpoint(string file, bool ema = true, Device? device = null)
    {
        using var ckpt = Checkpoint.Load(file);
        var method = MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        try
        {
            ckpt.LoadForSampling(method, ema);
            if (device is not null) method.To(device);
            method.Eval();
            return method;
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }
}
