using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Energy;

/// <summary>E(x) for points [B, D] → [B]: spectrally normalised linear layers with Swish (SiLU) between them.</summary>
public sealed class EnergyMlp : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> layers;
    readonly int _fourier;

    /// <param name="fourierFeatures">K &gt; 0 feeds sin/cos(2^k π x/4), k &lt; K, of every coordinate too (as ScoreMlp).</param>
    public EnergyMlp(int dim, int width, int depth, bool spectralNorm, int fourierFeatures = 0) : base(nameof(EnergyMlp))
    {
        var list = new List<nn.Module<Tensor, Tensor>>();
        _fourier = fourierFeatures;
        long inF = dim * (1 + 2 * fourierFeatures);
        for (int i = 0; i < depth; i++) { list.Add(new SpectralLinear(inF, width, spectralNorm)); list.Add(nn.SiLU()); inF = width; }
        list.Add(new SpectralLinear(inF, 1, spectralNorm));
        layers = nn.Sequential(list);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        if (_fourier == 0) return layers.forward(x).squeeze(-1);
        using var features = Langevin.Models.ScoreMlp.WithFourierFeatures(x, _fourier);
        return layers.forward(features).squeeze(-1);
    }
}

/// <summary>
/// E(x) for images [B, C, H, W] → [B]: a small CNN in the spirit of IGEBM's (Du &amp; Mordatch 2019, App. A): strided
/// spectrally normalised 3×3 convolutions with Swish, global sum pooling, a linear head.
/// </summary>
public sealed class EnergyCnn : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> features;
    readonly SpectralLinear head;

    public EnergyCnn(int channels, int baseChannels, bool spectralNorm) : base(nameof(EnergyCnn))
    {
        int c = baseChannels;
        features = nn.Sequential(
            new SpectralConv2d(channels, c, 3, 1, 1, spectralNorm), nn.SiLU(),
            new SpectralConv2d(c, 2 * c, 3, 2, 1, spectralNorm), nn.SiLU(),
            new SpectralConv2d(2 * c, 2 * c, 3, 1, 1, spectralNorm), nn.SiLU(),
            new SpectralConv2d(2 * c, 4 * c, 3, 2, 1, spectralNorm), nn.SiLU());
        head = new SpectralLinear(4 * c, 1, spectralNorm);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.forward(features.forward(x).sum([2, 3])).squeeze(-1);
}
