using Langevin.Samplers;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>
/// What to draw from a trained method: N samples, by its own sampler (no <see cref="Sampler"/>, or one of its
/// <see cref="IGenerativeMethod.SamplerNames"/>) with <see cref="OwnOptions"/>, or — for a denoiser — by any catalog sampler
/// with <see cref="Catalog"/>'s options, in blocks of <see cref="Batch"/> (<see cref="SamplingBlocks"/>: item i's noise from
/// (seed, i), so <see cref="Shard"/>s of one draw concatenate to it exactly). <see cref="Noise"/>, if given, is the unit
/// Gaussian noise [N, …] that starts the chains.
/// </summary>
public sealed record DrawRequest
{
    public int N { get; init; } = 64;
    public string? Sampler { get; init; }
    public int? Steps { get; init; }
    /// <summary>The catalog sampler's options (its name and steps are <see cref="Sampler"/> and <see cref="Steps"/>).</summary>
    public SamplerRequest? Catalog { get; init; }
    /// <summary>Options of the method's own sampler, by name (e.g. "start" → "buffer" for an EBM).</summary>
    public IReadOnlyDictionary<string, string>? OwnOptions { get; init; }
    /// <summary>Items per block (default: <see cref="SamplingBlocks.DefaultBatch"/> for catalog samplers, all N for a method's own).</summary>
    public int? Batch { get; init; }
    /// <summary>Only this shard's blocks (their samples, in item order); null: all N.</summary>
    public SampleShard? Shard { get; init; }
    public Tensor? Noise { get; init; }
    /// <summary>Labels [N] and guidance (classifier-free and/or by a classifier): sampled by a catalog sampler on the guided
    /// denoiser (the method's own sampler when it is a catalog one, else ddim).</summary>
    public Guidance.ClassGuidance? Guidance { get; init; }
}

/// <summary>What a draw gave: the samples in data space (CPU), the NFE of one sample, a line about the run, and the catalog result when a catalog sampler ran.</summary>
public sealed record Draw(Tensor Samples, int Evaluations, string Sampler, string? Report, SamplerResult? CatalogResult) : IDisposable
{
    /// <summary>The index of the first sample among the request's N (non-zero for a shard).</summary>
    public int FirstItem { get; init; }

    /// <summary>Classifier forward + backward passes per sample (classifier guidance), besides <see cref="Evaluations"/>.</summary>
    public int ClassifierEvaluations { get; init; }

    public void Dispose() => Samples.Dispose();
}

/// <summary>Sampling a trained method with any sampler it supports, in batches: the logic of <c>langevin sample --run</c>.</summary>
public static class MethodSampling
{
    /// <summary>Whether the request runs a catalog sampler on the method's denoiser (else the method's own sampler).</summary>
    public static bool UsesCatalog(IGenerativeMethod method, DrawRequest r)
    {
        if (r.Sampler is null || method is not IDenoisingMethod) return false;
        bool own = r.Sampler == method.SamplerNames[0] && (r.Catalog?.Given.Count ?? 0) == 0 && r.Steps is null;
        bool ownOnly = method.SamplerNames.Contains(r.Sampler) && !SamplerCatalog.Names.Contains(r.Sampler);   // e.g. dmcmc's dlg
        return !own && !ownOnly;
    }

    /// <summary>The items per block of a draw: the request's batch, else all N for a method's own sampler (some take their N
    /// samples along shared chains) and <see cref="SamplingBlocks.DefaultBatch"/> for a catalog sampler.</summary>
    public static int BatchOf(IGenerativeMethod method, DrawRequest r) =>
        Math.Min(r.N, r.Batch ?? (r.Guidance is not null || UsesCatalog(method, r) ? SamplingBlocks.DefaultBatch(method.ItemShape) : r.N));

    /// <summary>Draws <see cref="DrawRequest.N"/> samples; <paramref name="onFrame"/> gets states along the way (data space) for a trajectory picture.</summary>
    public static Draw Run(IGenerativeMethod method, DrawRequest r, Generator gen, ProgressRunner progress, Action<Tensor>? onFrame = null)
    {
        if (r.N < 1) throw new SettingException("n", r.N, "must be ≥ 1");
        if (r.Noise is not null && r.Noise.shape[0] != r.N) throw SettingException.About("noise", "", $"the noise holds {r.Noise.shape[0]} items but {r.N} samples are asked for");
        if (r.Guidance is { } g)
        {
            if (method is not IDenoisingMethod denoising)
                throw SettingException.About("class", "", $"a {method.Config.Method} model cannot be guided: class labels and guidance apply to diffusion runs (ddpm, edm, sde)");
            if (g.Labels.shape[0] != r.N) throw SettingException.About("class", "", $"{g.Labels.shape[0]} labels for {r.N} samples");
            string sampler = r.Sampler ?? (SamplerCatalog.Names.Contains(method.SamplerNames[0]) ? method.SamplerNames[0] : "ddim");
            if (!SamplerCatalog.Names.Contains(sampler))
                throw SettingException.About("sampler", sampler, $"guided sampling runs the catalog's samplers ({string.Join(", ", SamplerCatalog.Names)}), not {sampler}");
            return Catalog(denoising, r with { Sampler = sampler }, gen, progress, onFrame);
        }
        return UsesCatalog(method, r) ? Catalog((IDenoisingMethod)method, r, gen, progress, onFrame) : Own(method, r, gen, progress, onFrame);
    }

    static Draw Own(IGenerativeMethod method, DrawRequest r, Generator gen, ProgressRunner progress, Action<Tensor>? onFrame)
    {
        if (r.Sampler is not null && method is not IDenoisingMethod && !method.SamplerNames.Contains(r.Sampler))
            throw SamplingRefusals.Sampler($"a {method.Config.Method} model", string.Join(", ", method.SamplerNames), r.Sampler);
        var settings = new SamplerSettings(r.Sampler, r.Steps, r.OwnOptions ?? new Dictionary<string, string>());
        var blocks = Blocks(r, BatchOf(method, r));
        int nfe = method.FunctionEvaluationsWith(settings);
        var outputs = new Tensor[blocks.Count];
        try
        {
            progress("sample", nfe * blocks.Count, "NFE", p =>
            {
                for (int i = 0; i < blocks.Count; i++)
                {
                    var (start, count) = blocks[i];
                    int done0 = i * nfe;
                    using var blockGen = SamplingBlocks.BlockGenerator(gen.initial_seed(), start, gen.device);
                    using var noise = r.Noise?.narrow(0, start, count);
                    outputs[i] = method.Sample(count, blockGen, noise, (done, _) => p.Report(done0 + done), i == 0 ? onFrame : null, settings);
                }
            });
            var samples = outputs.Length == 1 ? outputs[0] : cat(outputs, 0);
            onFrame?.Invoke(samples);
            return new Draw(samples, nfe, r.Sampler ?? method.SamplerNames[0], (method as ISamplingReport)?.LastSampling, null) { FirstItem = blocks[0].Start };
        }
        finally
        {
            if (outputs.Length > 1) foreach (var t in outputs) t?.Dispose();
        }
    }

    /// <summary>The blocks of the request's shard, checking the batch.</summary>
    static IReadOnlyList<(int Start, int Count)> Blocks(DrawRequest r, int batch)
    {
        if (batch < 1) throw new SettingException("batch", batch, "must be ≥ 1");
        return new SamplingBlocks(r.N, batch).For(r.Shard);
    }

    static Draw Catalog(IDenoisingMethod method, DrawRequest r, Generator gen, ProgressRunner progress, Action<Tensor>? onFrame)
    {
        var request = (r.Catalog ?? new SamplerRequest()) with { Sampler = r.Sampler!, Steps = r.Steps };
        if (r.OwnOptions is { } given) MethodSamplers.RefuseOwnOnly(given.ContainsKey);
        method.Eval();
        var blocks = Blocks(r, BatchOf(method, r));
        long seed = gen.initial_seed();
        if (r.Noise is { } noiseGiven && !noiseGiven.shape.Skip(1).SequenceEqual(method.ItemShape))
            throw SettingException.About("noise", "", $"shape [{string.Join(", ", noiseGiven.shape)}] does not match the model's samples [N, {string.Join(", ", method.ItemShape)}]");
        int expected = SamplerCatalog.ExpectedEvaluations(request, method.Process);
        // the trajectory of the first batch: at most ~100 steps, each state in the VP frame x/√(1 + σ²), which stays in range
        int every = Math.Max(1, SamplerCatalog.Plan(request, method.Process).Steps / 100);
        Action<SamplerStep>? onSample = onFrame is null ? null : s =>
        {
            if (s.Index % every == 0) onFrame(method.ToData(s.X * SamplingPlan.VpScale(s.Sigma)));
        };
        SamplerResult? result = null;
        var outputs = new Tensor[blocks.Count];
        int maxEvaluations = 0, classifierEvaluations = 0;
        try
        {
            progress($"sample ({request.Sampler})", expected * blocks.Count, "NFE", p =>
            {
                for (int i = 0; i < blocks.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    var (start, count) = blocks[i];
                    int done0 = i * expected;
                    var z = r.Noise?.narrow(0, start, count).to(float32) ?? SamplingBlocks.ItemNoise(seed, start, count, method.ItemShape);
                    using var blockGen = SamplingBlocks.BlockGenerator(seed, start, gen.device);
                    var guided = r.Guidance?.For(r.Guidance.Labels.narrow(0, start, count), method);
                    result = SamplerCatalog.Run(guided ?? method.Denoiser, z.to(gen.device), request, method.Process, blockGen,
                        (done, _) => p.Report(done0 + done), i == 0 ? onSample : null);
                    // guided: what the network and the classifier were asked for (CFG's doubled batch counts two)
                    maxEvaluations = Math.Max(maxEvaluations, guided?.NetworkEvaluations ?? result.Evaluations);
                    classifierEvaluations = Math.Max(classifierEvaluations, guided?.ClassifierEvaluations ?? 0);
                    outputs[i] = method.ToData(result.Output).cpu().MoveToOuterDisposeScope();
                }
            });
            onFrame?.Invoke(outputs[0]);
            var samples = cat(outputs, 0);
            result = result! with { Evaluations = maxEvaluations };
            string report = Describe(request, result) + (classifierEvaluations > 0 ? $" + classifier forward+backward {classifierEvaluations}" : "");
            return new Draw(samples, maxEvaluations, request.Sampler, report, result) { ClassifierEvaluations = classifierEvaluations, FirstItem = blocks[0].Start };
        }
        finally
        {
            foreach (var t in outputs) t?.Dispose();
        }
    }

    /// <summary>One line about a catalog sampler's run (its steps and NFE; ode-rk45: its tolerances).</summary>
    public static string Describe(SamplerRequest r, SamplerResult result) => r.Sampler == "ode-rk45"
        ? $"ode-rk45: adaptive (rtol {r.Rtol ?? 1e-5:G3}, atol {r.Atol ?? 1e-5:G3}), NFE {result.Evaluations}"
        : $"{r.Sampler}: {result.Plan.Steps} steps, NFE {result.Evaluations}";
}
