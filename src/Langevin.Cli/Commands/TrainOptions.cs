using Langevin.Training;

namespace Langevin.Cli.Commands;

/// <summary>The options that set a <see cref="TrainConfig"/>, shared by `train` and `demo`.</summary>
public static class TrainOptions
{
    public static readonly IReadOnlyList<OptionSpec> Specs =
    [
        new("data", "SPEC", "training data (see 'langevin datasets'); default checkerboard"),
        new("method", "NAME", "ncsn (default), cld, walkjump"),
        new("config", "FILE.json", "start from this config (the format of RUN/config.json); options below override it"),
        new("steps", "N", "training steps"),
        new("batch", "N", "batch size"),
        new("lr", "X", "learning rate"),
        new("optimizer", "adam|adamw", "optimizer"),
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
        new("flip", null, "random horizontal flips of images"),
        new("limit", "N", "use only the first N training items"),
        new("net", "auto|mlp|unet", "network (auto: mlp for points, unet for images)"),
        new("width", "N", "MLP hidden width"),
        new("depth", "N", "MLP hidden layers"),
        new("fourier", "K", "MLP Fourier features sin/cos(2^k π x/4), k < K, of the input (0: off)"),
        new("channels", "N", "U-Net base channels"),
        new("mults", "1,2,2", "U-Net channel multipliers per resolution"),
        new("res-blocks", "N", "U-Net residual blocks per resolution"),
        new("attn", "R,...", "U-Net attention resolutions, e.g. 7 or 8,16"),
        new("dropout", "X", "U-Net dropout"),
        new("sigma-max", "X", "NCSN largest noise level (default: NCSNv2 Technique 1)"),
        new("sigma-min", "X", "NCSN smallest noise level"),
        new("levels", "N", "NCSN number of noise levels (default: NCSNv2 Technique 2)"),
        new("steps-per-level", "T", "annealed Langevin steps per level"),
        new("step-size", "EPS", "annealed Langevin ε (default: NCSNv2 Technique 4)"),
        new("no-final-denoise", null, "skip NCSNv2's final denoising step"),
        new("mass", "M", "CLD velocity mass M > 0 (Γ = 2√M; default 0.25)"),
        new("beta", "X", "CLD time scaling β > 0 (default 4)"),
        new("velocity-var", "G", "CLD initial velocity variance as a fraction γ of M (default 0.04)"),
        new("hsm-weighting", "eps|likelihood", "CLD hybrid score matching weighting (default eps)"),
        new("m", "M", "walk-jump: number of noisy measurements M ≥ 1 (default 4)"),
        new("sigma", "X", "walk-jump: measurement noise σ > 0 (default 1)"),
    ];

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
        c = c with
        {
            Data = a.String("data") ?? c.Data,
            Method = a.String("method") ?? c.Method,
            Steps = a.Long("steps") ?? c.Steps,
            BatchSize = a.Int("batch") ?? c.BatchSize,
            LearningRate = a.Double("lr") ?? c.LearningRate,
            Optimizer = a.String("optimizer") ?? c.Optimizer,
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
            Cld = c.Cld with
            {
                Mass = a.Double("mass") ?? c.Cld.Mass,
                Beta = a.Double("beta") ?? c.Cld.Beta,
                VelocityVariance = a.Double("velocity-var") ?? c.Cld.VelocityVariance,
                Weighting = a.String("hsm-weighting") ?? c.Cld.Weighting,
            },
            WalkJump = c.WalkJump with
            {
                Measurements = a.Int("m") ?? c.WalkJump.Measurements,
                Sigma = a.Double("sigma") ?? c.WalkJump.Sigma,
            },
        };
        c.Validate();
        return c;
    }
}
