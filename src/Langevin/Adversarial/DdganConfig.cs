namespace Langevin.Adversarial;

/// <summary>Settings of <see cref="DdganMethod"/>: the shared adversarial ones and the discretised VP process (Xiao et al. 2022, §3, App. C).</summary>
public sealed record DdganConfig : AdversarialConfig
{
    /// <summary>Denoising steps T (the paper: 4 for CIFAR-10; its ablation 1, 2, 4, 8).</summary>
    public int DenoisingSteps { get; init; } = 4;
    public double BetaMin { get; init; } = 0.1;
    public double BetaMax { get; init; } = 20;
    /// <summary>Images: layers of z's mapping network after its first (the code's --n_mlp, 4 for CIFAR-10).</summary>
    public int MappingLayers { get; init; } = 4;
    /// <summary>Images: first-layer channels of the DCGAN discriminator.</summary>
    public int DiscriminatorChannels { get; init; } = 64;

    protected override string Prefix => "ddgan";

    public override void Validate()
    {
        base.Validate();
        if (DenoisingSteps is < 1 or > 1000) throw new SettingException("ddgan.denoising_steps", DenoisingSteps, "must be in 1..1000");
        if (!(BetaMin > 0) || !(BetaMax > BetaMin)) throw new SettingException("ddgan.beta_max", $"{BetaMin}, {BetaMax}", "needs 0 < β_min < β_max");
        if (MappingLayers is < 0 or > 16) throw new SettingException("ddgan.mapping_layers", MappingLayers, "must be in 0..16");
        if (DiscriminatorChannels < 8 || DiscriminatorChannels % 8 != 0 || DiscriminatorChannels > 1024)
            throw new SettingException("ddgan.discriminator_channels", DiscriminatorChannels, "must be a multiple of 8 in 8..1024");
    }
}
