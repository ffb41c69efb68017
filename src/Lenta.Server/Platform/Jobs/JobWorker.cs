using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// Runs the jobs of every queue that has handlers, whichever adapter holds them, each queue with its configured number
/// of slots. A slot claims up to its queue's batch of due jobs at once (<see cref="IJobSource.ClaimAsync"/>) and runs
/// them one after another, each handler under its timeout, while one heartbeat keeps the batch's claims; then it
/// acknowledges the finished jobs together and records each failure as it happens (retry with backoff, or failed). A
/// crash mid-batch leaves the unfinished and the finished-but-unacknowledged jobs claimed by this node, released at its
/// next start or when their lease runs out, so they run again: at least once, as ever. In-process jobs have slots of
/// their own (<see cref="InProcessJobs"/>: nothing to claim or acknowledge; one that fails is written as a durable job).
/// Idle slots wait for their queue's signal: a commit of a job for it, a slot that found work (there may be more), or
/// the queue's one poll per interval (delayed retries, other nodes' jobs, leases that ran out), so an idle process
/// makes one claim per queue per interval, not one per slot.
/// </summary>
public sealed class JobWorker(
    IJobSource source,
    InProcessJobs inProcess,
    IEnumerable<IJobHandler> handlers,
    JobSignal signal,
    IOptions<JobQueueOptions> options,
    ILogger<JobWorker> log) : BackgroundService
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Type, StringComparer.Ordinal);
    private readonly JobQueueOptions _options = options.Value;

    private List<string> Queues => _handlers.Values.Select(h => h.Queue).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Takes in-process jobs from the moment the host has started this worker: here, not in <see cref="ExecuteAsync"/>,
    /// which the host runs on the thread pool after start returns, and until then such a job would be written instead.
    /// </summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var name in Queues)
            inProcess.Attach(name);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = Queues;
        var released = await source.ReleaseOwnAsync(stoppingToken);
        if (released > 0)
            log.LogWarning("Released {Count} jobs this node was running when it last stopped; they run again", released);
        // Only now, or the release would take back a job written claimed meanwhile.
        foreach (var name in queues)
            inProcess.AttachClaimed(name);

        var slots = new List<Task> { ReclaimLoopAsync(stoppingToken) };
        foreach (var name in queues)
        {
            slots.Add(PollLoopAsync(name, stoppingToken));
            for (var i = 0; i < _options.ConcurrencyOf(name); i++)
                slots.Add(SlotLoopAsync(name, stoppingToken));
            for (var i = 0; i < Math.Min(InProcessSlots, _options.ConcurrencyOf(name)); i++)
                slots.Add(InProcessSlotLoopAsync(name, stoppingToken));
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
                    var n = await source.ReclaimExpiredAsync(ct);
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

    /// <summary>
    /// Every poll interval, wakes one idle slot of the queue for durable jobs and one for in-process ones (a signal no
    /// slot waits for is kept, and taken by the next slot that goes idle). Slots wait for nothing else: a slot per poll
    /// would be a claim, a write, per slot per interval in an idle process (eleven a second at the defaults).
    /// </summary>
    private async Task PollLoopAsync(string queueName, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                signal.Notify(queueName);
                signal.Notify(InProcessJobs.SignalOf(queueName));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private TimeSpan PollInterval => TimeSpan.FromMilliseconds(Math.Max(10, _options.PollIntervalMs));

    /// <summary>
    /// How many slots of their own a queue's in-process jobs get (never more than its concurrency): one per core. Those
    /// jobs start the moment their write commits, with no claim to pace them, and a fan-out's reads block their thread
    /// (SQLite's calls are synchronous): run on all eight feed slots they took the pool threads requests needed (the
    /// Reed98 mix's p99 at 50 % load went from ~12 to 60-70 ms in two of three runs).
    /// </summary>
    private static int InProcessSlots => Environment.ProcessorCount;

    /// <summary>A slot for in-process jobs only, woken by their own signal (<see cref="InProcessJobs.SignalOf"/>).</summary>
    private Task InProcessSlotLoopAsync(string queueName, CancellationToken ct)
    {
        var wake = InProcessJobs.SignalOf(queueName);
        return SlotLoopAsync(queueName, wake, async stopping =>
        {
            var local = inProcess.Take(queueName, _options.BatchOf(queueName));
            if (local.Count == 0)
                return false;
            signal.Notify(wake); // there may be more: let the other slot look
            await RunInProcessAsync(local, stopping);
            return true;
        }, ct);
    }

    private Task SlotLoopAsync(string queueName, CancellationToken ct)
    {
        // Set when the slot comes back straight after running jobs written claimed here because more of those waited:
        // then it looks only at those, since another slot may have taken them meanwhile, and a claim from the table
        // that finds nothing would cost the write they spare.
        var onlyClaimed = false;
        return SlotLoopAsync(queueName, queueName, async stopping =>
        {
            // The jobs this process wrote claimed first: they need no claim (InProcessJobs).
            IReadOnlyList<Job> jobs = inProcess.TakeClaimed(queueName, _options.BatchOf(queueName));
            var claimedHere = jobs.Count > 0;
            if (!claimedHere)
            {
                if (onlyClaimed)
                {
                    onlyClaimed = false;
                    return false;
                }
                jobs = await source.ClaimAsync(queueName, _options.BatchOf(queueName), stopping);
            }
            if (jobs.Count == 0)
                return false;
            var more = !claimedHere || inProcess.HasClaimed(queueName);
            if (more)
                signal.Notify(queueName); // there may be more: let another idle slot look
            await RunAsync(jobs, stopping);
            // After jobs written claimed here the table is asked again only when signalled (a commit, a poll tick): a
            // claim after each would cost the write per job they spare.
            var again = !claimedHere || inProcess.HasClaimed(queueName);
            onlyClaimed = claimedHere && again;
            return again;
        }, ct);
    }

    /// <summary>
    /// Runs <paramref name="step"/> until the process stops; a step that found no work waits for <paramref name="wake"/>
    /// (<see cref="PollLoopAsync"/> sends it every poll interval), and a failed one pauses for the poll interval.
    /// </summary>
    private async Task SlotLoopAsync(string queueName, string wake, Func<CancellationToken, Task<bool>> step, CancellationToken ct)
    {
        var poll = PollInterval;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await step(ct))
                    await signal.WaitAsync(wake, Timeout.InfiniteTimeSpan, ct);
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

    private async Task RunAsync(IReadOnlyList<Job> jobs, CancellationToken stopping)
    {
        var finished = new List<Job>(jobs.Count);
        // Disposing the timer ends the heartbeat without an exception.
        var beat = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 3.0)));
        var heartbeat = HeartbeatAsync(jobs, beat);
        try
        {
            foreach (var job in jobs)
            {
                if (await RunOneAsync(job, stopping))
                    finished.Add(job);
            }
        }
        finally
        {
            beat.Dispose();
            await heartbeat;
            // On shutdown too: what finished is done; the rest stays claimed by this node until its next start.
            if (finished.Count > 0)
                await source.CompleteAsync(finished);
        }
    }

    /// <summary>
    /// Runs in-process jobs one after another. One that fails is written as a durable job and retried from there; on
    /// shutdown the rest go with the process, as does the memory they would have changed.
    /// </summary>
    private async Task RunInProcessAsync(List<Job> jobs, CancellationToken stopping)
    {
        foreach (var job in jobs)
        {
            try
            {
                if (await HandleAsync(job, stopping) is not { } failure)
                    continue;
                if (failure.Error is not null)
                    log.LogWarning(failure.Error, "In-process job {Type} failed: {Reason}; it is written to the queue and retried", job.Type, failure.Reason);
                await inProcess.PersistAsync(job, failure.Reason);
            }
            finally
            {
                inProcess.Done();
            }
        }
    }

    /// <summary>Runs one job; true when it finished, false when it failed (recorded). Throws when the process is stopping.</summary>
    private async Task<bool> RunOneAsync(Job job, CancellationToken stopping)
    {
        if (await HandleAsync(job, stopping) is not { } failure)
            return true;
        if (failure.Error is not null)
            log.LogWarning(failure.Error, "Job {JobId} ({Type}) attempt {Attempt} failed: {Reason}", job.Id, job.Type, job.Attempt, failure.Reason);
        await source.FailAsync(job, failure.Reason, failure.Permanent);
        return false;
    }

    /// <summary>Why a job did not finish; <see cref="Error"/> is null when no handler took it.</summary>
    private sealed record Failure(string Reason, bool Permanent, Exception? Error);

    /// <summary>
    /// Runs the job's handler under its timeout: null when it finished, else why not. Throws when the process is stopping
    /// (a durable job stays claimed by this node, released at its next start or when its lease runs out).
    /// </summary>
    private async Task<Failure?> HandleAsync(Job job, CancellationToken stopping)
    {
        if (!_handlers.TryGetValue(job.Type, out var handler))
            return new($"No handler for job type '{job.Type}'.", Permanent: true, Error: null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(handler.Timeout);
        try
        {
            await handler.HandleAsync(job, timeout.Token);
            return null;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            return new(e is OperationCanceledException ? $"Timed out after {handler.Timeout}." : e.Message, e is PermanentJobFailureException, e);
        }
    }

    private async Task HeartbeatAsync(IReadOnlyList<Job> jobs, PeriodicTimer timer)
    {
        try
        {
            while (await timer.WaitForNextTickAsync())
                await source.ExtendLeasesAsync(jobs);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Heartbeat of jobs {JobIds} failed", string.Join(", ", jobs.Select(j => j.Id)));
        }
    }
}
