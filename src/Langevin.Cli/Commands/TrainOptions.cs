using Langevin.Training;

namespace Langevin.Cli.Commands;

/// <summary>The options that set a <see cref="TrainConfig"/>, shared by `train` and `demo`.</summary>
public static class TrainOptions
{
    public static readonly IReadOnlyList<OptionSpec> Specs =
    [
        new("data", "SPEC", "training data (see 'langevin datasets'); default checkerboard"),
        new("method", "NAME", "ncsn (default), ddpm, edm, sde, ebm, cld, walkjump, adv-ebm or dmcmc (EDM denoiser + noise-level estimator)"),
        new("config", "FILE.json", "start from this config (the format of RUN/config.json); options below override it"),
        new("steps", "N", "training steps"),
        new("batch", "N", "batch size"),
        new("lr", "X", "learning rate"),
        new("optimizer", "adam|adamw", "optimizer"),
        new("adam-betas", "B1,B2", "Adam's β₁,β₂ (default 0.9,0.999; EBMs on images: 0,0.999)"),
        new("weight-decay", "X", "weight decay (L2 for adam, decoupled for adamw)"),
        new("warmup", "N", "linear learning-rate warm-up steps"),
        new("grad-clip", "X", "clip the gradient norm to X (0: off)"),
        new("ema", "X", "EMA decay of the weights used for sampling"),
        new("checkpoint-every", "N", "write RUN/checkpoints/step_N.safetensors every N steps"),
        new("sample-every", "N", "write RUN/samples/step_N.png every N steps (0: only at the end)"),
        new("log-every", "N", "append to RUN/log.jsonl every N steps"),
        new("seed", "N", "random seed"),
        new("threads", "N", "CPU threads (default: the core count)"),
        new("device", "cpu|cuda", "compute device"),
        new("bf16", null, "mixed precision: forward and backward in bfloat16, fp32 master weights, optimizer and EMA (fast on CPUs with AVX512_BF16; docs/benchmarks.md)"),
        new("flip", null, "random horizontal flips of images"),
        new("limit", "N", "use only the first N training items"),
        new("net", "auto|mlp|unet|adm", "network (auto: mlp for points, unet for images; adm: improved-DDPM U-Net)"),
        new("width", "N", "MLP hidden width"),
        new("depth", "N", "MLP hidden layers"),
        new("fourier", "K", "MLP Fourier features sin/cos(2^k π x/4), k < K, of the input (0: off)"),
        new("channels", "N", "U-Net base channels"),
        new("mults", "1,2,2", "U-Net channel multipliers per resolution"),
        new("res-blocks", "N", "U-Net residual blocks per resolution"),
        new("attn", "R,...", "U-Net attention resolutions, e.g. 7 or 8,16"),
        new("dropout", "X", "U-Net dropout"),
        new("heads", "N", "ADM attention heads"),
        new("no-scale-shift", null, "ADM: add the embedding instead of adaptive group norm"),
        new("no-biggan", null, "ADM: conv resampling instead of BigGAN up/down residual blocks"),
        new("sigma-max", "X", "NCSN largest noise level (default: NCSNv2 Technique 1)"),
        new("sigma-min", "X", "NCSN smallest noise level"),
        new("levels", "N", "NCSN number of noise levels (default: NCSNv2 Technique 2)"),
        new("steps-per-level", "T", "annealed Langevin steps per level"),
        new("step-size", "EPS", "annealed Langevin ε (default: NCSNv2 Technique 4)"),
        new("no-final-denoise", null, "skip NCSNv2's final denoising step"),
        new("timesteps", "T", "DDPM diffusion steps (default 1000)"),
        new("betas", "linear|cosine", "DDPM β schedule"),
        new("prediction", "eps|x0|v|score", "DDPM network target"),
        new("loss", "simple|hybrid", "DDPM loss (hybrid: + λ L_vlb with learned variances; needs --net adm)"),
        new("sigma-data", "X", "EDM σ_data (default: the data's standard deviation)"),
        new("sub-vp", null, "SDE: the sub-VP SDE instead of VP"),
        new("likelihood-weighting", null, "SDE: weight the DSM loss by g(t)² (maximum-likelihood training)"),
        new("importance-sampling", null, "SDE: draw t ∝ g²/std² (with --likelihood-weighting, VP only)"),
        new("sample-steps", "N", "steps of the method's own sampler: DDIM (ddpm), Heun (edm), SSCS (cld), EBM chain length"),
        new("ebm-sampler", "sgld|esh", "EBM negative sampler during training"),
        new("sgld-steps", "K", "EBM: sampler steps per training step (SGLD steps or ESH leapfrog steps)"),
        new("sgld-step", "A", "EBM: SGLD step α on −∇E"),
        new("sgld-noise", "S", "EBM: SGLD noise standard deviation σ per step (default 0.005; 25gaussians: 0.001)"),
        new("sgld-clip", "C", "EBM: clip ∇E elementwise to ±C in SGLD steps (0: off; default 0.1; 25gaussians: 0.01)"),
        new("sgld-clamp", null, "EBM: clamp SGLD states to the noise range ([−1, 1] for images) after every step (on by default for fashion-mnist; --sgld-clamp false: off)"),
        new("data-noise", "S", "EBM: add N(0, S²) noise to the training data before the loss (0: off)"),
        new("energy-net", "cnn|strided", "EBM/adv-ebm image network: cnn (IGEBM-style, full-resolution first layers, sum pooling) or strided (4 stride-2 convs + 2 linear layers, Lippe's tutorial 8; --channels sets its width, 32)"),
        new("esh-step", "E", "EBM: ESH leapfrog step size"),
        new("buffer-size", "N", "EBM: replay buffer size"),
        new("reinit", "P", "EBM: probability of re-initialising a buffer chain from noise"),
        new("energy-reg", "X", "EBM: L2 energy-magnitude regulariser coefficient"),
        new("energy-limit", "X", "EBM: stop when |E| exceeds X"),
        new("spectral-norm", null, "EBM: spectral normalisation (default: on for images, off for points)"),
        new("no-spectral-norm", null, "EBM: no spectral normalisation"),
        new("buffer-file", "B.npy", "EBM: fill the replay buffer from this .npy"),
        new("pgd-step", "η", "adv-ebm: length of one normalised-gradient PGD step (default: 1% of the data's range; images 0.5)"),
        new("pgd-steps", "K", "adv-ebm: the most PGD steps the curriculum reaches (default 50)"),
        new("pgd-start-steps", "K", "adv-ebm: PGD steps of the first phase (default 1)"),
        new("auc-threshold", "A", "adv-ebm: add a PGD step when the rolling AUROC of data vs negatives exceeds A (default 0.8)"),
        new("auc-window", "N", "adv-ebm: batches in that rolling AUROC (default 50)"),
        new("pgd-data-steps", "K", "adv-ebm: PGD steps that push each data batch up the energy before the loss (Yin et al.'s in-distribution attack; default 0)"),
        new("r1-reg", "G", "adv-ebm: R1 penalty G·E‖∇ₓlogit(x⁺)‖² on the data (default 0)"),
        new("mass", "M", "CLD velocity mass M > 0 (Γ = 2√M; default 0.25)"),
        new("beta", "X", "CLD time scaling β > 0 (default 4)"),
        new("velocity-var", "G", "CLD initial velocity variance as a fraction γ of M (default 0.04)"),
        new("hsm-weighting", "eps|likelihood", "CLD hybrid score matching weighting (default eps)"),
        new("m", "M", "walk-jump: number of noisy measurements M ≥ 1 (default 4)"),
        new("sigma", "X", "walk-jump: measurement noise σ > 0 (default 1)"),
        new("walkjump-param", "denoiser|energy", "walk-jump: x̂ = ȳ + (σ/√M)F(ȳ) from a denoiser network (default), or x̂ = ȳ − (σ²/M)∇f(ȳ) from a scalar energy (EBM network, autograd)"),
        new("denoiser", "RUN", "dmcmc: borrow RUN's trained denoiser (ddpm, edm, sde, ncsn; its latest checkpoint, EMA weights), frozen, and train only the noise-level estimator"),
    ];

    /// <summary>
    /// The starting config for a new run: the global defaults (tuned for NCSN), except that the diffusion methods on the
    /// toy 2-D sets start from what trained the checkerboard well here (docs/methods/ddpm.md, cld.md): batch 512, Adam
    /// 2e-3 with 100 warm-up steps, EMA 0.995, 6 Fourier features, 8,000 steps (20,000 for CLD). Flags override them.
    /// </summary>
    public static TrainConfig MethodDefaults(string method, string data)
    {
        var c = new TrainConfig();
        if (method is "ebm" or "adv-ebm" && Langevin.Data.Toy2D.Names.Contains(data))
            // EBMs on the toy sets: the runs measured in docs/methods/ebm.md and adv-ebm.md (1500 steps, batch 128, width 128);
            // the adversarial EBM takes 6 Fourier features (without them its classifier never separated 25gaussians)
            return c with { Steps = 1500, BatchSize = 128, Network = c.Network with { Width = 128, FourierFeatures = method == "adv-ebm" ? 6 : 0 } };
        if (method == "ebm" && data.StartsWith("fashion-mnist", StringComparison.Ordinal))
            return FashionMnistEbm(c);
        if (method is not ("ddpm" or "edm" or "sde" or "cld" or "dmcmc") || !Langevin.Data.Toy2D.Names.Contains(data)) return c;
        return c with
        {
            Steps = method == "cld" ? 20_000 : 8_000, BatchSize = 512, LearningRate = 2e-3, WarmupSteps = 100, EmaDecay = 0.995,
            Network = c.Network with { FourierFeatures = 6 },
        };
    }

    /// <summary>
    /// IGEBM on Fashion-MNIST: the MNIST recipe of Lippe's UvA tutorial 8 (docs/methods/ebm.md) — the strided CNN without
    /// spectral norm, SGLD 60 steps of α = 10 on ∇E clipped to ±0.03 with σ = 0.005 and states clamped to [−1, 1], a replay
    /// buffer of 8192 with 5% re-initialisation, α_reg = 0.1, data noise 0.005, Adam 1e-4 with β = (0, 0.999), gradient norm
    /// clipped to 0.1, batch 128, no EMA (samples come from the trained weights); sampling runs 256 SGLD steps from noise.
    /// </summary>
    static TrainConfig FashionMnistEbm(TrainConfig c) => c with
    {
        Steps = 1000, BatchSize = 128, LearningRate = 1e-4, AdamBeta1 = 0, AdamBeta2 = 0.999, GradClip = 0.1, EmaDecay = 0,
        CheckpointEvery = 100, SampleEvery = 100,
        Ebm = c.Ebm with
        {
            EnergyNet = "strided", SpectralNorm = false, SgldSteps = 60, SgldStepSize = 10, SgldGradClip = 0.03, SgldNoise = 0.005,
            SgldClamp = true, BufferSize = 8192, EnergyRegularizer = 0.1, DataNoise = 0.005, SampleSteps = 256,
        },
    };

    /// <summary>--adam-betas B1,B2 as two numbers (null when not given).</summary>
    static (double Beta1, double Beta2)? AdamBetas(ParsedArgs a)
    {
        if (a.String("adam-betas") is not { } s) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 2
            && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double b1)
            && double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double b2))
            return (b1, b2);
        throw new UsageException($"--adam-betas must be two numbers B1,B2, e.g. 0,0.999 (got '{s}')");
    }

    public static TrainConfig Build(ParsedArgs a, TrainConfig defaults)
    {
        var c = defaults;
        if (a.String("config") is { } file)
        {
            if (!File.Exists(file)) throw new UsageException($"--config: {file} not found");
            c = TrainConfig.FromJson(File.ReadAllText(file), file);
        }
        var n = c.Network;
        var s = c.Ncsn;
        var d = c.Ddpm;
        var e = c.Ebm;
        c = c with
        {
            Data = a.String("data") ?? c.Data,
            Method = a.String("method") ?? c.Method,
            Steps = a.Long("steps") ?? c.Steps,
            BatchSize = a.Int("batch") ?? c.BatchSize,
            LearningRate = a.Double("lr") ?? c.LearningRate,
            Optimizer = a.String("optimizer") ?? c.Optimizer,
            AdamBeta1 = AdamBetas(a)?.Beta1 ?? c.AdamBeta1,
            AdamBeta2 = AdamBetas(a)?.Beta2 ?? c.AdamBeta2,
            WeightDecay = a.Double("weight-decay") ?? c.WeightDecay,
            WarmupSteps = a.Int("warmup") ?? c.WarmupSteps,
            GradClip = a.Double("grad-clip") ?? c.GradClip,
            EmaDecay = a.Double("ema") ?? c.EmaDecay,
            CheckpointEvery = a.Int("checkpoint-every") ?? c.CheckpointEvery,
            SampleEvery = a.Int("sample-every") ?? c.SampleEvery,
            LogEvery = a.Int("log-every") ?? c.LogEvery,
            Seed = a.Int("seed") ?? c.Seed,
            Threads = a.Int("threads") ?? c.Threads,
            Device = a.String("device") ?? c.Device,
            Bf16 = a.Flag("bf16") || c.Bf16,
            HorizontalFlip = a.Flag("flip") || c.HorizontalFlip,
            DataLimit = a.Int("limit") ?? c.DataLimit,
            Network = n with
            {
                Kind = a.String("net") ?? n.Kind,
                Width = a.Int("width") ?? n.Width,
                Depth = a.Int("depth") ?? n.Depth,
                FourierFeatures = a.Int("fourier") ?? n.FourierFeatures,
                BaseChannels = a.Int("channels") ?? n.BaseChannels,
                ChannelMults = a.IntList("mults") ?? n.ChannelMults,
                NumResBlocks = a.Int("res-blocks") ?? n.NumResBlocks,
                AttnResolutions = a.IntList("attn") ?? n.AttnResolutions,
                Dropout = a.Double("dropout") ?? n.Dropout,
                Adm = n.Adm with
                {
                    Heads = a.Int("heads") ?? n.Adm.Heads,
                    ScaleShiftNorm = !a.Flag("no-scale-shift") && n.Adm.ScaleShiftNorm,
                    ResblockUpdown = !a.Flag("no-biggan") && n.Adm.ResblockUpdown,
                },
            },
            Ncsn = s with
            {
                SigmaMax = a.Double("sigma-max") ?? s.SigmaMax,
                SigmaMin = a.Double("sigma-min") ?? s.SigmaMin,
                Levels = a.Int("levels") ?? s.Levels,
                StepsPerLevel = a.Int("steps-per-level") ?? s.StepsPerLevel,
                StepSize = a.Double("step-size") ?? s.StepSize,
                FinalDenoise = !a.Flag("no-final-denoise") && s.FinalDenoise,
            },
            Ddpm = d with
            {
                Timesteps = a.Int("timesteps") ?? d.Timesteps,
                Betas = a.String("betas") ?? d.Betas,
                Prediction = a.String("prediction") ?? d.Prediction,
                Loss = a.String("loss") ?? d.Loss,
                SigmaData = a.Double("sigma-data") ?? d.SigmaData,
                SampleSteps = a.Int("sample-steps") ?? d.SampleSteps,
                SubVp = a.Flag("sub-vp") || d.SubVp,
                LikelihoodWeighting = a.Flag("likelihood-weighting") || d.LikelihoodWeighting,
                ImportanceSampling = a.Flag("importance-sampling") || d.ImportanceSampling,
            },
            Ebm = e with
            {
                Sampler = a.String("ebm-sampler") ?? e.Sampler,
                SgldSteps = a.Int("sgld-steps") ?? e.SgldSteps,
                SgldStepSize = a.Double("sgld-step") ?? e.SgldStepSize,
                SgldNoise = a.Double("sgld-noise") ?? e.SgldNoise,
                SgldGradClip = a.Double("sgld-clip") ?? e.SgldGradClip,
                SgldClamp = a.OptionalFlag("sgld-clamp") ?? e.SgldClamp,
                DataNoise = a.Double("data-noise") ?? e.DataNoise,
                EnergyNet = a.String("energy-net") ?? e.EnergyNet,
                EshStepSize = a.Double("esh-step") ?? e.EshStepSize,
                BufferSize = a.Int("buffer-size") ?? e.BufferSize,
                ReinitProbability = a.Double("reinit") ?? e.ReinitProbability,
                EnergyRegularizer = a.Double("energy-reg") ?? e.EnergyRegularizer,
                EnergyLimit = a.Double("energy-limit") ?? e.EnergyLimit,
                SpectralNorm = a.Flag("spectral-norm") ? true : a.Flag("no-spectral-norm") ? false : e.SpectralNorm,
                SampleSteps = a.Int("sample-steps") ?? e.SampleSteps,
                BufferFile = a.String("buffer-file") ?? e.BufferFile,
            },
            AdversarialEbm = c.AdversarialEbm with
            {
                PgdStepSize = a.Double("pgd-step") ?? c.AdversarialEbm.PgdStepSize,
                PgdMaxSteps = a.Int("pgd-steps") ?? c.AdversarialEbm.PgdMaxSteps,
                PgdStartSteps = a.Int("pgd-start-steps") ?? c.AdversarialEbm.PgdStartSteps,
                AucThreshold = a.Double("auc-threshold") ?? c.AdversarialEbm.AucThreshold,
                AucWindow = a.Int("auc-window") ?? c.AdversarialEbm.AucWindow,
                R1Regularizer = a.Double("r1-reg") ?? c.AdversarialEbm.R1Regularizer,
                PgdDataSteps = a.Int("pgd-data-steps") ?? c.AdversarialEbm.PgdDataSteps,
                SampleSteps = a.Int("sample-steps") ?? c.AdversarialEbm.SampleSteps,
            },
            Cld = c.Cld with
            {
                Mass = a.Double("mass") ?? c.Cld.Mass,
                Beta = a.Double("beta") ?? c.Cld.Beta,
                VelocityVariance = a.Double("velocity-var") ?? c.Cld.VelocityVariance,
                Weighting = a.String("hsm-weighting") ?? c.Cld.Weighting,
                SamplerSteps = a.Int("sample-steps") ?? c.Cld.SamplerSteps,
            },
            WalkJump = c.WalkJump with
            {
                Measurements = a.Int("m") ?? c.WalkJump.Measurements,
                Sigma = a.Double("sigma") ?? c.WalkJump.Sigma,
                Parameterisation = a.String("walkjump-param") ?? c.WalkJump.Parameterisation,
            },
        };
        if (a.String("denoiser") is { } denoiser)
        {
            if (c.Method != "dmcmc") throw new UsageException($"--denoiser applies to --method dmcmc only (got --method {c.Method})");
            c = c with { Dmcmc = c.Dmcmc with { Denoiser = denoiser } };
        }
        c.Validate();
        return c;
    }
}
