namespace Langevin.Tests;

/// <summary>
/// How many mutated inputs a parser's fuzz test draws: its usual count in the default run (within the CI budget), at least
/// <c>LANGEVIN_FUZZ_ITER</c> when that is set — `LANGEVIN_FUZZ_ITER=10000 dotnet test Langevin.sln -c Release --filter
/// "FullyQualifiedName~Fuzz|FullyQualifiedName~ParserRobustness|FullyQualifiedName~ReaderTests"` is the full count.
/// </summary>
static class Fuzz
{
    public static int Iter(int usual) =>
        int.TryParse(Environment.GetEnvironmentVariable("LANGEVIN_FUZZ_ITER"), out int full) && full > usual ? full : usual;
}
