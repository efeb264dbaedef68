namespace Langevin.Samplers;

/// <summary>One help line per option name over a set of samplers: the option (for its name and value) and its text.</summary>
public sealed record SamplerOptionHelp(SamplerOption Option, string Text)
{
    /// <summary>
    /// The catalog's options (in <see cref="SamplerOptions.All"/>'s order), then the methods' own samplers' options, each
    /// name once. An option's text is "takers: help (default …)" for each distinct help the name has (joined by "; "), the
    /// takers being its <see cref="SamplerOption.Scope"/> or the samplers that take it, each with its own default when
    /// they differ: "ddim (default 0), euler-ancestral (default 1): the share of fresh noise".
    /// </summary>
    public static IReadOnlyList<SamplerOptionHelp> For(IEnumerable<SamplerDescription> samplers)
    {
        var uses = samplers.SelectMany(s => s.Options.Select(o => (Sampler: s.Name, Option: o))).ToList();
        var catalogOrder = SamplerOptions.All.Select(o => o.Name).Distinct().ToList();
        return uses.GroupBy(u => u.Option.Name)
            .OrderBy(g => catalogOrder.IndexOf(g.Key) is int i and >= 0 ? i : catalogOrder.Count)
            .Select(g => new SamplerOptionHelp(g.First().Option, string.Join("; ", g.GroupBy(u => u.Option.Help).Select(Describe))))
            .ToList();
    }

    static string Describe(IGrouping<string, (string Sampler, SamplerOption Option)> uses)
    {
        var first = uses.First().Option;
        if (first.Scope is { } scope) return $"{scope}: {first.Help}";
        var defaults = uses.Select(u => u.Option.DefaultText).Distinct().ToList();
        static string Default(string? text) => text is null ? "" : $" (default {text})";
        return defaults.Count == 1
            ? $"{string.Join(", ", uses.Select(u => u.Sampler))}: {first.Help}{Default(defaults[0])}"
            : $"{string.Join(", ", uses.Select(u => u.Sampler + Default(u.Option.DefaultText)))}: {first.Help}";
    }
}
