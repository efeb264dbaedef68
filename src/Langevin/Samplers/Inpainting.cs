using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;
using Langevin.Energy;
using Langevin.Guidance;

namespace Langevin.Samplers;

/// <summary>How a method fills unknown pixels (<see cref="Inpainting"/>).</summary>
public enum InpaintingPath
{
    /// <summary>NCSN: annealed Langevin with the known pixels noised to each level (<see cref="IInpaintingMethod.Inpaint"/>).</summary>
    AnnealedLangevin,

    /// <summary>A denoiser over a process: replacement sampling with Euler-ancestral steps over the plan's σ's (<see cref="DiffusionTasks.Inpaint"/>).</summary>
    Replacement,

    /// <summary>An energy model: its own sampler on E from its chain start, the known pixels put back after every step.</summary>
    EnergyDescent,
}

/// <summary>
/// Inpainting of images by a trained method, whichever kind it is: NCSN by annealed Langevin (Song &amp; Ermon 2019, §5),
/// diffusion models by replacement (Song et al. 2021, App. I.2), energy models by projected energy descent (Du &amp; Mordatch
/// 2019, §4.2: SGLD with the known pixels clamped).
/// </summary>
public static class Inpainting
{
    /// <summary>Euler-ancestral steps of the replacement sampler when none are given.</summary>
    public const int DefaultReplacementSteps = 100;

    /// <summary>The path <paramref name="method"/> inpaints by, or null if it cannot.</summary>
    public static InpaintingPath? PathFor(IGenerativeMethod method) => method switch
    {
        IInpaintingMethod => InpaintingPath.AnnealedLangevin,
        IEnergyMethod => InpaintingPath.EnergyDescent,
        IPriorStartedMethod => null,            // replacement starts from unit noise at σ_max; a truncated chain starts from its prior
        IDenoisingMethod => InpaintingPath.Replacement,
        _ => null,
    };

    /// <summary>What <see cref="Run"/> reports progress in: network evaluations (annealed Langevin, replacement) or descent steps (energy).</summary>
    public static int ProgressTotal(IGenerativeMethod method, int? steps = null) => Path(method, steps) switch
    {
        InpaintingPath.AnnealedLangevin => method.FunctionEvaluations,
        InpaintingPath.EnergyDescent => steps ?? ((IEnergyMethod)method).SampleSteps,
        _ => ReplacementPlan((IDenoisingMethod)method, steps).Steps,
    };

    /// <summary>
    /// Fills the pixels of <paramref name="observed"/> [N, ...ItemShape] (in [−1, 1]) where <paramref name="mask"/> is 0 (see
    /// <see cref="InpaintingMask"/>), keeping those where it is 1; returns them on the CPU in data space. <paramref name="steps"/>:
    /// the replacement sampler's steps (default <see cref="DefaultReplacementSteps"/>) or the energy descent's (default the
    /// method's sampling length); NCSN uses its trained σ's and T. <paramref name="gen"/> lives on the method's device;
    /// <paramref name="onProgress"/> counts what <see cref="ProgressTotal"/> does. <paramref name="guidance"/> (diffusion runs, one
    /// label per image): fill each image as its class, by the guided denoiser (classifier-free or classifier guidance).
    /// </summary>
    public static Tensor Run(IGenerativeMethod method, Tensor observed, Tensor mask, Generator gen, int? steps = null, Action<int>? onProgress = null,
        ClassGuidance? guidance = null)
    {
        var path = Path(method, steps);
        if (guidance is not null && path != InpaintingPath.Replacement)
            throw SettingException.About("class", "", $"a {method.Config.Method} model inpaints without classes; class labels and guidance apply to diffusion runs (ddpm, edm, sde)");
        if (guidance is not null && guidance.Labels.shape[0] != observed.shape[0])
            throw SettingException.About("class", "", $"{guidance.Labels.shape[0]} labels for {observed.shape[0]} images");
        if (!observed.shape.Skip(1).SequenceEqual(method.ItemShape))
            throw new UsageException($"inpainting: images [{string.Join(", ", observed.shape.Skip(1))}] do not match the model's [{string.Join(", ", method.ItemShape)}]");
        if (!mask.shape.SequenceEqual(observed.shape)) throw new ArgumentException("the mask must have the images' shape", nameof(mask));
        if (path == InpaintingPath.AnnealedLangevin)
            return ((IInpaintingMethod)method).Inpaint(observed, mask, gen, (done, _) => onProgress?.Invoke(done));
        using var scope = NewDisposeScope();
        method.Eval();
        var known = observed.to(float32).to(gen.device);
        var m = mask.to(float32).to(gen.device);
        if (path == InpaintingPath.EnergyDescent)
        {
            var ebm = (IEnergyMethod)method;
            var x = known * m + ebm.InitialState(known.shape[0], gen) * (1 - m);
            x = ebm.Descend(ebm.Energy, x, ProgressTotal(method, steps), gen, onProgress, project: y => known * m + y * (1 - m));
            return x.detach().clamp(-1, 1).cpu().MoveToOuterDisposeScope();
        }
        var denoising = (IDenoisingMethod)method;
        var plan = ReplacementPlan(denoising, steps);
        var init = randn(known.shape, generator: gen, device: gen.device) * plan.InitialScale;
        Models.IScoreModel denoiser = guidance?.For(guidance.Labels.to(gen.device), denoising) ?? denoising.Denoiser;
        var filled = DiffusionTasks.Inpaint(denoiser, known, m, init, plan.Sigmas, gen, (done, _) => onProgress?.Invoke(done));
        return denoising.ToData(filled).cpu().MoveToOuterDisposeScope();
    }

    static InpaintingPath Path(IGenerativeMethod method, int? steps)
    {
        var path = PathFor(method) ?? throw new UsageException($"inpainting: method '{method.Config.Method}' does not support inpainting");
        if (method.ItemShape.Length != 3) throw new UsageException("inpainting: the model was trained on points, not images");
        if (path == InpaintingPath.AnnealedLangevin && steps is not null)
            throw new UsageException("inpainting: NCSN inpaints with its trained σ's and steps per level; a step count does not apply");
        if (steps is < 1) throw new UsageException($"inpainting: the step count must be ≥ 1 (got {steps})");
        return path;
    }

    static SamplingPlan ReplacementPlan(IDenoisingMethod method, int? steps) =>
        SamplerCatalog.Plan(new SamplerRequest { Sampler = "euler-ancestral", Steps = steps ?? DefaultReplacementSteps }, method.Process);
}
