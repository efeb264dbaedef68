using System.Text.Json.Nodes;

namespace Langevin.Bench;

/// <summary>
/// <c>all</c>: every benchmark in one run — the BenchmarkDotNet hot paths, the 2-D MLP and the reference U-Net, each
/// against its PyTorch peer where it has one — echoing their lines and printing, as the last line, one JSON object
/// with each benchmark's own JSON under its name.
/// </summary>
internal static class AllBenchmarks
{
    public static int Run(string[] args)
    {
        var all = new JsonObject();
        foreach (var (name, run) in new (string, Func<int>)[]
        {
            ("micro", () => MicroBenchmarks.Run([])),
            ("mlp", () => MlpBench.Run(args)),
            ("ref_unet", () => ReferenceUNetBench.Run(ReferenceUNetBench.Options.Parse(args))),
        })
        {
            var original = Console.Out;
            var captured = new StringWriter();
            Console.SetOut(new TeeWriter(original, captured));
            int code;
            try { code = run(); }
            finally { Console.SetOut(original); }
            var last = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            all[name] = code == 0 && last is not null && last.StartsWith('{') ? JsonNode.Parse(last) : new JsonObject { ["failed"] = code };
        }
        Console.WriteLine(all.ToJsonString());
        return 0;
    }

    /// <summary>Writes to the console and keeps a copy.</summary>
    sealed class TeeWriter(TextWriter a, TextWriter b) : TextWriter
    {
        public override System.Text.Encoding Encoding => a.Encoding;
        public override void Write(char value) { a.Write(value); b.Write(value); }
        public override void Write(string? value) { a.Write(value); b.Write(value); }
        public override void WriteLine(string? value) { a.WriteLine(value); b.WriteLine(value); }
    }
}
