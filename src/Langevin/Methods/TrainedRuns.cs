using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// Opening a trained method from a run folder (its latest checkpoint) or a checkpoint file, with the EMA weights by default:
/// what <c>sample</c>, <c>inpaint</c>, <c>likelihood</c>, … and a C# user start from. Bad input names <c>setting</c>
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
        var method = Build(file, ckpt.Config, ckpt.ItemShape);
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

    /// <summary>
    /// The method a stored config describes. A config that validates but cannot be built (unresolved settings, a network
    /// its item shape does not allow) is the file's problem, reported with the file, not a crash.
    /// </summary>
    public static IGenerativeMethod Build(string file, TrainConfig config, long[] itemShape)
    {
        try { return MethodRegistry.Create(config, itemShape); }
        catch (SettingException e) { throw new DataException($"{file}: its stored config is invalid: {e.Message}"); }
        catch (System.Runtime.InteropServices.ExternalException e) when (e.Message.Contains("allocate", StringComparison.Ordinal))
        {
            throw new DataException($"{file}: the model its stored config describes needs more memory than this machine has; the config was damaged or belongs to a larger machine");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new DataException($"{file}: its stored config does not describe a model this version can build ({MessageText.OneLine(e.Message.Split('\n')[0], 200)})");
        }
    }
}
