using Langevin.Models;
using Langevin.Objectives;
using Langevin.Processes;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// NCSN (Song &amp; Ermon 2019) with NCSNv2's techniques (Song &amp; Ermon 2020): a noise-conditional score network
/// trained by denoising score matching over geometric σ's, sampled by annealed Langevin dynamics.
/// </summary>
public sealed class NcsnMethod : SingleNetworkMethod, IDenoisingMethod
{
    readonly DenoisingScoreMatching _objective;

    public override nn.Module Network => ScoreModel.Network;
    public NoiseConditionalScoreModel ScoreModel { get; }
    public GeometricSigmas Sigmas { get; }
    public AnnealedLangevinSampler Sampler { get; }
    public override int FunctionEvaluations => Sampler.FunctionEvaluations;

    /// <summary>Builds from a config whose NCSN settings are all resolved (see <see cref="Resolve"/>).</summary>
    public NcsnMethod(TrainConfig config, long[] itemShape) : base(config, itemShape)
    {
        var n = config.Ncsn;
        if (n.SigmaMax is null || n.Levels is null || n.StepSize is null)
            throw new InvalidOperationException("NCSN settings must be resolved before building the method");
        Sigmas = new GeometricSigmas(n.SigmaMax.Value, n.SigmaMin, n.Levels.Value);
        Sigmas.Validate();
        Sampler = new AnnealedLangevinSampler(Sigmas, n.StepsPerLevel, n.StepSize.Value, n.FinalDenoise);
        ScoreModel = new NoiseConditionalScoreModel(Networks.Create(config.Network, itemShape));
        _objective = new DenoisingScoreMatching(Sigmas);
    }

    /// <summary>
    /// Fills unset NCSN settings with NCSNv2's techniques: σ_max from the largest pairwise distance (Technique 1),
    /// the number of levels from the dimension (Technique 2), and ε from T (Technique 4).
    /// </summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen)
    {
        var n = config.Ncsn;
        long dim = data[0].numel();
        double sigmaMax = n.SigmaMax ?? NcsnV2Techniques.SigmaMax(data, gen);
        if (!(sigmaMax > n.SigmaMin)) throw new DataException($"{config.Data}: the data's largest pairwise distance ({sigmaMax:G4}) is not above --sigma-min; is the dataset constant?");
        int levels = n.Levels ?? NcsnV2Techniques.Levels(sigmaMax, n.SigmaMin, dim);
        var sigmas = new GeometricSigmas(sigmaMax, n.SigmaMin, levels);
        double eps = n.StepSize ?? NcsnV2Techniques.StepSize(sigmas, n.StepsPerLevel);
        return config with { Ncsn = n with { SigmaMax = sigmaMax, Levels = levels, StepSize = eps } };
    }

    public override Tensor Loss(Batch batch, Generator gen) => _objective.Loss(ScoreModel, batch.X, gen);

    public override IReadOnlyList<string> SamplerNames { get; } = ["ald"];

    public IScoreModel Denoiser => ScoreModel;

    /// <summary>The VE process over the trained σ range, so the diffusion samplers can run on an NCSN too.</summary>
    public SamplingProcess Process => new(SamplingProcess.Ve, SigmaMin: Sigmas.SigmaMin, SigmaMax: Sigmas.SigmaMax);

    public Tensor ToData(Tensor x) => x.alias();

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null)
    {
        if (sampler?.Name is { } name && name != "ald")
            throw new UsageException($"--sampler: an NCSN model samples with: ald (got '{name}')");
        if (sampler?.Steps is not null || sampler?.Options?.Count > 0)
            throw new UsageException("sample: NCSN's own ald sampler uses the trained σ's, T and ε; to change them give --sampler with another sampler, e.g. --sampler heun --steps 50");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        long[] shape = [n, .. ItemShape];
        var device = Device;
        var z = noise ?? randn(shape, generator: gen, device: device);
        if (!z.shape.SequenceEqual(shape))
            throw new UsageException($"--noise: shape [{string.Join(", ", z.shape)}] does not match the model's samples [{string.Join(", ", shape)}]");
        var init = z.to(float32).to(device) * Sigmas.SigmaMax;   // x ~ N(0, σ₁² I): the prior of the widest level
        onFrame?.Invoke(init);
        return Sampler.Sample(ScoreModel, init, gen, onStep: onStep, onLevel: onFrame).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Fills the pixels where <paramref name="mask"/> is 0 given the rest of <paramref name="observed"/>.</summary>
    public Tensor Inpaint(Tensor observed, Tensor mask, Generator gen, Action<int, int>? onStep = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Network.eval();
        var device = Device;
        var init = randn(observed.shape, generator: gen, device: device) * Sigmas.SigmaMax;
        return Sampler.Inpaint(ScoreModel, observed.to(device), mask.to(device), init, gen, onStep).cpu().MoveToOuterDisposeScope();
    }

}
