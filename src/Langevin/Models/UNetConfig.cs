namespace Langevin.Models;

/// <summary>
/// Shape of a DDPM-layout U-Net (Ho et al. 2020, App. B): <see cref="NumResBlocks"/> ResBlocks per resolution on
/// the way down, one more on the way up, self-attention after the ResBlocks at <see cref="AttnResolutions"/>,
/// resolution halved between the <see cref="ChannelMults"/> levels. Serialises to JSON as a plain record.
/// </summary>
/// <param name="InChannels">Image channels in.</param>
/// <param name="OutChannels">Channels out (usually = InChannels: ε, x0, v or score).</param>
/// <param name="Resolution">Input height = width; must be divisible by 2^(levels − 1).</param>
/// <param name="BaseChannels">Channels at the first level; level i has BaseChannels·ChannelMults[i].</param>
/// <param name="ChannelMults">Channel multiplier per resolution level.</param>
/// <param name="NumResBlocks">ResBlocks per level on the down path.</param>
/// <param name="AttnResolutions">Resolutions (side length) that get single-head self-attention.</param>
/// <param name="Dropout">Dropout probability inside each ResBlock.</param>
/// <param name="GroupNormGroups">Groups of every GroupNorm; must divide every channel count.</param>
/// <param name="TimeEmbedInputDim">Size of the sinusoidal embedding of t.</param>
/// <param name="TimeEmbedDim">Width of the time-embedding MLP.</param>
/// <param name="Classes">K &gt; 0: class-conditional, a <see cref="ClassEmbedding"/> of K classes added to the time embedding.</param>
public sealed record UNetConfig(
    int InChannels,
    int OutChannels,
    int Resolution,
    int BaseChannels,
    IReadOnlyList<int> ChannelMults,
    int NumResBlocks,
    IReadOnlyList<int> AttnResolutions,
    double Dropout,
    int GroupNormGroups,
    int TimeEmbedInputDim = 32,
    int TimeEmbedDim = 128,
    int Classes = 0)
{
    /// <summary>
    /// The benchmark network of shared/bench/reference-unet.md: 1×28×28, 28 → 14 → 7, channels 32/64/64,
    /// attention at 7×7, 1,623,169 parameters; state-dict keys equal to the PyTorch peer's.
    /// </summary>
    public static UNetConfig Reference { get; } =
        new(1, 1, 28, 32, [1, 2, 2], 2, [7], 0.1, 8);

    /// <summary>
    /// The reference layout for other image shapes (e.g. 3×32×32 or 3×16×16): three levels, attention at the
    /// lowest (resolution / 4).
    /// </summary>
    public static UNetConfig ForImages(int channels, int resolution) =>
        Reference with { InChannels = channels, OutChannels = channels, Resolution = resolution, AttnResolutions = [resolution / 4] };

    /// <summary>Throws <see cref="ArgumentException"/> when the shape cannot be built.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"invalid UNetConfig: {message}");
        }
        Require(InChannels > 0 && OutChannels > 0, "channel counts must be positive");
        Require(BaseChannels > 0 && GroupNormGroups > 0, "BaseChannels and GroupNormGroups must be positive");
        Require(ChannelMults is { Count: > 0 } && ChannelMults.All(m => m > 0), "ChannelMults must be non-empty and positive");
        Require(NumResBlocks > 0, "NumResBlocks must be positive");
        Require(Dropout is >= 0 and < 1, "Dropout must be in [0, 1)");
        Require(TimeEmbedInputDim >= 2 && TimeEmbedInputDim % 2 == 0, "TimeEmbedInputDim must be even");
        Require(TimeEmbedDim > 0, "TimeEmbedDim must be positive");
        Require(Classes >= 0, "Classes must be ≥ 0");
        int factor = 1 << (ChannelMults.Count - 1);
        Require(Resolution > 0 && Resolution % factor == 0,
            $"Resolution {Resolution} must be divisible by 2^{ChannelMults.Count - 1} = {factor}");
        foreach (int mult in ChannelMults)
            Require(BaseChannels * mult % GroupNormGroups == 0,
                $"GroupNormGroups {GroupNormGroups} must divide every channel count ({BaseChannels * mult})");
    }

    /// <summary>Value equality, including the lists.</summary>
    public bool Equals(UNetConfig? other) =>
        other is not null
        && InChannels == other.InChannels && OutChannels == other.OutChannels && Resolution == other.Resolution
        && BaseChannels == other.BaseChannels && ChannelMults.SequenceEqual(other.ChannelMults)
        && NumResBlocks == other.NumResBlocks && AttnResolutions.SequenceEqual(other.AttnResolutions)
        && Dropout.Equals(other.Dropout) && GroupNormGroups == other.GroupNormGroups
        && TimeEmbedInputDim == other.TimeEmbedInputDim && TimeEmbedDim == other.TimeEmbedDim;

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InChannels); hash.Add(OutChannels); hash.Add(Resolution); hash.Add(BaseChannels);
        foreach (int m in ChannelMults) hash.Add(m);
        hash.Add(NumResBlocks);
        foreach (int r in AttnResolutions) hash.Add(r);
        hash.Add(Dropout); hash.Add(GroupNormGroups); hash.Add(TimeEmbedInputDim); hash.Add(TimeEmbedDim);
        return hash.ToHashCode();
    }
}
