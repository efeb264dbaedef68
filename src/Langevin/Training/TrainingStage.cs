namespace Langevin.Training;

/// <summary>
/// A phase of training: its name, its length in steps (null: until the run's --steps), and which components train in it
/// (null: every trainable one). IPF's alternating fits, "VAE then prior" or a discriminator warm-up are stages; the step
/// counter runs on across stages, and a checkpoint records the stage and the step within it.
/// </summary>
public sealed record TrainingStage(string Name, long? Steps = null, IReadOnlyList<string>? Trains = null)
{
    /// <summary>The one stage of a method that declares none.</summary>
    public static readonly TrainingStage Whole = new("train");

    public bool TrainsComponent(string name) => Trains is null || Trains.Contains(name);
}

/// <summary>Where a global step falls in a method's stages.</summary>
public sealed record StagePosition(int Index, TrainingStage Stage, long StageStep);

/// <summary>The stages of a run laid end to end over its steps.</summary>
public sealed class StagePlan
{
    readonly IReadOnlyList<TrainingStage> _stages;

    public StagePlan(IReadOnlyList<TrainingStage> stages, IReadOnlySet<string> trainable)
    {
        _stages = stages.Count == 0 ? [TrainingStage.Whole] : stages;
        for (int i = 0; i < _stages.Count; i++)
        {
            var s = _stages[i];
            if (s.Steps is < 1) throw new ArgumentException($"stage {s.Name}: its length must be ≥ 1 step");
            if (s.Steps is null && i != _stages.Count - 1) throw new ArgumentException($"stage {s.Name}: only the last stage may run until the end");
            if (s.Trains?.FirstOrDefault(c => !trainable.Contains(c)) is { } unknown)
                throw new ArgumentException($"stage {s.Name}: '{unknown}' is not a trainable component of the method");
        }
        if (_stages.Select(s => s.Name).Distinct().Count() != _stages.Count) throw new ArgumentException("stage names must differ");
    }

    public IReadOnlyList<TrainingStage> Stages => _stages;

    /// <summary>The stage of global step <paramref name="step"/> (1-based) and the step within it (1-based); steps after a last
    /// stage of fixed length stay in it.</summary>
    public StagePosition At(long step)
    {
        long start = 0;
        for (int i = 0; i < _stages.Count; i++)
        {
            var s = _stages[i];
            if (s.Steps is not { } len || step <= start + len || i == _stages.Count - 1) return new StagePosition(i, s, step - start);
            start += len;
        }
        throw new InvalidOperationException("unreachable");
    }
}
