namespace Langevin.Adversarial;

/// <summary>Settings of <see cref="GanMethod"/>: the shared adversarial ones and the width of the DCGAN networks.</summary>
public sealed record GanConfig : AdversarialConfig
{
    /// <summary>Width of the conv networks' first layer for images (DCGAN: 64).</summary>
    public int ImageChannels { get; init; } = 64;

    protected override string Prefix => "gan";

    public override void Validate()
    {
        base.Validate();
        if (ImageChannels < 8 || ImageChannels % 8 != 0) throw new SettingException("gan.image_channels", ImageChannels, "must be a positive multiple of 8");
    }
}
