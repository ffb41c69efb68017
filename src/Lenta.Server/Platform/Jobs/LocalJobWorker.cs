using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// Runs the jobs of every queue that has handlers, each queue with its configured number of slots. A slot
/// claims one job, runs its handler under a timeout while a heartbeat keeps the lease, then deletes the job or
/// records the failure (retry with backoff, or failed). Idle slots wait for a commit signal or the poll interval.
/// </summary>
public sealed class LocalJobWorker(
    LocalJobQueue queue,
    IEnumerable<IJobHandler> handlers,
    JobSignal signal,
    IOptions<JobQueueOptions> options,
    ILogger<LocalJobWorker> log) : BackgroundService
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Type, StringComparer.Ordinal);
    private readonly JobQueueOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var released = await queue.ReleaseOwnAsync();
        if (released > 0)
            log.LogWarning("Released {Count} jobs this node was running when it last stopped; they run again", released);

        var slots = new List<Task> { ReclaimLoopAsync(stoppingToken) };
        foreach (var name in _handlers.Values.Select(h => h.Queue).Distinct(StringComparer.Ordinal))
        {
            for (var i = 0; i < _options.ConcurrencyOf(name); i++)
                slots.Add(SlotLoopAsync(name, stoppingToken));
        }
        await Task.WhenAll(slots);
    }

    private async Task ReclaimLoopAsync(CancellationToken ct)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 4));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try
                {
                    var n = await queue.ReclaimExpiredAsync();
                    if (n > 0)
                        log.LogWarning("Reclaimed {Count} jobs whose lease ran out", n);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    log.LogError(e, "Reclaiming expired jobs failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SlotLoopAsync(string queueName, CancellationToken ct)
    {
        var poll = TimeSpan.FromMilliseconds(Math.Max(10, _options.PollIntervalMs));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var job = await queue.ClaimAsync(queueName, ct);
                if (job is null)
                {
                    await signal.WaitAsync(queueName, poll, ct);
                    continue;
                }
                signal.Notify(queueName); // there may be more: let another idle slot look
                await RunAsync(job, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Job slot of queue {Queue} failed; retrying after a pause", queueName);
                try
                {
                    await Task.Delay(poll, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunAsync(Job job, CancellationToken stopping)
    {
        if (!_handlers.TryGetValue(job.Type, out var handler))
        {
            await queue.FailAsync(job, $"No handler for job type '{job.Type}'.", permanent: true);
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(handler.Timeout);
        // Disposing the timer ends the heartbeat without an exception (one per job, were it cancelled).
        var beat = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 3.0)));
        var heartbeat = HeartbeatAsync(job, beat);
        try
        {
            await handler.HandleAsync(job, timeout.Token);
            beat.Dispose();
            await heartbeat;
            await queue.CompleteAsync(job);
        }
        catch (Exception e)
        {
            beat.Dispose();
            await heartbeat;
            if (stopping.IsCancellationRequested)
            {
                // Shutting down: leave the job running; ReleaseOwnAsync at the next start (or lease expiry) hands it out again.
                throw;
            }
            var permanent = e is PermanentJobFailureException;
            var reason = e is OperationCanceledException ? $"Timed out after {handler.Timeout}." : e.Message;
            log.LogWarning(e, "Job {JobId} ({Type}) attempt {Attempt} failed: {Reason}", job.Id, job.Type, job.Attempt, reason);
            await queue.FailAsync(job, reason, permanent);
        }
    }

    private async Task HeartbeatAsync(Job job, PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync())
                await queue.ExtendLeaseAsync(job);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Heartbeat of job {JobId} failed", job.Id);
        }
    }
}
