using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Metrics;

/// <summary>The Gaussian with the data's mean and covariance: a baseline that knows only the first two moments.</summary>
public static class GaussianFit
{
    public static Tensor Sample(Tensor data, int n, Generator gen)
    {
        using var scope = NewDisposeScope();
        var x = data.to(ScalarType.Float64);
        var mean = x.mean([0]);
        var centred = x - mean;
        var cov = centred.T.matmul(centred) / (x.shape[0] - 1);
        var chol = linalg.cholesky(cov + eye(cov.shape[0], dtype: ScalarType.Float64) * 1e-9);
        var z = randn([n, x.shape[1]], generator: gen, dtype: ScalarType.Float64);
        return (mean + z.matmul(chol.T)).to(data.dtype).MoveToOuterDisposeScope();
    }
}
