using System.Diagnostics;
using System.Text;

namespace Lenta.Server.Media;

/// <summary>
/// An ffmpeg/ffprobe run that failed or ran out of time. The message and <see cref="ErrorTail"/> (what it had written
/// to stderr by then) are for the log, not for users.
/// </summary>
public sealed class FfmpegException(string message, string errorTail = "") : Exception(message)
{
    public string ErrorTail { get; } = errorTail;
}

/// <summary>What a finished run printed. Stdout is kept up to a cap (ffprobe JSON); stderr only as a tail.</summary>
public sealed record FfmpegOutcome(int ExitCode, string Output, string ErrorTail);

/// <summary>
/// Thin process runner for ffmpeg and ffprobe: arguments only through <see cref="ProcessStartInfo.ArgumentList"/>
/// (no shell, nothing to quote), stdin closed, and on timeout or cancellation the whole process tree is killed.
/// </summary>
public static class FfmpegRunner
{
    private const int MaxOutputChars = 4 * 1024 * 1024;
    private const int ErrorTailChars = 4096;

    /// <summary>Runs <paramref name="executable"/> to the end. <paramref name="onOutputLine"/> sees each stdout line as it comes (for <c>-progress pipe:1</c>).</summary>
    /// <exception cref="FfmpegException">The run took longer than <paramref name="timeout"/>, or could not start.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static async Task<FfmpegOutcome> RunAsync(string executable, IEnumerable<string> arguments, TimeSpan timeout, Action<string>? onOutputLine, CancellationToken ct)
    {
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FfmpegException($"{executable} could not be started: {e.Message}");
        }
        process.StandardInput.Close();

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var output = new StringBuilder();
        var errorTail = new StringBuilder();
        var readOutput = PumpAsync(process.StandardOutput, line =>
        {
            onOutputLine?.Invoke(line);
            if (output.Length < MaxOutputChars)
            {
                output.Append(line).Append('\n');
            }
        });
        // Locked: after a kill the pump may still be appending while the timeout path reads the tail.
        var readError = PumpAsync(process.StandardError, line =>
        {
            lock (errorTail)
            {
                errorTail.Append(line).Append('\n');
                if (errorTail.Length > 2 * ErrorTailChars)
                {
                    errorTail.Remove(0, errorTail.Length - ErrorTailChars);
                }
            }
        });
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await Task.WhenAll(readOutput, readError).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ct.ThrowIfCancellationRequested();
            throw new FfmpegException($"{Path.GetFileName(executable)} timed out after {timeout.TotalSeconds:0} s", Tail(errorTail));
        }
        await Task.WhenAll(readOutput, readError);
        return new FfmpegOutcome(process.ExitCode, output.ToString(), Tail(errorTail));
    }

    private static string Tail(StringBuilder errorTail)
    {
        lock (errorTail)
        {
            var tail = errorTail.ToString();
            return tail.Length > ErrorTailChars ? tail[^ErrorTailChars..] : tail;
        }
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine(line);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>
    /// Percent done from one <c>-progress</c> line, or null for other lines. ffmpeg writes <c>out_time_us</c>
    /// (and, mislabelled, <c>out_time_ms</c>, also in microseconds); "N/A" before the first frame.
    /// </summary>
    public static double? ParseProgressSeconds(string line)
    {
        const string key = "out_time_us=";
        if (!line.StartsWith(key, StringComparison.Ordinal))
        {
            return null;
        }
        return long.TryParse(line.AsSpan(key.Length), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var us) && us >= 0
            ? us / 1_000_000.0
            : null;
    }
}
