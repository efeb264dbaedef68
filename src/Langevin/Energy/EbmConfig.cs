namespace Langevin.Energy;

/// <summary>
/// IGEBM settings (Du &amp; Mordatch 2019). Negatives come from K steps of SGLD, x ← x − α clip(∇E) + σ z, started from a
/// replay buffer; the stationary law of that chain is ∝ exp(−2αE/σ²), so α and σ set the temperature of the learned energy.
/// </summary>
public sealed record EbmConfig : Methods.MethodConfig
{
    /// <summary>sgld or esh: the negative-sample sampler during training.</summary>
    public string Sampler { get; init; } = "sgld";
    public int SgldSteps { get; init; } = 20;
    /// <summary>α: the step on −∇E.</summary>
    public double SgldStepSize { get; init; } = 1.0;
    /// <summary>σ: the standard deviation of the noise added per step.</summary>
    public double SgldNoise { get; init; } = 0.005;
    /// <summary>Elementwise clip of ∇E in SGLD steps (IGEBM §3.3); 0 disables it.</summary>
    public double SgldGradClip { get; init; } = 0.1;
    /// <summary>Clamp every SGLD state to the noise range [<see cref="InitLow"/>, <see cref="InitHigh"/>] (images stay in [−1, 1], as Lippe's tutorial 8 sampler does).</summary>
    public bool SgldClamp { get; init; }
    /// <summary>σ of Gaussian noise added to the data before the loss (Lippe's tutorial 8: 0.005, so the energy cannot key on exact pixel values); 0: none.</summary>
    public double DataNoise { get; init; }
    /// <summary>The image network: cnn (<see cref="Langevin.Energy.EnergyCnn"/>, IGEBM-style) or strided (<see cref="Langevin.Energy.StridedEnergyCnn"/>, Lippe's tutorial 8).</summary>
    public string EnergyNet { get; init; } = "cnn";
    /// <summary>ESH leapfrog step size (in data units) when <see cref="Sampler"/> is esh.</summary>
    public double EshStepSize { get; init; } = 0.05;
    public int BufferSize { get; init; } = 10000;
    public double ReinitProbability { get; init; } = 0.05;
    /// <summary>Coefficient of the L2 energy-magnitude regulariser α_reg (E(x⁺)² + E(x⁻)²) (IGEBM §3.3).</summary>
    public double EnergyRegularizer { get; init; } = 1.0;
    /// <summary>Spectral normalisation of every layer (null: resolved to on for images, off for points, where it kept 8gaussians' samples from moving off the noise).</summary>
    public bool? SpectralNorm { get; init; }
    /// <summary>Training stops when |E| of any positive or negative sample exceeds this.</summary>
    public double EnergyLimit { get; init; } = 1e4;
    /// <summary>Chain length of <c>langevin sample</c> from noise.</summary>
    public int? SampleSteps { get; init; }
    /// <summary>Range of the uniform noise that starts chains (resolved from the data: its bounding box; [−1, 1] for images).</summary>
    public double? InitLow { get; init; }
    public double? InitHigh { get; init; }
    /// <summary>Optional .npy that fills the replay buffer at the start of training.</summary>
    public string? BufferFile { get; init; }

    public override void Validate()
    {
        if (Sampler is not ("sgld" or "esh")) throw new SettingException("ebm.sampler", Sampler, $"must be sgld or esh");
        if (SgldSteps < 1) throw new SettingException("ebm.sgld_steps", SgldSteps, $"must be ≥ 1");
        if (!(SgldStepSize > 0)) throw new SettingException("ebm.sgld_step_size", SgldStepSize, $"must be > 0");
        if (!(SgldNoise >= 0)) throw new SettingException("ebm.sgld_noise", SgldNoise, $"must be ≥ 0");
        if (!(SgldGradClip >= 0)) throw new SettingException("ebm.sgld_grad_clip", SgldGradClip, $"must be ≥ 0");
        if (!(DataNoise >= 0)) throw new SettingException("ebm.data_noise", DataNoise, $"must be ≥ 0");
        if (!Langevin.Energy.EnergyNetworks.ImageNetworks.Contains(EnergyNet)) throw new SettingException("ebm.energy_net", EnergyNet, $"must be {string.Join(" or ", Langevin.Energy.EnergyNetworks.ImageNetworks)}");
        if (!(EshStepSize > 0)) throw new SettingException("ebm.esh_step_size", EshStepSize, $"must be > 0");
        if (BufferSize < 1) throw new SettingException("ebm.buffer_size", BufferSize, $"must be ≥ 1");
        if (ReinitProbability is < 0 or > 1) throw new SettingException("ebm.reinit_probability", ReinitProbability, $"must be in [0, 1]");
        if (!(EnergyRegularizer >= 0)) throw new SettingException("ebm.energy_regularizer", EnergyRegularizer, $"must be ≥ 0");
        if (!(EnergyLimit > 0)) throw new SettingException("ebm.energy_limit", EnergyLimit, $"must be > 0");
        if (SampleSteps is < 1) throw new SettingException("ebm.sample_steps", SampleSteps, $"must be ≥ 1");
    }
}
