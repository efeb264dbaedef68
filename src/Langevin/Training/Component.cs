using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// A named network of a method and how the trainer treats it. A method declares one or more (a GAN: "gen" and "disc");
/// the trainer gives every trainable component its own optimizer (<see cref="Optimizer"/>, default: the run's settings),
/// its own EMA of the weights (<see cref="EmaDecay"/>, default: the run's --ema; <see cref="Ema"/> false: none), its own
/// slot in checkpoints (keys <c>model/NAME/…</c>, <c>ema/NAME/…</c>, <c>optim/NAME/…</c>) and, under --bf16, its own
/// bfloat16 working copy. A component that is not <see cref="Trainable"/> (borrowed from another run, or fixed) gets none
/// of these and is not written to checkpoints.
/// </summary>
public sealed record Component(string Name, nn.Module Module)
{
    /// <summary>The name of the one component of a single-network method (its checkpoint keys are those of checkpoint format 1).</summary>
    public const string Default = "model";

    public bool Trainable { get; init; } = true;

    /// <summary>Null: the run's optimiser settings (<see cref="OptimizerSettings.From"/>).</summary>
    public OptimizerSettings? Optimizer { get; init; }

    /// <summary>Whether the trainer keeps an EMA of the weights (sampling then uses it); a GAN keeps one for G only.</summary>
    public bool Ema { get; init; } = true;

    /// <summary>Null: the run's --ema decay.</summary>
    public double? EmaDecay { get; init; }

    /// <summary>
    /// The component whose network this one is (its <see cref="Module"/> is the same object), trained by a second optimizer of
    /// this component's settings — TDPM's prior is its denoiser's U-Net at the truncation step, updated by the adversarial
    /// loss with an Adam of its own (Zheng et al. 2023, official code). Such a component has no weights, EMA or bf16 working
    /// copy of its own (the owner's serve: its EMA averages the weights whichever optimizer moved them); checkpoints keep its
    /// optimizer state only. Null: the component owns its network.
    /// </summary>
    public string? SharesWeightsOf { get; init; }

    /// <summary>Whether the component's weights are its own: trainable and not <see cref="SharesWeightsOf"/> another's.</summary>
    public bool HoldsWeights => Trainable && SharesWeightsOf is null;
}
