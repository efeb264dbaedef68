using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>
/// Convolution that is correct on every CPU libtorch 2.10 meets. In float32 its oneDNN (3.7, jit:avx512_core and
/// jit:avx2 kernels) is wrong on an AMD EPYC with AVX-512 (2026-12-03; a U-Net with 8 channels went NaN at its second
/// step): the input gradient (backward-data) is wrong, at times NaN, when the output channels are not a multiple of 16
/// (1, 3, 8) and, for strided kernels, when the input channels are an odd multiple of 16 above 16 (48, 80); the 3×3
/// forward is 40% off when the input channels are 24, and in bfloat16 a 1×1 forward from one input channel is 50% off.
/// Zero-padding the channels (outputs to multiples of 16; inputs to multiples of 16, or of 32 above 16 when strided)
/// gives the right answers: the padded outputs are cut off again and the padded inputs are zero, so the result and
/// every gradient are conv2d's (tests/…/SafeConvolutionTests.cs compares with float64).
/// Disabling oneDNN instead made the reference U-Net's train step 7× slower (bench/ note in docs/benchmarks.md).
/// </summary>
public static class Convolution
{
    /// <summary>conv2d(x, W, b) with its channels zero-padded where oneDNN's kernels are wrong (see the class).</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, long stride = 1, long padding = 0)
    {
        long oc = weight.shape[0], ic = weight.shape[1];
        long extraOut = (16 - oc % 16) % 16, extraIn = stride > 1 && ic > 16 ? (32 - ic % 32) % 32 : (16 - ic % 16) % 16;
        if (extraOut == 0 && extraIn == 0) return nn.functional.conv2d(x, weight, bias, strides: [stride, stride], padding: [padding, padding]);
        using var scope = NewDisposeScope();
        Tensor w = weight, input = x;
        if (extraIn > 0)
        {
            w = cat([w, zeros([oc, extraIn, .. weight.shape[2..]], weight.dtype, weight.device)], 1);
            input = cat([x, zeros([x.shape[0], extraIn, .. x.shape[2..]], x.dtype, x.device)], 1);
        }
        if (extraOut > 0) w = cat([w, zeros([extraOut, .. w.shape[1..]], w.dtype, w.device)], 0);
        var b = bias is null || extraOut == 0 ? bias : cat([bias, zeros(extraOut, bias.dtype, bias.device)], 0);
        var y = nn.functional.conv2d(input, w, b, strides: [stride, stride], padding: [padding, padding]);
        return scope.MoveToOuter(extraOut == 0 ? y : y.narrow(1, 0, oc).contiguous());   // a strided view would reach GroupNorm and in-place adds
    }
}

/// <summary>
/// A 2-D convolution layer through <see cref="Convolution.Conv2d"/>: the parameters, their names (<c>weight</c>,
/// <c>bias</c>, as PyTorch's state dict) and their initialisation are nn.Conv2d's, so checkpoints and seeds are unchanged.
/// </summary>
public sealed class SafeConv2d : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter? bias;
    readonly long _stride, _padding;

    public SafeConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool hasBias = true) : base(nameof(SafeConv2d))
    {
        using var conv = nn.Conv2d(inChannels, outChannels, kernel, stride, padding, bias: hasBias);
        weight = new Parameter(conv.weight!.detach().clone());
        bias = hasBias ? new Parameter(conv.bias!.detach().clone()) : null;
        (_stride, _padding) = (stride, padding);
        RegisterComponents();
    }

    public Tensor Weight => weight;

    public override Tensor forward(Tensor x) => Convolution.Conv2d(x, weight, bias, _stride, _padding);
}
