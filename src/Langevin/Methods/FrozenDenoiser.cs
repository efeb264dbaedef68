using System.Security.Cryptography;
using System.Text;
using Langevin.Training;

namespace Langevin.Methods;

/// <summary>
/// Which trained denoiser a run borrows: the run folder, the step of the checkpoint it uses, and a digest of that
/// checkpoint's parameter names and shapes (and item shape), so a moved, deleted or re-architected run is noticed.
/// </summary>
public sealed record DenoiserReference(string Run, long Step, string Digest);

/// <summary>
/// A denoiser borrowed from another run (<c>langevin train --method dmcmc --denoiser RUN</c>): the EMA weights of one
/// checkpoint of a run whose method is an <see cref="IDenoisingMethod"/> (DDPM ε on its VP table, EDM, score SDE, NCSN),
/// frozen — eval mode, no gradients, not part of the borrower's network, optimizer or checkpoints.
/// </summary>
public static class FrozenDenoiser
{
    /// <summary>
    /// At training start: the latest checkpoint of <paramref name="run"/>, checked to be a denoiser over items of
    /// <paramref name="itemShape"/>. Bad input is a <see cref="UsageException"/> naming --denoiser.
    /// </summary>
    public static DenoiserReference Resolve(string run, long[] itemShape)
    {
        string root = Path.GetFullPath(run);
        if (!Directory.Exists(root)) throw new UsageException($"--denoiser: {run} is not a folder");
        var (file, step) = new RunFolder(root).LatestCheckpoint()
            ?? throw new UsageException($"--denoiser: {run} holds no checkpoint (train a denoiser there first, e.g. --method ddpm or edm)");
        using var ckpt = Checkpoint.Load(file);
        Check(ckpt, itemShape, message => new UsageException($"--denoiser: {run}: {message}"));
        return new DenoiserReference(root, step, Digest(ckpt));
    }

    /// <summary>
    /// The borrowed denoiser, weights loaded and frozen. A missing run or checkpoint, or one whose parameters changed since
    /// <paramref name="reference"/> was taken, is a <see cref="DataException"/> in one line.
    /// </summary>
    public static IDenoisingMethod Open(DenoiserReference reference, long[] itemShape)
    {
        if (!Directory.Exists(reference.Run))
            throw new DataException($"{reference.Run}: the denoiser run this dmcmc run was trained with is missing");
        string file = new RunFolder(reference.Run).CheckpointPath(reference.Step);
        if (!File.Exists(file))
            throw new DataException($"{file}: the denoiser checkpoint this dmcmc run was trained with (step {reference.Step}) is missing");
        using var ckpt = Checkpoint.Load(file);
        Check(ckpt, itemShape, message => new DataException($"{file}: {message}"));
        if (Digest(ckpt) != reference.Digest)
            throw new DataException($"{file}: the denoiser changed since this dmcmc run was trained (its parameter names or shapes differ)");
        var method = MethodFactory.Create(ckpt.Config, ckpt.ItemShape);
        try
        {
            if (method is not IDenoisingMethod denoising) throw new DataException($"{file}: not a denoiser");
            ckpt.LoadForSampling(method);
            method.Eval();
            foreach (var p in method.Components.SelectMany(c => c.Module.parameters())) p.requires_grad = false;
            return denoising;
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    static void Check(Checkpoint ckpt, long[] itemShape, Func<string, Exception> error)
    {
        if (ckpt.Config.Method == "dmcmc") throw error("a dmcmc run; give the run its denoiser was trained in");
        if (ckpt.Config.Method is not ("ddpm" or "edm" or "sde" or "ncsn"))
            throw error($"a {ckpt.Config.Method} run, not a denoiser (ddpm, edm, sde or ncsn)");
        if (!ckpt.ItemShape.SequenceEqual(itemShape))
            throw error($"its items are [{string.Join(", ", ckpt.ItemShape)}], the data's [{string.Join(", ", itemShape)}]");
    }

    /// <summary>SHA-256 over the item shape and the sorted (name, shape) pairs of the EMA weights, 16 hex digits.</summary>
    static string Digest(Checkpoint ckpt)
    {
        var text = new StringBuilder($"[{string.Join(",", ckpt.ItemShape)}]");
        foreach (var (name, t) in ckpt.Ema.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            text.Append($";{name}:{string.Join(",", t.shape)}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
