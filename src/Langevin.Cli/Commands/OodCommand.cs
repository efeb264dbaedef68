using System.Globalization;
using System.Text.Json.Nodes;
using Langevin.Data;
using Langevin.Energy;
using Langevin.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Cli.Commands;

public sealed class OodCommand : ICommand
{
    public string Name => "ood";
    public string Summary => "out-of-distribution detection with an EBM: AUROC of the energy and of ‖∇E‖, in- vs out-of-distribution";
    public string Usage => "langevin ood (--run RUN | --checkpoint FILE) [--in SPEC] [--out-data noise,flip,rotate,npy:FILE] [--n N]";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        .. ModelSource.Specs,
        new("in", "SPEC", "in-distribution data (default: the run's data, its test split where it has one)"),
        new("out-data", "SETS", "comma-separated out-of-distribution sets: noise (uniform pixels), flip (upside down), rotate (90°), npy:FILE ([N,C,H,W] in [0,1], or points); default noise,flip,rotate"),
        new("n", "N", "items per set (default 1000)"),
    ];

    public int Run(ParsedArgs a)
    {
        int n = a.Int("n") ?? 1000;
        if (n < 2) throw new UsageException($"--n must be ≥ 2 (got {n})");
        var (method, gen) = ModelSource.Open(a, Name);
        using var _ = method;
        using var __ = gen;
        if (method is not IEnergyMethod ebm) throw new UsageException($"ood: needs an energy model (--method ebm or adv-ebm), not '{method.Config.Method}'");
        method.Eval();
        string spec = a.String("in") ?? HeldOutSplit.SpecOrSelf(method.Config.Data);
        using var data = DataSources.Load(spec, new DataOptions(Seed: 1, ToyCount: n, Limit: n));
        if (!data.ItemShape.SequenceEqual(method.ItemShape))
            throw new UsageException($"--in: {spec} has items [{string.Join(", ", data.ItemShape)}], the model takes [{string.Join(", ", method.ItemShape)}]");
        var device = method.Device();
        using var cpuGen = new Generator((ulong)(a.Int("seed") ?? 0));
        var inScores = EnergyScores.Compute(ebm.Energy, data.X, device);
        Console.WriteLine($"in-distribution: {spec}, N = {data.X.shape[0]}, mean E {inScores.Energy.Average():G4}");
        a.Result["in"] = spec;
        a.Result["n"] = data.X.shape[0];
        a.Result["mean_energy_in"] = inScores.Energy.Average();
        var sets = new JsonObject();
        a.Result["out_sets"] = sets;
        Console.WriteLine($"{"out-of-distribution",-24} {"N",6} {"mean E",10} {"AUROC E",8} {"AUROC |∇E|",11}");
        foreach (string set in a.String("out-data", string.Join(",", OodSets.Defaults(method.ItemShape))).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            using var outX = OutSet(set, data.X, ebm, cpuGen, gen);
            var outScores = EnergyScores.Compute(ebm.Energy, outX, device);
            var (aucE, aucG) = EnergyScores.Auroc(inScores, outScores);
            sets[set] = new JsonObject { ["n"] = outX.shape[0], ["mean_energy"] = outScores.Energy.Average(), ["auroc_energy"] = aucE, ["auroc_grad_norm"] = aucG };
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{set,-24} {outX.shape[0],6} {outScores.Energy.Average(),10:G4} {aucE,8:F4} {aucG,11:F4}"));
        }
        return 0;
    }

    /// <summary>An out-of-distribution set (<see cref="OodSets.Make"/>), its errors naming --out-data.</summary>
    static Tensor OutSet(string set, Tensor inData, IEnergyMethod ebm, Generator gen, Generator deviceGen)
    {
        try { return OodSets.Make(set, inData, ebm, gen, deviceGen); }
        catch (UsageException e) { throw new UsageException($"--out-data: {Messages.For(e)}", e); }
        catch (DataException e) { throw new DataException($"--out-data: {e.Message}", e); }
    }
}
