using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>Shape of a <see cref="ScoreMlp"/>.</summary>
/// <param name="DataDim">Dimension D of the data (2 for toy 2-D sets).</param>
/// <param name="HiddenWidth">Width of every hidden layer.</param>
/// <param name="HiddenLayers">Number of hidden layers (Linear + SiLU).</param>
/// <param name="TimeEmbedDim">Size of the sinusoidal embedding of t, concatenated to x.</param>
/// <param name="FourierFeatures">K &gt; 0 adds sin/cos(2^k π x / 4), k = 0..K−1, of every coordinate to the input:
/// Fourier features (Tancik et al. 2020) that let a small MLP draw the sharp edges of data like the checkerboard.</param>
/// <param name="Classes">K &gt; 0: class-conditional, a <see cref="ClassEmbedding"/> of K classes added to the time embedding.</param>
public sealed record ScoreMlpConfig(int DataDim = 2, int HiddenWidth = 256, int HiddenLayers = 3, int TimeEmbedDim = 32, int FourierFeatures = 0, int Classes = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the shape cannot be built.</summary>
    public void Validate()
    {
        if (DataDim <= 0 || HiddenWidth <= 0 || HiddenLayers <= 0)
            throw new ArgumentException($"invalid ScoreMlpConfig: DataDim, HiddenWidth and HiddenLayers must be positive ({this})");
        if (FourierFeatures is < 0 or > 16)
            throw new ArgumentException($"invalid ScoreMlpConfig: FourierFeatures must be in 0..16 ({this})");
        if (TimeEmbedDim < 2 || TimeEmbedDim % 2 != 0)
            throw new ArgumentException($"invalid ScoreMlpConfig: TimeEmbedDim must be even and ≥ 2 ({this})");
    }
}

/// <summary>
/// MLP for low-dimensional data: <c>forward(x [B,D], t [B])</c> → [B,D]. The input is concat(x, sinusoidal(t))
/// followed by <see cref="ScoreMlpConfig.HiddenLayers"/> × (Linear → SiLU) and a Linear to D. What the output means
/// (ε, x0, score, …) is up to the objective and the adapter; t is any float on a ~0..1000 scale
/// (see <see cref="TimeEmbedding.SinusoidalEmbedding"/>).
/// </summary>
public sealed class ScoreMlp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential net;
    private readonly ClassEmbedding? label_emb;

    /// <summary>The shape this network was built from.</summary>
    public ScoreMlpConfig Config { get; }

    /// <summary>Builds the network; parameters are drawn from torch's global generator (seed it with torch.manual_seed).</summary>
    public ScoreMlp(ScoreMlpConfig config) : base(nameof(ScoreMlp))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        net = SiLUStack(config.DataDim * (1 + 2 * config.FourierFeatures) + config.TimeEmbedDim, config.HiddenWidth, config.HiddenLayers, config.DataDim);
        if (config.Classes > 0) label_emb = new ClassEmbedding(config.Classes, config.TimeEmbedDim);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="depth"/> hidden layers of <paramref name="width"/> (Linear, SiLU), then a Linear to <paramref name="outputs"/>:
    /// the trunk of every MLP here (score, noise-level estimator, noisy classifier); children named 0, 1, … in that order.
    /// </summary>
    public static Sequential SiLUStack(int inputs, int width, int depth, int outputs)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < depth; i++)
        {
            layers.Add(nn.Linear(inputs, width));
            layers.Add(nn.SiLU());
            inputs = width;
        }
        layers.Add(nn.Linear(inputs, outputs));
        return nn.Sequential(layers);
    }

    /// <summary>Default shape: 2-D data, 3 hidden layers of 256.</summary>
    public ScoreMlp() : this(new ScoreMlpConfig()) { }

    /// <param name="x">[B, DataDim].</param>
    /// <param name="t">[B] conditioning value.</param>
    public override Tensor forward(Tensor x, Tensor t)
    {
        if (x.dim() != 2 || x.shape[1] != Config.DataDim)
            throw new ArgumentException($"x must be [B, {Config.DataDim}], got [{string.Join(", ", x.shape)}]", nameof(x));
        using var scope = NewDisposeScope();
        var (label, classes) = ClassConditioning.Split(t);
        if (label.dim() != 1 || label.shape[0] != x.shape[0])
            throw new ArgumentException($"t must be [{x.shape[0]}] (or [{x.shape[0]}, 2] with classes), got [{string.Join(", ", t.shape)}]", nameof(t));
        var time = TimeEmbedding.SinusoidalEmbedding(label, Config.TimeEmbedDim).to_type(x.dtype);
        if (label_emb is not null) time = time + label_emb.Embed(classes, x.shape[0], x.device).to_type(x.dtype);
        var input = cat([WithFourierFeatures(x, Config.FourierFeatures), time], 1);
        return scope.MoveToOuter(net.forward(input));
    }

    /// <summary>[x, sin(2^k π x/4), cos(2^k π x/4)] for k = 0..K−1 of every coordinate ([B, D] → [B, D(1 + 2K)]; K = 0: x).</summary>
    public static Tensor WithFourierFeatures(Tensor x, int k)
    {
        if (k == 0) return x.alias();
        using var scope = NewDisposeScope();
        var freqs = pow(2.0, arange(k, dtype: x.dtype, device: x.device)) * (Math.PI / 4);
        var angles = (x.unsqueeze(2) * freqs).reshape(x.shape[0], -1);           // [B, D·K]
        return cat([x, angles.sin(), angles.cos()], 1).MoveToOuterDisposeScope();
    }
}
