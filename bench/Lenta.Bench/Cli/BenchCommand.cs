namespace Lenta.Bench.Cli;

/// <summary>A subcommand of <c>lenta-bench</c>: its name, a one-line summary, its options, and what it runs.</summary>
public sealed record BenchCommand(
    string Name,
    string Summary,
    string Usage,
    Func<IReadOnlyList<string>, CancellationToken, Task<int>> RunAsync);

/// <summary>The command line is wrong; the message says how, and the usage line follows it.</summary>
public sealed class UsageException(string message) : Exception(message);
