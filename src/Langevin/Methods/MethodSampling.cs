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
    /// <summary>Items per block (default: for catalog samplers as many as <see cref="MemoryBudget"/> allows, or
    /// <see cref="SamplingBlocks.DefaultBatch"/> for a shard; all N for a method's own).</summary>
    public int? Batch { get; init; }
    /// <summary>Resident memory the process may reach while a catalog sampler draws (bytes; default <see cref="SamplingBudget.DefaultBytes"/>):
    /// sets the batch when none is given.</summary>
    public long? MemoryBudget { get; init; }
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

    /// <summary>Samples per block, and how that was chosen when no batch was given (<see cref="SamplingBudget"/>).</summary>
    public int Batch { get; init; }
    public string? BatchNote { get; init; }

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
    /// samples along shared chains), and for a catalog sampler <see cref="SamplingBlocks.DefaultBatch"/> when drawing a shard
    /// (every machine must cut the same blocks) and otherwise what the memory budget allows (<see cref="SamplingBudget"/>;
    /// <paramref name="note"/> says how it was chosen).</summary>
    public static int BatchOf(IGenerativeMethod method, DrawRequest r, out string? note)
    {
        note = null;
        if (r.Batch is { } given) return Math.Min(r.N, given);
        if (r.Guidance is null && !UsesCatalog(method, r)) return r.N;
        // a shard's blocks must be the same on every machine; a GPU's memory is not the process's resident memory
        if (r.Shard is not null || method is not IDenoisingMethod denoising || method.Device().type != DeviceType.CPU)
            return Math.Min(r.N, SamplingBlocks.DefaultBatch(method.ItemShape));
        method.Eval();
        var cost = SamplingBudget.Measure(denoising.Denoiser, method.ItemShape, method.Device());
        if (cost is null) return Math.Min(r.N, SamplingBlocks.DefaultBatch(method.ItemShape));
        long budget = r.MemoryBudget ?? SamplingBudget.DefaultBytes;
        // classifier-free guidance runs the network on two batches at once; classifier guidance adds the classifier's backward
        int calls = 1 + (r.Guidance?.Scales.Cfg > 0 ? 1 : 0) + (r.Guidance?.Classifier is not null ? 1 : 0);
        int batch = cost.BatchWithin(budget, calls);
        note = $"batch {Math.Min(r.N, batch)}: {cost.PerSampleBytes / 1e6:F2} MB per sample measured, {cost.ResidentBytes / 1e9:F2} GB resident, budget {budget / 1e9:F2} GB";
        return Math.Min(r.N, batch);
    }

    /// <summary><see cref="BatchOf(IGenerativeMethod, DrawRequest, out string?)"/> without the note.</summary>
    public static int BatchOf(IGenerativeMethod method, DrawRequest r) => BatchOf(method, r, out _);

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
        int batch = BatchOf(method, r);
        var blocks = Blocks(r, batch);
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
            return new Draw(samples, nfe, r.Sampler ?? method.SamplerNames[0], (method as ISamplingReport)?.LastSampling, null) { FirstItem = blocks[0].Start, Batch = batch };
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
        int batch = BatchOf(method, r, out string? batchNote);
        var blocks = Blocks(r, batch);
        long seed = gen.initial_seed();
        if (r.Noise is { } noiseGiven && !noiseGiven.shape.Skip(1).SequenceEqual(method.ItemShape))
            throw SettingException.About("noise", "", $"shape [{string.Join(", ", noiseGiven.shape)}] does not match the model's samples [N, {string.Join(", ", method.ItemShape)}]");
        // a learned prior (TDPM) starts the chains: its call counts, its plan must start where the prior ends, its latents are per item
        var prior = method as IPriorStartedMethod;
        var priorPlan = prior is null ? null : SamplerCatalog.Plan(request, method.Process);
        if (prior is not null)
        {
            if (r.Noise is not null) throw SettingException.About("noise", "", $"a {method.Config.Method} model starts its chains from its prior's latents, not from given noise");
            prior.CheckPlan(priorPlan!, request.Sampler);
        }
        int priorCalls = prior is null ? 0 : 1;
        int expected = SamplerCatalog.ExpectedEvaluations(request, method.Process) + priorCalls;
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
                    var z = prior is not null
                        ? prior.StartNoise(SamplingBlocks.ItemNoise(seed, start, count, prior.LatentShape, Seeds.PriorLatents),
                            SamplingBlocks.ItemNoise(seed, start, count, method.ItemShape, Seeds.PriorNoise), priorPlan!)
                        : r.Noise?.narrow(0, start, count).to(float32) ?? SamplingBlocks.ItemNoise(seed, start, count, method.ItemShape);
                    using var blockGen = SamplingBlocks.BlockGenerator(seed, start, gen.device);
                    using var perSample = Samplers.SamplerNoise.PerItem(seed, start, count, gen.device);   // the same samples at any batch
                    var guided = r.Guidance?.For(r.Guidance.Labels.narrow(0, start, count), method);
                    result = SamplerCatalog.Run(guided ?? method.Denoiser, z.to(gen.device), request, method.Process, blockGen,
                        (done, _) => p.Report(done0 + priorCalls + done), i == 0 ? onSample : null);
                    // guided: what the network and the classifier were asked for (CFG's doubled batch counts two)
                    maxEvaluations = Math.Max(maxEvaluations, (guided?.NetworkEvaluations ?? result.Evaluations) + priorCalls);
                    classifierEvaluations = Math.Max(classifierEvaluations, guided?.ClassifierEvaluations ?? 0);
                    outputs[i] = method.ToData(result.Output).cpu().MoveToOuterDisposeScope();
                }
            });
            onFrame?.Invoke(outputs[0]);
            var samples = cat(outputs, 0);
            result = result! with { Evaluations = maxEvaluations };
            string report = Describe(request, result) + (classifierEvaluations > 0 ? $" + classifier forward+backward {classifierEvaluations}" : "")
                + (prior is not null ? " (the prior's call and the chain's)" : "");
            return new Draw(samples, maxEvaluations, request.Sampler, report, result)
            {
                ClassifierEvaluations = classifierEvaluations, FirstItem = blocks[0].Start, Batch = batch, BatchNote = batchNote,
            };
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
