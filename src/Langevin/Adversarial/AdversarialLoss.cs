using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>The adversarial objectives of <see cref="AdversarialGame"/>, named as <c>--gan-loss</c> spells them.</summary>
public enum GanLoss
{
    /// <summary>Goodfellow et al. 2014: D minimises −log σ(D(x)) − log(1 − σ(D(x̃))); G the non-saturating −log σ(D(x̃)) (§3).</summary>
    NonSaturating,

    /// <summary>Lim &amp; Ye 2017; Miyato et al. 2018, Eq. 17: D minimises max(0, 1 − D(x)) + max(0, 1 + D(x̃)); G minimises −D(x̃).</summary>
    Hinge,

    /// <summary>Arjovsky et al. 2017; Gulrajani et al. 2017 (WGAN-GP), Alg. 1: the critic minimises D(x̃) − D(x); G minimises −D(x̃).</summary>
    Wasserstein,
}

/// <summary>The losses of each side and the gradient penalties, as scalar tensors averaged over the batch.</summary>
public static class AdversarialLosses
{
    public static string Name(GanLoss loss) => loss switch
    {
        GanLoss.NonSaturating => "ns",
        GanLoss.Hinge => "hinge",
        _ => "wgan-gp",
    };

    public static GanLoss Parse(string text, string setting) => text switch
    {
        "ns" => GanLoss.NonSaturating,
        "hinge" => GanLoss.Hinge,
        "wgan-gp" => GanLoss.Wasserstein,
        _ => throw new SettingException(setting, text, "must be ns, hinge or wgan-gp"),
    };

    /// <summary>The discriminator's (critic's) loss on the logits of real and generated items.</summary>
    public static Tensor Discriminator(GanLoss loss, Tensor real, Tensor fake) => loss switch
    {
        // −log σ(r) − log(1 − σ(f)) = softplus(−r) + softplus(f)
        GanLoss.NonSaturating => nn.functional.softplus(-real).mean() + nn.functional.softplus(fake).mean(),
        GanLoss.Hinge => nn.functional.relu(1 - real).mean() + nn.functional.relu(1 + fake).mean(),
        _ => fake.mean() - real.mean(),
    };

    /// <summary>The generator's loss on the logits of its items.</summary>
    public static Tensor Generator(GanLoss loss, Tensor fake) => loss switch
    {
        GanLoss.NonSaturating => nn.functional.softplus(-fake).mean(),   // −log σ(f)
        _ => -fake.mean(),
    };

    /// <summary>
    /// R1 (Mescheder et al. 2018, Eq. 9): E‖∇ₓD(x)‖² on real items, differentiable in D's weights. <paramref name="real"/> must
    /// require grad and <paramref name="logits"/> be D's output on it.
    /// </summary>
    public static Tensor R1(Tensor real, Tensor logits)
    {
        var g = autograd.grad([logits.sum()], [real], retain_graph: true, create_graph: true)[0];
        return g.square().flatten(1).sum(1).mean();
    }

    /// <summary>
    /// The gradient penalty of WGAN-GP (Gulrajani et al. 2017, Eq. 3): E(‖∇D(x̂)‖₂ − 1)² at x̂ = εx + (1 − ε)x̃, ε ~ U[0, 1] per item.
    /// </summary>
    public static Tensor GradientPenalty(Func<Tensor, Tensor> critic, Tensor real, Tensor fake, torch.Generator gen)
    {
        long[] shape = [real.shape[0], .. Enumerable.Repeat(1L, (int)real.dim() - 1)];
        var eps = rand(shape, generator: gen, device: real.device, dtype: real.dtype);
        var mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(true);
        var g = autograd.grad([critic(mixed).sum()], [mixed], retain_graph: true, create_graph: true)[0];
        return ((g.flatten(1).square().sum(1) + 1e-12).sqrt() - 1).square().mean();
    }
}
