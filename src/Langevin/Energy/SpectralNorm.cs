using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>
/// Spectral normalisation (Miyato et al. 2018, "Spectral normalization for GANs", Alg. 1): W_SN = W / σ(W), with σ(W) the
/// largest singular value of W reshaped to [out, in·k·k], estimated by power iteration on a persistent vector u.
/// Each training-mode forward pass does one iteration (v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖) and updates u in place.
/// </summary>
public static class SpectralNorm
{
    /// <summary>σ ≈ uᵀ W v after <paramref name="iterations"/> power iterations; u is updated in place when asked.</summary>
    public static Tensor Sigma(Tensor weight, Tensor u, int iterations, bool updateU)
    {
        using var scope = NewDisposeScope();
        var w = weight.flatten(1);
        Tensor uu = u, v;
        using (no_grad())
        {
            v = nn.functional.normalize(w.detach().T.matmul(uu), dim: 0, eps: 1e-12);
            for (int i = 0; i < iterations; i++)
            {
                // u ← W v / ‖W v‖, v ← Wᵀ u / ‖Wᵀ u‖ (Miyato et al. 2018, Alg. 1)
                uu = nn.functional.normalize(w.detach().matmul(v), dim: 0, eps: 1e-12);
                v = nn.functional.normalize(w.detach().T.matmul(uu), dim: 0, eps: 1e-12);
            }
            if (updateU) u.copy_(uu);
        }
        // σ(W) ≈ uᵀ W v, differentiable in W (the vectors are constants)
        return uu.dot(w.matmul(v)).MoveToOuterDisposeScope();
    }
}

/// <summary>A linear layer y = x (W/σ(W))ᵀ + b with spectral normalisation (weight, bias and u named as PyTorch's parametrisation-free form).</summary>
public sealed class SpectralLinear : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;
    readonly Tensor u;

    public SpectralLinear(long inFeatures, long outFeatures, bool normalise = true) : base(nameof(SpectralLinear))
    {
        using var lin = nn.Linear(inFeatures, outFeatures);
        weight = new Parameter(lin.weight!.detach().clone());
        bias = new Parameter(lin.bias!.detach().clone());
        u = nn.functional.normalize(randn(outFeatures), dim: 0);
        Normalise = normalise;
        RegisterComponents();
    }

    public bool Normalise { get; }

    public Tensor Weight => Normalise ? weight / SpectralNorm.Sigma(weight, u, 1, training) : weight.alias();

    public override Tensor forward(Tensor x) => nn.functional.linear(x, Weight, bias);
}

/// <summary>A 2-D convolution whose kernel, reshaped to [out, in·k·k], is spectrally normalised.</summary>
public sealed class SpectralConv2d : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight, bias;
    readonly Tensor u;
    readonly long _stride, _padding;

    public SpectralConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool normalise = true) : base(nameof(SpectralConv2d))
    {
        using var conv = nn.Conv2d(inChannels, outChannels, kernel, stride, padding);
        weight = new Parameter(conv.weight!.detach().clone());
        bias = new Parameter(conv.bias!.detach().clone());
        u = nn.functional.normalize(randn(outChannels), dim: 0);
        (_stride, _padding, Normalise) = (stride, padding, normalise);
        RegisterComponents();
    }

    public bool Normalise { get; }

    public Tensor Weight => Normalise ? weight / SpectralNorm.Sigma(weight, u, 1, training) : weight.alias();

    public override Tensor forward(Tensor x) => Models.Convolution.Conv2d(x, Weight, bias, _stride, _padding);
}
