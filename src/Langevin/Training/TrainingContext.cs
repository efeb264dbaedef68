using static TorchSharp.torch;

namespace Langevin.Training;

/// <summary>
/// What a method's training step sees of the trainer (the manual-optimisation shape of PyTorch Lightning): the step and
/// stage, the step's generator, more batches when it needs them, and <see cref="Optimize"/>, which turns a loss into one
/// optimizer update of one component. The trainer owns seeding, logging, checkpoints and NaN stops; the method owns the
/// order of its updates (a GAN: <c>Optimize("disc", lossD)</c>, then <c>Optimize("gen", lossG)</c>).
/// </summary>
public interface ITrainingContext
{
    /// <summary>The global step, 1-based, counted across stages.</summary>
    long Step { get; }

    TrainingStage Stage { get; }

    /// <summary>The step within <see cref="Stage"/>, 1-based.</summary>
    long StageStep { get; }

    /// <summary>The step's generator (reseeded from (seed, step) before every step: all randomness must come from it).</summary>
    Generator Generator { get; }

    /// <summary>Another batch of the run's batch size, drawn from the step's generator (several critic steps per step).</summary>
    Batch NextBatch();

    /// <summary>
    /// One update of <paramref name="component"/>: a NaN/Inf loss stops training; else its gradients are zeroed, the loss
    /// back-propagated, clipped to the component's norm limit, and the component's optimizer steps at its learning rate;
    /// then its EMA is updated. Returns the gradient norm before clipping. Gradients that reach other components are left
    /// for their own update to clear.
    /// </summary>
    double Optimize(string component, Tensor loss);

    /// <summary>Stops training with one line: <paramref name="reason"/> and where the last good checkpoint is (a method's own
    /// divergence test, e.g. a GAN whose discriminator has won). Throws <see cref="TrainingDivergedException"/>.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    void Stop(string reason);
}
