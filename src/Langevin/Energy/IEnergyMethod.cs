using Langevin.Energy;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Methods;

namespace Langevin.Energy;

/// <summary>
/// A method whose model is an energy E(x) (IGEBM, the adversarially trained EBM): what compositional sampling
/// (<c>langevin sample --compose</c>), OOD scores (<c>langevin ood</c>) and inpainting by energy descent need.
/// </summary>
public interface IEnergyMethod : IGenerativeMethod
{
    /// <summary>E(x): [B, ...ItemShape] → [B], low on data (the network in eval mode; differentiable in x).</summary>
    Tensor Energy(Tensor x);

    /// <summary>Chain starts: [n, ...ItemShape] uniform over the range the method's chains start from, on the model's device.</summary>
    Tensor InitialState(long n, Generator gen);

    /// <summary>The range [Low, High] of every coordinate of <see cref="InitialState"/>: the box an annealed sampler starts uniform on.</summary>
    (double Low, double High) StartRange { get; }

    /// <summary>The chain length <see cref="IGenerativeMethod.Sample"/> uses by default.</summary>
    int SampleSteps { get; }

    /// <summary>
    /// The method's own sampler (SGLD for IGEBM, PGD for the adversarial EBM) run for <paramref name="steps"/> steps on any
    /// energy — its own, or a sum with other models' energies — from <paramref name="x"/>; <paramref name="project"/>, if
    /// given, is applied after every step.
    /// </summary>
    Tensor Descend(EnergyFunction energy, Tensor x, int steps, Generator gen, Action<int>? onStep = null, Func<Tensor, Tensor>? project = null);
}
