using Langevin;
using Langevin.Cli;
using Langevin.Cli.Commands;
using Langevin.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

return LangevinCli.Run(args);

namespace Langevin.Cli
{
    public static class LangevinCli
    {
        public static readonly IReadOnlyList<ICommand> Commands =
        [
            new DemoCommand(), new TrainCommand(), new SampleCommand(), new InpaintCommand(), new LikelihoodCommand(), new EvalCommand(),
            new InterpolateCommand(), new CompareCommand(), new GuidanceCommand(), new DatasetsCommand(), new FeaturesTrainCommand(), new ReportCommand(), new McmcCommand(),
            new RateDistortionCommand(), new DenoisingCommand(), new OodCommand(), new MergeCommand(), new ExportCommand(), new ImportCommand(),
        ];

        public static string Overview() => string.Join('\n',
        [
            "langevin — score-based, diffusion and energy-based generative models for .NET",
            "",
            "usage: langevin COMMAND [options]     (langevin COMMAND --help for its options)",
            "",
            "commands:",
            .. Commands.Select(c => $"  {c.Name,-16}{c.Summary}"),
        ]);

        /// <summary>Runs a command line; returns the exit code (0 ok, 1 data error, 2 usage error).</summary>
        public static int Run(string[] args)
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                Console.WriteLine(Overview());
                return args.Length == 0 ? 2 : 0;
            }
            var command = Commands.FirstOrDefault(c => args.Length > 1 && c.Name == $"{args[0]} {args[1]}") ?? Commands.FirstOrDefault(c => c.Name == args[0]);
            if (command is null)
            {
                Console.Error.WriteLine($"error: unknown command '{args[0]}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}");
                return 2;
            }
            var rest = args.Skip(command.Name.Count(ch => ch == ' ') + 1).ToList();   // two-word commands: "features train"
            if (command is IPositionalCommand p && rest.Count > 0 && !rest[0].StartsWith('-')) rest.Insert(0, "--" + p.PositionalOption);
            if (command is IFileListCommand files) rest = FileListCommands.Gather(rest, command.Options, files.FileListOption);
            if (rest.Contains("--help") || rest.Contains("-h"))
            {
                Console.WriteLine(command is IContextualHelp contextual ? contextual.HelpFor(rest) : Help.For(command));
                return 0;
            }
            string? jsonPath = null, error = null;
            ParsedArgs? parsed = null;
            int code;
            try
            {
                if (!command.Options.Any(o => o.Name == "json")) jsonPath = TakeJsonOption(command.Name, rest);
                parsed = new ParsedArgs(command.Name, rest, command.Options);
                code = command.Run(parsed);
            }
            catch (LangevinException e)
            {
                (error, code) = (MessageText.OneLine(Messages.For(e)), ExitCodeOf(e));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                (error, code) = (MessageText.OneLine(e.Message), 1);
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("LANGEVIN_DEBUG") is null)
            {
                Console.Error.WriteLine($"internal error: {e.GetType().Name}: {MessageText.OneLine(e.Message.Split('\n')[0], 300)} (set LANGEVIN_DEBUG=1 for the stack trace, and please report it)");
                return 70;
            }
            if (error is not null) Console.Error.WriteLine($"error: {error}");
            if (jsonPath is not null && Langevin.Distributed.DataParallel.LaunchedRank() == 0)   // MPI ranks: rank 0 writes the result
            {
                var result = parsed?.Result ?? [];
                if (error is not null) result["error"] = error;
                WriteResult(jsonPath, command.Name, code, result, args);
            }
            return code;
        }

        /// <summary>The exit code of a user-facing error: 2 for a bad request (usage), 1 for bad data or a diverged training.</summary>
        public static int ExitCodeOf(LangevinException e) => e is UsageException ? 2 : 1;

        /// <summary>Removes <c>--json FILE</c> (or <c>--json=FILE</c>) from a command's arguments and returns FILE.</summary>
        static string? TakeJsonOption(string command, List<string> rest)
        {
            int i = rest.FindIndex(s => s == "--json" || s.StartsWith("--json=", StringComparison.Ordinal));
            if (i < 0) return null;
            string? file = rest[i].Length > 6 ? rest[i][7..] : i + 1 < rest.Count ? rest[i + 1] : null;
            if (string.IsNullOrEmpty(file) || (rest[i].Length == 6 && file.StartsWith("--", StringComparison.Ordinal)))
                throw new UsageException($"{command}: --json needs a value (FILE)");
            rest.RemoveRange(i, rest[i].Length > 6 ? 1 : 2);
            return file;
        }

        /// <summary>The <c>--json FILE</c> document: the command, its arguments, its exit code and the results it recorded.</summary>
        static void WriteResult(string path, string command, int exitCode, JsonObject result, string[] args)
        {
            var doc = new JsonObject
            {
                ["command"] = command,
                ["args"] = new JsonArray([.. args.Select(s => (JsonNode?)JsonValue.Create(s))]),
                ["exit_code"] = exitCode,
            };
            foreach (var (key, value) in result) doc[key] = value?.DeepClone();
            try
            {
                AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: --json {path}: {e.Message}");
            }
        }
    }
}
