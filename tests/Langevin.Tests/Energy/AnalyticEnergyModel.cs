using Langevin.Energy;
using Langevin.Methods;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Energy;

/// <summary>
/// An energy model with a closed-form energy and no weights, for the library tasks that take an <see cref="IEnergyMethod"/>:
/// chains start uniform (float64) on the box, and its own sampler is unadjusted Langevin of step ε at temperature 1 (SGLD with
/// α = ε²/2, σ = ε), so on a Gaussian its stationary law is known exactly.
/// </summary>
sealed class AnalyticEnergyModel(EnergyFunction energy, long[] itemShape, (double Low, double High) box, double epsilon = 0.1, int sampleSteps = 400,
    string data = "8gaussians") : SingleNetworkMethod(new TrainConfig { Data = data }, itemShape), IEnergyMethod
{
    public override nn.Module Network { get; } = nn.Sequential();
    public override int FunctionEvaluations => sampleSteps;
    public override IReadOnlyList<string> SamplerNames => ["ula"];
    public int SampleSteps => sampleSteps;
    public (double Low, double High) StartRange => box;

    /// <summary>(x − μ)²/(2s²) summed over the coordinates: N(μ, s²I).</summary>
    public static EnergyFunction Gaussian(double[] mu, double s) => x =>
        (x - tensor(mu, float64).to(x.dtype)).square().sum([1]) / (2 * s * s);

    public Tensor Energy(Tensor x) => energy(x);

    public Tensor InitialState(long n, Generator gen) =>
        rand([n, .. ItemShape], float64, generator: gen) * (box.High - box.Low) + box.Low;

    public Tensor Descend(EnergyFunction e, Tensor x, int steps, Generator gen, Action<int>? onStep = null, Func<Tensor, Tensor>? project = null) =>
        EnergySamplers.Sgld(e, x, steps, SgldSettings.Langevin(epsilon), gen, onStep, project);

    public override Tensor Loss(Batch batch, Generator gen) => throw new NotSupportedException("an analytic energy is not trained");

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null) => throw new NotSupportedException("sample it through ComposedSampling");

}
