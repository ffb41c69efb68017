using Lenta.Bench.Cli;
using Lenta.Bench.DbWrites;
using Lenta.Bench.FanOut;
using Lenta.Bench.Photos;
using Lenta.Bench.Social;
using Lenta.Bench.Streaming;
using Lenta.Bench.Video;

// One tool, one subcommand per workload; a new benchmark is one more entry in this list.
BenchCommand[] commands =
[
    DbWritesCommand.Command,
    PhotosCommand.Command,
    FanOutCommand.Command,
    VideoCommand.Command,
    SocialCommand.Command,
    CeilingCommand.Command,
    StreamsCommand.Command,
];

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    await Console.Out.WriteLineAsync(Help(commands));
    return args.Length == 0 ? 2 : 0;
}

var command = Array.Find(commands, c => c.Name == args[0]);
if (command is null)
{
    await Console.Error.WriteLineAsync($"Unknown command '{args[0]}'.\n\n{Help(commands)}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Let the command unwind and delete its temp files instead of dying mid-case.
    e.Cancel = true;
    stop.Cancel();
};
// A TERM (a timeout, a CI job cancelled) unwinds the same way: `social --cluster` tears its cluster down on the way out.
using var terminated = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

try
{
    return await command.RunAsync(args[1..], stop.Token);
}
catch (UsageException e)
{
    await Console.Error.WriteLineAsync($"{e.Message}\n\nusage: lenta-bench {command.Name} {command.Usage}");
    return 2;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("Cancelled.");
    return 130;
}

static string Help(IEnumerable<BenchCommand> commands) =>
    "usage: lenta-bench <command> [options]\n\ncommands:\n"
    + string.Join('\n', commands.Select(c => $"  {c.Name,-12} {c.Summary}\n  {"",-12} {c.Usage}"));
