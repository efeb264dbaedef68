namespace Langevin.Training;

/// <summary>What <c>--net adm</c> adds to the U-Net settings (see <see cref="Models.AdmUNetConfig"/>).</summary>
public sealed record AdmNetworkConfig
{
    public int Heads { get; init; } = 4;
    /// <summary>Adaptive group norm (scale and shift from the embedding).</summary>
    public bool ScaleShiftNorm { get; init; } = true;
    /// <summary>BigGAN-style resampling inside residual blocks.</summary>
    public bool ResblockUpdown { get; init; } = true;
    /// <summary>2C output channels: the improved-DDPM variance interpolation v beside ε.</summary>
    public bool LearnSigma { get; init; }
}
