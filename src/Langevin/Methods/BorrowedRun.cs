using System.Security.Cryptography;
using System.Text;
using Langevin.Training;

namespace Langevin.Methods;

/// <summary>
/// What a run borrows from another run: the run folder, the step of the checkpoint it uses, and a digest of that
/// checkpoint's parameter names and shapes (and item shape), so a moved, deleted or re-architected run is noticed.
/// </summary>
public sealed record ComponentReference(string Run, long Step = 0, string Digest = "")
{
    /// <summary>Whether the step and digest have been filled (at training start, by <see cref="BorrowedRun.Resolve"/>).</summary>
    public bool IsResolved => Digest.Length > 0;
}

/// <summary>
/// A trained method of another run used inside this one, frozen: the EMA weights of one checkpoint, in eval mode, without
/// gradients, not part of the borrower's optimizers or checkpoints (its components are <see cref="Component.Trainable"/>
/// false). Denoising MCMC borrows a denoiser (<c>train --method dmcmc --denoiser RUN</c>); VAEBM's VAE, a guided sampler's
/// classifier or a prior's autoencoder borrow the same way.
/// </summary>
public static class BorrowedRun
{
    /// <summary>
    /// At training start: the latest checkpoint of <paramref name="run"/>, over items of <paramref name="itemShape"/>, that
    /// <paramref name="check"/> accepts (it returns why not, or null). Bad input names <paramref name="setting"/>.
    /// </summary>
    public static ComponentReference Resolve(string setting, string run, long[] itemShape, Func<Checkpoint, string?> check)
    {
        string root = Path.GetFullPath(run);
        if (!Directory.Exists(root)) throw SettingException.About(setting, run, $"{run} is not a folder");
        var (file, step) = new RunFolder(root).LatestCheckpoint()
            ?? throw SettingException.About(setting, run, $"{run} holds no checkpoint (train it first)");
        using var ckpt = Checkpoint.Load(file);
        if (Problem(ckpt, itemShape, check) is { } problem) throw SettingException.About(setting, run, $"{run}: {problem}");
        return new ComponentReference(root, step, Digest(ckpt));
    }

    /// <summary>
    /// The borrowed method, weights loaded and frozen. A missing run or checkpoint, or one whose parameters changed since
    /// <paramref name="reference"/> was taken, is a <see cref="DataException"/> in one line naming <paramref name="borrower"/>.
    /// </summary>
    public static IGenerativeMethod Open(ComponentReference reference, long[] itemShape, string borrower, Func<Checkpoint, string?> check)
    {
        if (!Directory.Exists(reference.Run))
            throw new DataException($"{reference.Run}: the run this {borrower} run was trained with is missing");
        string file = new RunFolder(reference.Run).CheckpointPath(reference.Step);
        if (!File.Exists(file))
            throw new DataException($"{file}: the checkpoint this {borrower} run was trained with (step {reference.Step}) is missing");
        using var ckpt = Checkpoint.Load(file);
        if (Problem(ckpt, itemShape, check) is { } problem) throw new DataException($"{file}: {problem}");
        if (Digest(ckpt) != reference.Digest)
            throw new DataException($"{file}: the run changed since this {borrower} run was trained (its parameter names or shapes differ)");
        var method = MethodRegistry.Create(ckpt.Config, ckpt.ItemShape);
        try
        {
            ckpt.LoadForSampling(method);
            method.Eval();
            foreach (var p in method.Components.SelectMany(c => c.Module.parameters())) p.requires_grad = false;
            return method;
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    static string? Problem(Checkpoint ckpt, long[] itemShape, Func<Checkpoint, string?> check) =>
        check(ckpt) ?? (ckpt.ItemShape.SequenceEqual(itemShape) ? null
            : $"its items are [{string.Join(", ", ckpt.ItemShape)}], the data's [{string.Join(", ", itemShape)}]");

    /// <summary>
    /// SHA-256 over the item shape and the sorted (name, shape) pairs of the sampling weights, 16 hex digits (a run of one
    /// component hashes as the one-network checkpoints did, so their references stay valid).
    /// </summary>
    static string Digest(Checkpoint ckpt)
    {
        var text = new StringBuilder($"[{string.Join(",", ckpt.ItemShape)}]");
        bool single = ckpt.Components.Count == 1;
        foreach (var (component, part) in ckpt.Components.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            foreach (var (name, t) in part.SamplingWeights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                text.Append($";{(single ? "" : component + "/")}{name}:{string.Join(",", t.shape)}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
