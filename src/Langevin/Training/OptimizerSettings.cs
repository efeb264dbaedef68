namespace Langevin.Training;

/// <summary>
/// How one component is optimised: Adam or AdamW (Kingma &amp; Ba 2015; Loshchilov &amp; Hutter 2019) with its own learning
/// rate, β's and weight decay, linear warm-up over its own first optimizer steps, and gradient-norm clipping.
/// A GAN gives its generator and discriminator different ones; a single-network method takes the run's (<see cref="From"/>).
/// </summary>
public sealed record OptimizerSettings(double LearningRate, double Beta1 = 0.9, double Beta2 = 0.999, double WeightDecay = 0,
    bool Decoupled = false, double GradClip = 1.0, int WarmupSteps = 0)
{
    /// <summary>The run's optimiser settings (train's --lr, --adam-betas, --weight-decay, --optimizer, --grad-clip, --warmup).</summary>
    public static OptimizerSettings From(TrainConfig c) =>
        new(c.LearningRate, c.AdamBeta1, c.AdamBeta2, c.WeightDecay, c.Optimizer == "adamw", c.GradClip, c.WarmupSteps);

    /// <summary>Learning rate at the component's n-th optimizer step (1-based): linear warm-up over <see cref="WarmupSteps"/>, then constant.</summary>
    public double LearningRateAt(long n) => WarmupSteps > 0 && n <= WarmupSteps ? LearningRate * n / WarmupSteps : LearningRate;

    public AdamOptimizer Create(IEnumerable<(string Name, TorchSharp.Modules.Parameter Param)> parameters) =>
        new(parameters, beta1: Beta1, beta2: Beta2, weightDecay: WeightDecay, decoupledWeightDecay: Decoupled);

    public void Validate(string component)
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new SettingException($"{component}.learning_rate", LearningRate, "must be > 0");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new SettingException($"{component}.adam_betas", $"{Beta1}, {Beta2}", "must both be in [0, 1)");
        if (GradClip < 0) throw new SettingException($"{component}.grad_clip", GradClip, "must be ≥ 0");
        if (WarmupSteps < 0) throw new SettingException($"{component}.warmup_steps", WarmupSteps, "must be ≥ 0");
    }
}
