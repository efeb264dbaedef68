namespace Langevin.Energy;

/// <summary>
/// Settings of the adversarially trained EBM (Yin, Li &amp; Rohde, ECCV 2022, "Learning energy-based models with adversarial
/// training"): a binary classifier whose logit is −E, trained against negatives made by L2 PGD from uniform noise, with
/// the number of PGD steps raised by one whenever the classifier wins (rolling AUROC on the training batches above a threshold).
/// </summary>
public sealed record AdversarialEbmConfig : Methods.MethodConfig
{
    /// <summary>η: the length of one normalised-gradient PGD step (null: 1% of the data's range for points, 0.1 for images).</summary>
    public double? PgdStepSize { get; init; }
    /// <summary>PGD steps of the first training phase.</summary>
    public int PgdStartSteps { get; init; } = 1;
    /// <summary>The most PGD steps training reaches (then it stays there).</summary>
    public int PgdMaxSteps { get; init; } = 50;
    /// <summary>Raise the PGD steps when the mean AUROC (data vs PGD negatives) over the last <see cref="AucWindow"/> batches exceeds this.</summary>
    public double AucThreshold { get; init; } = 0.8;
    public int AucWindow { get; init; } = 50;
    /// <summary>PGD steps that push each data batch *up* the energy before the loss (Yin et al.'s in-distribution attack, their --indist_steps: 5 for CIFAR-10); 0: off.</summary>
    public int PgdDataSteps { get; init; }
    /// <summary>γ of the R1 penalty γ E‖∇ₓ logit(x⁺)‖² on the data (Mescheder et al. 2018), as the paper's --r1reg; 0: off.</summary>
    public double R1Regularizer { get; init; }
    /// <summary>PGD steps of <c>langevin sample</c> (null: <see cref="PgdMaxSteps"/>).</summary>
    public int? SampleSteps { get; init; }
    /// <summary>Range of the uniform noise that starts PGD, also the box PGD is clamped to (resolved from the data as for IGEBM).</summary>
    public double? InitLow { get; init; }
    public double? InitHigh { get; init; }
    /// <summary>The image network: cnn or strided (as IGEBM's <see cref="EbmConfig.EnergyNet"/>).</summary>
    public string EnergyNet { get; init; } = "cnn";
    /// <summary>Spectral normalisation of every layer (default off).</summary>
    public bool SpectralNorm { get; init; }

    public override void Validate()
    {
        if (PgdStepSize is { } eta && !(eta > 0)) throw new SettingException("adv_ebm.pgd_step_size", eta, $"must be > 0");
        if (PgdStartSteps < 1) throw new SettingException("adv_ebm.pgd_start_steps", PgdStartSteps, $"must be ≥ 1");
        if (PgdMaxSteps < PgdStartSteps) throw new SettingException("adv_ebm.pgd_max_steps", PgdMaxSteps, $"must be ≥ the start steps");
        if (AucThreshold is <= 0.5 or > 1) throw new SettingException("adv_ebm.auc_threshold", AucThreshold, $"must be in (0.5, 1]");
        if (PgdDataSteps < 0) throw new SettingException("adv_ebm.pgd_data_steps", PgdDataSteps, $"must be ≥ 0");
        if (AucWindow < 1) throw new SettingException("adv_ebm.auc_window", AucWindow, $"must be ≥ 1");
        if (!(R1Regularizer >= 0)) throw new SettingException("adv_ebm.r1_regularizer", R1Regularizer, $"must be ≥ 0");
        if (!Langevin.Energy.EnergyNetworks.ImageNetworks.Contains(EnergyNet)) throw new SettingException("adv_ebm.energy_net", EnergyNet, $"must be {string.Join(" or ", Langevin.Energy.EnergyNetworks.ImageNetworks)}");
        if (SampleSteps is < 1) throw new SettingException("adv_ebm.sample_steps", SampleSteps, $"must be ≥ 1");
    }
}
