using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// Mixed-precision training with fp32 master weights (Micikevicius et al. 2018, "Mixed Precision Training", §3.1),
/// done by hand because TorchSharp 0.107 has no <c>torch.autocast</c>. The master network keeps its fp32 weights, and
/// the optimizer, gradient clipping, the EMA and checkpoints see only it; a second instance of the same architecture,
/// the working copy, holds the weights in bfloat16. Each step:
/// <list type="number">
/// <item><see cref="PullWeights"/>: working ← bf16(master);</item>
/// <item>the loss runs forward and backward through the working copy — floating-point inputs are cast to bf16 at its
///   boundary and its output back to fp32, so everything outside the network (noise, preconditioning, the loss
///   reduction) stays fp32;</item>
/// <item><see cref="PushGradients"/>: master.grad ← fp32(working.grad).</item>
/// </list>
/// bfloat16 has fp32's 8-bit exponent, so unlike fp16 no loss scaling is needed; only the 8-bit mantissa of the
/// working weights and activations is lost, while Adam's small updates (≈ lr) accumulate in the fp32 master.
/// The boundary casts are forward hooks, so they apply wherever the working network is invoked with <c>call</c>.
/// </summary>
public sealed class BFloat16WorkingCopy : IDisposable
{
    readonly List<(Tensor Master, Tensor Working)> _weights = [];
    readonly List<(Parameter Master, Parameter Working)> _parameters = [];
    readonly Action _removeHooks;

    public nn.Module Working { get; }

    /// <param name="master">The fp32 network the optimizer updates.</param>
    /// <param name="working">A second instance of the same architecture, a network of x (and a conditioning, and a latent):
    /// Module&lt;Tensor, Tensor&gt;, Module&lt;Tensor, Tensor, Tensor&gt; or Module&lt;Tensor, Tensor, Tensor, Tensor&gt;; it is cast to bfloat16 here and owned by the caller.</param>
    public BFloat16WorkingCopy(nn.Module master, nn.Module working)
    {
        Working = working;
        working.to(master.parameters().First().device);
        working.to(ScalarType.BFloat16);
        var masterState = master.state_dict();
        var workingState = working.state_dict();
        if (!masterState.Keys.SequenceEqual(workingState.Keys))
            throw new ArgumentException("the working copy's state-dict keys differ from the master's: not the same architecture", nameof(working));
        foreach (var (name, t) in masterState)
            if (t.is_floating_point()) _weights.Add((t, workingState[name]));
        var workingParameters = working.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in master.named_parameters())
            if (p.requires_grad) _parameters.Add((p, workingParameters[name]));

        switch (working)
        {
            case nn.Module<Tensor, Tensor, Tensor> conditioned:
            {
                var castInputs = conditioned.register_forward_pre_hook((_, x, t) => (ToBFloat16(x), t));
                var castOutput = conditioned.register_forward_hook((_, _, _, y) => y.to_type(ScalarType.Float32));
                _removeHooks = () => { castInputs.remove(); castOutput.remove(); };
                break;
            }
            case nn.Module<Tensor, Tensor, Tensor, Tensor> styled:      // (x, conditioning, z): DD-GAN's image generator
            {
                var castInputs = styled.register_forward_pre_hook((_, x, t, z) => (ToBFloat16(x), t, ToBFloat16(z)));
                var castOutput = styled.register_forward_hook((_, _, _, _, y) => y.to_type(ScalarType.Float32));
                _removeHooks = () => { castInputs.remove(); castOutput.remove(); };
                break;
            }
            case nn.Module<Tensor, Tensor> plain:
            {
                var castInputs = plain.register_forward_pre_hook((_, x) => ToBFloat16(x));
                var castOutput = plain.register_forward_hook((_, _, y) => y.to_type(ScalarType.Float32));
                _removeHooks = () => { castInputs.remove(); castOutput.remove(); };
                break;
            }
            default:
                throw new ArgumentException($"a {working.GetType().Name} is neither a network of x nor of (x, conditioning): it cannot run in bfloat16 here", nameof(working));
        }
        PullWeights();
    }

    /// <summary>Whether a network can have a working copy: a network of x, of (x, conditioning), or of (x, conditioning, latent).</summary>
    public static bool CanWrap(nn.Module network) => network is nn.Module<Tensor, Tensor, Tensor> or nn.Module<Tensor, Tensor> or nn.Module<Tensor, Tensor, Tensor, Tensor>;

    /// <summary>The conditioning stays as given: networks embed it in fp32 and cast the embedding to x's dtype.</summary>
    static Tensor ToBFloat16(Tensor x) => x.is_floating_point() ? x.to_type(ScalarType.BFloat16) : x;

    /// <summary>working ← bf16(master) for every floating-point parameter and buffer.</summary>
    public void PullWeights()
    {
        using var _ = no_grad();
        foreach (var (master, working) in _weights) working.copy_(master);
    }

    /// <summary>Drops the working copy's gradients (another component's loss may have reached them since its last push).</summary>
    public void ZeroWorkingGradients()
    {
        foreach (var (_, working) in _parameters) working.grad = null;
    }

    /// <summary>master.grad ← fp32(working.grad); the working gradients are dropped.</summary>
    public void PushGradients()
    {
        using var _ = no_grad();
        foreach (var (master, working) in _parameters)
        {
            using var g = working.grad;
            using var g32 = g?.to_type(ScalarType.Float32);
            master.grad = g32;
            working.grad = null;
        }
    }

    public void Dispose()
    {
        _removeHooks();
    }
}
