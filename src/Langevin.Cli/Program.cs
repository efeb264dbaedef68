using Langevin;
using Langevin.Cli;
using Langevin.Cli.Commands;

return LangevinCli.Run(args);

namespace Langevin.Cli
{
    public static class LangevinCli
    {
        public static readonly IReadOnlyList<ICommand> Commands =
        [
            new DemoCommand(), new TrainCommand(), new SampleCommand(), new InpaintCommand(), new LikelihoodCommand(), new EvalCommand(),
            new InterpolateCommand(), new CompareCommand(), new DatasetsCommand(), new FeaturesTrainCommand(), new ReportCommand(), new McmcCommand(), new OodCommand(),
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
            if (rest.Contains("--help") || rest.Contains("-h"))
            {
                Console.WriteLine(Help.For(command));
                return 0;
            }
            try
            {
                return command.Run(new ParsedArgs(command.Name, rest, command.Options));
            }
            catch (LangevinException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            catch (Exception e) when (Environment.GetEnvironmentVariable("LANGEVIN_DEBUG") is null)
            {
                Console.Error.WriteLine($"internal error: {e.GetType().Name}: {e.Message.Split('\n')[0]} (set LANGEVIN_DEBUG=1 for the stack trace, and please report it)");
                return 70;
            }
        }
    }
}
