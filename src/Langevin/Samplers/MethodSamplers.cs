using static Langevin.Samplers.OptionRules;

namespace Langevin.Samplers;

/// <summary>
/// A method's own sampler as data (NCSN's ald, an EBM's SGLD/ESH, adv-ebm's PGD, walk-jump, dmcmc's DLG, CLD's four): its
/// name, the method (as <c>--method</c> names it) whose runs it samples, what it is, and the typed options it takes, which
/// <c>langevin sample --help</c> lists beside the catalog's. The method runs it; <see cref="Read"/> turns the string options
/// a method receives (<c>SamplerSettings.Options</c>) into a typed <see cref="SamplerRequest"/>.
/// </summary>
public sealed record MethodSampler(string Name, string Method, string Summary, IReadOnlyList<SamplerOption> Options)
    : SamplerDescription(Name, Summary, Options)
{
    readonly string? _appliesTo;

    /// <summary>Whom an option only this sampler takes belongs to, in the one-line refusal "--friction applies to …".</summary>
    public string AppliesTo { get => _appliesTo ?? $"the {Name} sampler only (a {Method} run's own)"; init => _appliesTo = value; }

    /// <summary>Whether --steps sets its length (NCSN's ald follows the trained σ's; CLD's ode-rk45 is adaptive).</summary>
    public bool TakesSteps { get; init; } = true;

    /// <summary>
    /// The typed request for <paramref name="steps"/> and <paramref name="given"/> (option name → text): steps it does not
    /// take, an option it does not declare, a text it cannot read or a value out of range is a one-line <see cref="UsageException"/>.
    /// </summary>
    public SamplerRequest Read(int? steps, IReadOnlyDictionary<string, string>? given)
    {
        var request = SamplerRequest.For(Name, steps);
        string? bad = steps is not null && !TakesSteps ? "steps" : given?.Keys.FirstOrDefault(k => !Takes(k));
        if (bad is not null)
        {
            var takes = Options.Select(o => o.Setting).Prepend(TakesSteps ? "steps" : null).OfType<string>().ToList();
            throw SettingException.Sentence(SamplerOption.SettingOf(bad), bad == "steps" ? steps : given![bad],
                $"does not apply to the {Name} sampler ({(takes.Count == 0 ? "it takes no options" : $"it takes: {string.Join(", ", takes)}")})");
        }
        if (given is null) return request;
        foreach (var option in Options)
            if (given.TryGetValue(option.Name, out var text))
            {
                var value = option.Parse(text);
                option.CheckValue(value);
                request = request.With(option.Name, value);
            }
        return request;
    }
}

/// <summary>
/// The methods' own samplers and their options, declared with the same <see cref="SamplerOption"/> as the catalog's
/// (<see cref="SamplerOptions"/>). Defaults that come from the run are described, not given (<see cref="SamplerOption{T}.DefaultDescription"/>);
/// a method reads them with <see cref="SamplerRequest.GetOr"/>.
/// </summary>
public static class MethodSamplers
{
    public static readonly SamplerOption<double> SgldStepSize = SamplerOption.Number("step-size", "α", "SGLD's α") with
        { Rule = Above(0.0), DefaultDescription = "the run's --sgld-step" };
    public static readonly SamplerOption<double> SgldFinalStepSize = SamplerOption.Number("final-step-size", "α",
        "SGLD's α decays geometrically from --step-size to this over the chain (Welling & Teh's decreasing steps)") with
        { Rule = Above(0.0), DefaultDescription = "none, a constant α" };
    public static readonly SamplerOption<string> Start = SamplerOption.Text("start", "noise|buffer",
        "start the chains from uniform noise or from --n distinct rows of the run's replay buffer (its persistent chains)") with
        { Default = "noise", Rule = new(s => s is "noise" or "buffer", "must be noise or buffer") };

    public static readonly SamplerOption<double> WalkStepSize = SamplerOption.Number("step-size", "δ", "BAOAB step δ") with
        { Rule = Above(0.0), DefaultDescription = "0.5σ" };
    public static readonly SamplerOption<double> Friction = SamplerOption.Number("friction", "γ", "BAOAB friction γ") with
        { Rule = Above(0.0), DefaultDescription = "1/σ; the paper's MNIST runs use 0.5/σ" };

    public static readonly SamplerOption<double> DlgStepSize = SamplerOption.Number("step-size", "η", "Langevin step η") with
        { Rule = Above(0.0), DefaultDescription = "the run's, 0.01" };
    public static readonly SamplerOption<int> GibbsSteps = SamplerOption.Integer("gibbs-steps", "K",
        "Langevin–Gibbs steps per emitted sample; --steps sets its Heun hand-off steps") with { Rule = AtLeast(1), DefaultDescription = "the run's, 10" };
    public static readonly SamplerOption<int> BurnIn = SamplerOption.Integer("burn-in", "K", "Gibbs steps before the first sample") with
        { Rule = AtLeast(0), DefaultDescription = "the run's, 20" };
    public static readonly SamplerOption<int> Chains = SamplerOption.Integer("chains", "C", "parallel chains, each emitting ⌈n/C⌉ samples") with
        { Rule = AtLeast(1), DefaultDescription = "the run's, 100" };
    public static readonly SamplerOption<string> SigmaUpdate = SamplerOption.Text("sigma-update", "mode|draw",
        "σ ← the estimator's posterior mode (the paper's code) or a draw σ ~ p(σ|x)") with
        { Default = "mode", Rule = new(s => s is "mode" or "draw", "must be mode or draw") };
    public static readonly SamplerOption<string> HandOff = SamplerOption.Text("hand-off", "lowest|last",
        "hand the state of smallest σ among the Gibbs steps to Heun (the paper's) or the last state") with
        { Default = "lowest", Rule = new(s => s is "lowest" or "last", "must be lowest or last") };
    public static readonly SamplerOption<int> InitSteps = SamplerOption.Integer("init-steps", "N",
        "Heun σ's of the start-up run from σ_max that begins each chain") with { Rule = AtLeast(1), Default = 18 };
    public static readonly SamplerOption<double> InitNoise = SamplerOption.Number("init-noise", "S",
        "standard deviation of the noise added to the start-up samples") with { Rule = AtLeast(0.0), Default = 0.5, DefaultDescription = "0.5, the paper's" };

    public static readonly MethodSampler Ald = new("ald", "ncsn", "annealed Langevin dynamics over the run's σ's, T and ε (Song & Ermon 2019/2020)", []) { TakesSteps = false };
    public static readonly MethodSampler Dlg = new("dlg", "dmcmc", "denoising Langevin–Gibbs: MCMC over (x, σ), handed to Heun (Kim & Ye 2022)",
        [DlgStepSize, GibbsSteps, BurnIn, Chains, SigmaUpdate, HandOff, InitSteps, InitNoise]);
    public static readonly MethodSampler WalkJump = new("walk-jump", "walkjump", "walk on the noisy manifold with BAOAB, jump with the denoiser (Saremi & Srivastava 2022)",
        [WalkStepSize, Friction]);
    public static readonly MethodSampler Sgld = new("sgld", "ebm", "stochastic gradient Langevin dynamics on the energy (Du & Mordatch 2019)",
        [SgldStepSize, SgldFinalStepSize, Start]) { AppliesTo = "an EBM run's SGLD only" };
    public static readonly MethodSampler Esh = new("esh", "ebm", "energy-sampling Hamiltonian dynamics (Ver Steeg & Galstyan 2021)", [Start]);
    public static readonly MethodSampler Pgd = new("pgd", "adv-ebm", "projected gradient descent on the energy (Yin et al. 2022)", []);
    public static readonly MethodSampler Sscs = new("sscs", "cld", "symmetric splitting CLD sampler (Dockhorn et al. 2022)", []);
    public static readonly MethodSampler CldEulerMaruyama = new("em", "cld", "Euler–Maruyama on CLD's reverse SDE", []);
    public static readonly MethodSampler CldOde = new("ode", "cld", "Euler on CLD's probability-flow ODE", []);
    public static readonly MethodSampler CldRk45 = new("ode-rk45", "cld", "CLD's probability-flow ODE with adaptive Dormand–Prince (tolerances 1e-5)", []) { TakesSteps = false };

    /// <summary>Every method's own sampler; the order is that of help and of the refusal of their options by the catalog's samplers.</summary>
    public static readonly IReadOnlyList<MethodSampler> All = [Ald, Dlg, WalkJump, Sgld, Esh, Pgd, Sscs, CldEulerMaruyama, CldOde, CldRk45];

    /// <summary>A method's own samplers, in its order.</summary>
    public static IEnumerable<MethodSampler> Of(string method) => All.Where(s => s.Method == method);

    /// <summary>
    /// Refuses, for a catalog sampler, an option only a method's own sampler takes ("friction applies to the walk-jump
    /// sampler only (a walkjump run's own)"); <paramref name="isGiven"/> tells whether an option (by name) was given.
    /// </summary>
    public static void RefuseOwnOnly(Func<string, bool> isGiven)
    {
        foreach (var sampler in All)
            foreach (var option in sampler.Options)
                if (isGiven(option.Name) && !SamplerCatalog.All.Any(s => s.Takes(option.Name)))
                    throw SettingException.Sentence(option.Setting, null, $"applies to {sampler.AppliesTo}");
    }
}
