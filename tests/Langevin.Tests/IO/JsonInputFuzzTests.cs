using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Langevin.IO;
using Langevin.Methods;
using Langevin.Models;
using Langevin.Training;
using static TorchSharp.torch;

namespace Langevin.Tests.IO;

/// <summary>
/// The JSON a user or a damaged file hands the library — run configs (config.json, a checkpoint's stored config), a checkpoint's
/// metadata and analytic-mixture files — mutated byte-wise and structurally: each input is either accepted or refused with the
/// library's own one-line error, never another exception type. The default run draws 1,500 inputs per parser and mutation kind;
/// <see cref="Fuzz"/> says how to draw the full count.
/// </summary>
public sealed class JsonInputFuzzTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("langevin-fuzz-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    static int Iterations => Fuzz.Iter(1500);

    /// <summary>Values a damaged or hostile file puts where a setting was.</summary>
    static readonly JsonNode?[] Hostile =
    [
        null, 0, -1, 1, 2, -1e308, 1e308, 1.5, long.MaxValue, long.MinValue, int.MaxValue, "", "x", "a\nb\u001b[31m", new string('z', 100_000),
        true, false, new JsonArray(), new JsonObject(), new JsonArray(null, null), new JsonArray(1, -2, 1e9), Nested(300),
    ];

    static JsonNode Nested(int depth)
    {
        JsonNode n = new JsonArray();
        for (int i = 0; i < depth; i++) n = new JsonArray(n);
        return n;
    }

    /// <summary>Every path to a member or element of <paramref name="node"/>.</summary>
    static List<(JsonNode Parent, object Key)> Slots(JsonNode node)
    {
        var slots = new List<(JsonNode, object)>();
        void Walk(JsonNode n)
        {
            if (n is JsonObject o) foreach (var (k, v) in o.ToList()) { slots.Add((o, k)); if (v is not null) Walk(v); }
            else if (n is JsonArray a) for (int i = 0; i < a.Count; i++) { slots.Add((a, i)); if (a[i] is { } v) Walk(v); }
        }
        Walk(node);
        return slots;
    }

    /// <summary>Replaces one slot of the document, removes it, or adds an unknown member.</summary>
    static Gen<string> Structural(string json) =>
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[0, Hostile.Length - 1], Gen.Int[0, 3]).Select((slot, value, how) =>
        {
            var doc = JsonNode.Parse(json)!;
            var slots = Slots(doc);
            var (parent, key) = slots[slot % slots.Count];
            var v = Hostile[value]?.DeepClone();
            switch (how, parent, key)
            {
                case (0, JsonObject o, string k): o.Remove(k); break;
                case (1, JsonObject o, _): o["unknown_" + value] = v; break;
                case (_, JsonObject o, string k): o[k] = v; break;
                case (_, JsonArray a, int i): a[i] = v; break;
            }
            return doc.ToJsonString();
        });

    /// <summary>1 to 4 characters overwritten, deleted or inserted, or the text cut short.</summary>
    static Gen<string> Textual(string json) =>
        Gen.Select(Gen.Int[0, json.Length - 1], Gen.Char["{}[]\":,-.0123456789eEtrufalsn \\\u0000é"], Gen.Int[0, 3]).Array[1, 4].Select(edits =>
        {
            var b = new StringBuilder(json);
            foreach (var (pos, c, how) in edits)
            {
                int at = Math.Min(pos, b.Length - 1);
                if (at < 0) break;
                if (how == 0) b[at] = c;
                else if (how == 1) b.Remove(at, 1);
                else if (how == 2) b.Insert(at, c);
                else b.Length = at;
            }
            return b.ToString();
        });

    static void OnlyOwnErrors(Action parse)
    {
        try { parse(); }
        catch (LangevinException e)
        {
            Assert.DoesNotContain(e.Message, char.IsControl);
            Assert.True(e.Message.Length < 2100, $"a {e.Message.Length}-character message");   // ≤ 2,000 and the note of what was cut
        }
    }

    static readonly string[] Configs =
    [
        new TrainConfig { Settings = new DdpmConfig(), Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 } }.ToJson(),
        new TrainConfig { Settings = new NcsnConfig { SigmaMax = 2, SigmaMin = 0.1, Levels = 3 }, Data = "shapes:16" }.ToJson(),
        new TrainConfig { Settings = new Langevin.Energy.EbmConfig(), Data = "8gaussians" }.ToJson(),
    ];

    [Fact]
    public void ConfigFuzz()
    {
        foreach (string json in Configs)
        {
            void Check(string text) => OnlyOwnErrors(() => TrainConfig.FromJson(text, "fuzz.json").Validate());
            Structural(json).Sample(Check, iter: Iterations);
            Textual(json).Sample(Check, iter: Iterations / 2);
        }
    }

    [Fact]
    public void AnalyticMixtureFuzz()
    {
        const string json = """{"weights": [1, 3], "means": [[-2, 0.5], [2, -1]], "std": 0.25}""";
        string path = Path.Combine(_dir, "mixture.json");
        void Check(string text)
        {
            File.WriteAllText(path, text);
            OnlyOwnErrors(() => AnalyticMixtureFile.Load(path).Dispose());
        }
        Structural(json).Sample(Check, iter: Iterations, threads: 1);
        Textual(json).Sample(Check, iter: Iterations / 2, threads: 1);
    }

    [Fact]
    public void CheckpointMetadataFuzz()
    {
        using var data = randn(64, 2);
        var config = new TrainConfig
        {
            Data = "test", Steps = 2, BatchSize = 16, CheckpointEvery = 2, SampleEvery = 0, Threads = 1,
            Network = new NetworkConfig { Kind = "mlp", Width = 16, Depth = 1 }, Settings = new DdpmConfig { Timesteps = 20, SampleSteps = 4 },
        };
        string checkpoint = Trainer.Run(new TrainRequest(config, Path.Combine(_dir, "run"), Quiet: true, Previews: false), data).Checkpoint;
        using var content = SafetensorsFile.Read(checkpoint);
        var meta = new JsonObject();
        foreach (var (k, v) in content.Metadata) meta[k] = k is "config" or "item_shape" or "components" or "state_numbers" ? JsonNode.Parse(v) : v;
        string path = Path.Combine(_dir, "damaged.safetensors");
        // a mutated metadata document, its structured members written back as the JSON strings a checkpoint stores
        Structural(meta.ToJsonString()).Sample(text =>
        {
            var m = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 2048 })!.AsObject();
            var strings = m.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue s && s.TryGetValue(out string? str) ? str : kv.Value?.ToJsonString() ?? "null");
            SafetensorsFile.Write(path, content.Tensors, strings);
            OnlyOwnErrors(() => TrainedRuns.OpenCheckpoint(path).Dispose());
        }, iter: Iterations, threads: 1);
    }
}
