using System.Collections.Concurrent;

namespace Lenta.Server.Platform.Jobs;

/// <summary>Wakes this process's idle workers of a queue when a job for it commits, so a job starts without waiting for a poll.</summary>
public sealed class JobSignal
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _signals = new(StringComparer.Ordinal);

    private SemaphoreSlim For(string queue) => _signals.GetOrAdd(queue, _ => new SemaphoreSlim(0, 1));

    public void Notify(string queue)
    {
        var signal = For(queue);
        try
        {
            if (signal.CurrentCount == 0)
                signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(string queue, TimeSpan timeout, CancellationToken ct) => For(queue).WaitAsync(timeout, ct);
}
