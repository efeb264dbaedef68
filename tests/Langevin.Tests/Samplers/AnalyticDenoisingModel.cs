using Langevin.Methods;
using Langevin.Models;
using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Tests.Samplers;

/// <summary>
/// A denoising method whose denoiser is a Gaussian mixture's exact one (no weights), over EDM's σ's by default: the oracle for
/// the library tasks that take an <see cref="IDenoisingMethod"/>. Data space is [−1, 1], as an image model's.
/// </summary>
sealed class AnalyticDenoisingModel(GaussianMixtureScore mixture, long[] itemShape, SamplingProcess? process = null) : SingleNetworkMethod(new TrainConfig(), itemShape), IDenoisingMethod
{
    public override nn.Module Network { get; } = nn.Sequential();
    public IScoreModel Denoiser => mixture;
    public SamplingProcess Process { get; } = process ?? new SamplingProcess(SamplingProcess.Edm);
    public override int FunctionEvaluations => 0;
    public override IReadOnlyList<string> SamplerNames => ["euler"];

    public Tensor ToData(Tensor x) => x.clamp(-1, 1);

    public override Tensor Loss(Batch batch, Generator gen) => throw new NotSupportedException("an analytic denoiser is not trained");

    public override Tensor Sample(int n, Generator gen, Tensor? noise = null, Action<int, int>? onStep = null, Action<Tensor>? onFrame = null,
        SamplerSettings? sampler = null) => throw new NotSupportedException("sample it through the catalog");

}
