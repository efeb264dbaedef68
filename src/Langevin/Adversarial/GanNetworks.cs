using Langevin.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Adversarial;

/// <summary>G(z) for points: an MLP of <c>depth</c> ReLU layers of <c>width</c> (as the toy GANs of Gulrajani et al. 2017).</summary>
public sealed class MlpGenerator : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> layers;

    public MlpGenerator(int latentDim, int dim, int width, int depth) : base(nameof(MlpGenerator))
    {
        var list = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0, inF = latentDim; i < depth; i++, inF = width) { list.Add(nn.Linear(inF, width)); list.Add(nn.ReLU()); }
        list.Add(nn.Linear(depth == 0 ? latentDim : width, dim));
        layers = nn.Sequential(list);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z) => layers.forward(z);
}

/// <summary>The generator and discriminator of <see cref="GanMethod"/> for items of a given shape.</summary>
public static class GanNetworks
{
    public static (nn.Module Generator, nn.Module Discriminator) Create(GanConfig g, Training.NetworkConfig net, long[] itemShape) =>
        Create(g, g.ImageChannels, net, itemShape);

    /// <summary>G(z) and D(x) for items of <paramref name="itemShape"/> with the adversarial settings <paramref name="g"/>: MLPs
    /// of the network's width and depth (D with its Fourier features) for points, DCGAN networks of <paramref name="imageChannels"/> for images.</summary>
    public static (nn.Module Generator, nn.Module Discriminator) Create(AdversarialConfig g, int imageChannels, Training.NetworkConfig net, long[] itemShape)
    {
        var gen = Generator(g, imageChannels, net, itemShape);
        return (gen, Discriminator(g, imageChannels, net, itemShape));
    }

    /// <summary>G(z) alone (see <see cref="Create(AdversarialConfig, int, Training.NetworkConfig, long[])"/>).</summary>
    public static nn.Module Generator(AdversarialConfig g, int imageChannels, Training.NetworkConfig net, long[] itemShape) =>
        itemShape.Length == 1 ? new MlpGenerator(g.LatentDim!.Value, (int)itemShape[0], net.Width, net.Depth)
            : new DcganGenerator(g.LatentDim!.Value, (int)itemShape[0], Side(itemShape), imageChannels);

    /// <summary>D(x) alone (see <see cref="Create(AdversarialConfig, int, Training.NetworkConfig, long[])"/>).</summary>
    public static nn.Module Discriminator(AdversarialConfig g, int imageChannels, Training.NetworkConfig net, long[] itemShape) =>
        itemShape.Length == 1 ? new EnergyMlp((int)itemShape[0], net.Width, net.Depth, g.SpectralNorm!.Value, net.FourierFeatures)
            : new DcganDiscriminator((int)itemShape[0], Side(itemShape), imageChannels, g.SpectralNorm!.Value, minibatchStdGroup: g.MinibatchStd);

    /// <summary>The side of square 28×28 or 32×32 images; anything else is refused in one line.</summary>
    static int Side(long[] itemShape) => itemShape.Length == 3 && itemShape[1] == itemShape[2] && itemShape[1] is 28 or 32 ? (int)itemShape[1]
        : throw SettingException.Sentence("data", string.Join("×", itemShape),
            $"a GAN here models points [N, D] or 28×28 / 32×32 images; this data has items of shape [{string.Join(", ", itemShape)}]");
}
