using System.Diagnostics;

namespace Lenta.Tests.Infrastructure;

/// <summary>A process the tests run to its end: started with both outputs read, waited for, killed with its children past a timeout.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="info"/> (which must redirect both outputs) to its exit; its exit code and both outputs. Past
    /// <paramref name="timeout"/> it is killed with its children and the run is a <see cref="TimeoutException"/> whose
    /// message <paramref name="timedOut"/> makes from what it wrote to stderr.
    /// </summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(ProcessStartInfo info, TimeSpan timeout, Func<string, string> timedOut)
    {
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException(timedOut(await stderr));
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
