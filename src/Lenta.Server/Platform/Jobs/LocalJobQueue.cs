using System.Collections.Concurrent;
using System.Threading.Channels;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The embedded queue: jobs are rows of the <c>jobs</c> table in the main database. A worker claims a job by
/// stamping it with its node and a lease; the attempt number is the fencing token, so a worker whose lease
/// ran out cannot acknowledge a job another worker has taken since. Finished jobs are deleted; failed ones
/// stay with their last error. In-process jobs (<see cref="EnqueueInProcessAsync"/>) wait in a channel per queue
/// instead, and count as ready (waiting) or running like the rows.
/// </summary>
public sealed class LocalJobQueue(IDatabase db, IdGenerator ids, JobSignal signal, IOptions<JobQueueOptions> options, TimeProvider time) : IJobQueue
{
    private readonly JobQueueOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Channel<Job>> _inProcess = new(StringComparer.Ordinal);
    private long _inProcessIds;
    private long _inProcessWaiting;
    private long _inProcessRunning;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        var id = ids.Next();
        var now = Now;
        await write.ExecuteAsync("""
            INSERT INTO jobs (id, queue, type, payload, state, attempts, max_attempts, run_after, created_at)
            VALUES (@id, @queue, @type, @payload, 'ready', 0, @max, @runAfter, @now)
            """, new { id, queue = job.Queue, type = job.Type, payload = job.Payload, max = _options.MaxAttempts, runAfter = now + (long)(job.Delay?.TotalMilliseconds ?? 0), now });
        write.AfterCommit(() => signal.Notify(job.Queue));
        return id;
    }

    public async Task EnqueueInProcessAsync(DbWrite write, JobRequest job)
    {
        if (job.Delay is not null || !_inProcess.TryGetValue(job.Queue, out var channel))
        {
            await EnqueueAsync(write, job); // no worker of the queue here (or a delay to keep): the durable way
            return;
        }
        write.AfterCommit(() =>
        {
            Interlocked.Increment(ref _inProcessWaiting);
            // Ids below zero: never a row's.
            channel.Writer.TryWrite(new Job(-Interlocked.Increment(ref _inProcessIds), job.Queue, job.Type, job.Payload, 1));
            signal.Notify(InProcessSignal(job.Queue));
        });
    }

    /// <summary>The signal name that wakes <paramref name="queue"/>'s in-process slots.</summary>
    internal static string InProcessSignal(string queue) => queue + " (in process)";

    /// <summary>The worker runs <paramref name="queue"/>'s handlers in this process: its in-process jobs are taken from now on.</summary>
    internal void AttachInProcess(string queue) =>
        _inProcess.TryAdd(queue, Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false }));

    /// <summary>Up to <paramref name="max"/> waiting in-process jobs of <paramref name="queue"/>, oldest first; they count as running until <see cref="InProcessDone"/>.</summary>
    internal List<Job> TakeInProcess(string queue, int max)
    {
        var taken = new List<Job>();
        if (_inProcess.TryGetValue(queue, out var channel))
        {
            while (taken.Count < max && channel.Reader.TryRead(out var job))
                taken.Add(job);
        }
        Interlocked.Add(ref _inProcessRunning, taken.Count);
        Interlocked.Add(ref _inProcessWaiting, -taken.Count);
        return taken;
    }

    internal void InProcessDone() => Interlocked.Decrement(ref _inProcessRunning);

    /// <summary>An in-process job that failed becomes a durable one (its first attempt spent), retried with backoff as any other.</summary>
    internal Task PersistAsync(Job failed, string error) =>
        db.WriteAsync(async w =>
        {
            var id = await EnqueueAsync(w, new JobRequest(failed.Queue, failed.Type, failed.Payload, Backoff(1)));
            await w.ExecuteAsync("UPDATE jobs SET attempts = 1, last_error = @error WHERE id = @id", new { id, error = Truncate(error, 2000) });
        });

    public Task<JobInfo?> GetAsync(long id, CancellationToken ct = default) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<JobInfo>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE id = @id", new { id }, cancellationToken: ct)), ct);

    public async Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) =>
        (await db.ReadAsync(c => c.QueryAsync<JobInfo>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs WHERE state = 'failed' ORDER BY id DESC LIMIT @limit", new { limit }, cancellationToken: ct)), ct)).ToList();

    public Task<JobCounts> CountAsync(CancellationToken ct = default) =>
        db.ReadAsync(async c =>
        {
            var rows = (await c.QueryAsync<(string State, long Count)>(new CommandDefinition(
                "SELECT state, COUNT(*) FROM jobs GROUP BY state", cancellationToken: ct))).ToDictionary(r => r.State, r => r.Count);
            return new JobCounts(rows.GetValueOrDefault("ready") + Interlocked.Read(ref _inProcessWaiting),
                rows.GetValueOrDefault("running") + Interlocked.Read(ref _inProcessRunning), rows.GetValueOrDefault("failed"));
        }, ct);

    private const string Columns =
        "id AS Id, queue AS Queue, type AS Type, state AS State, attempts AS Attempts, max_attempts AS MaxAttempts, last_error AS LastError, run_after AS RunAfter, created_at AS CreatedAt";

    /// <summary>Takes the next due job of <paramref name="queue"/>, if any.</summary>
    internal async Task<Job?> ClaimAsync(string queue, CancellationToken ct) =>
        (await ClaimAsync(queue, 1, ct)).FirstOrDefault();

    /// <summary>Takes up to <paramref name="max"/> of the next due jobs of <paramref name="queue"/> in one write, oldest first.</summary>
    internal Task<List<Job>> ClaimAsync(string queue, int max, CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            var now = Now;
            var rows = await w.QueryAsync<ClaimedRow>(Sql.Expand("""
                UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = @node, locked_until = @lease
                WHERE id IN (SELECT id FROM jobs WHERE queue = @queue AND state = 'ready' AND run_after <= @now
                             ORDER BY run_after, id LIMIT @max {skip_locked})
                RETURNING id, type, payload, attempts
                """, w.Provider), new { queue, now, max, node = ids.NodeId, lease = now + _options.LeaseSeconds * 1000L });
            return rows.OrderBy(r => r.Id).Select(r => new Job(r.Id, queue, r.Type, r.Payload, r.Attempts)).ToList();
        }, ct);

    internal Task CompleteAsync(Job job) => CompleteAsync([job]);

    /// <summary>Deletes finished jobs in one write; an attempt another worker has taken over since is left alone (fencing).</summary>
    internal Task CompleteAsync(IReadOnlyList<Job> jobs) =>
        db.WriteAsync(async w =>
        {
            foreach (var job in jobs)
                await w.ExecuteAsync("DELETE FROM jobs WHERE id = @Id AND attempts = @Attempt", job);
        });

    internal Task FailAsync(Job job, string error, bool permanent) =>
        db.WriteAsync(w => w.ExecuteAsync("""
            UPDATE jobs SET state = CASE WHEN @permanent = 1 OR attempts >= max_attempts THEN 'failed' ELSE 'ready' END,
                            run_after = @retryAt, last_error = @error, locked_by = NULL, locked_until = NULL
            WHERE id = @id AND attempts = @attempt
            """, new { id = job.Id, attempt = job.Attempt, permanent = permanent ? 1 : 0, error = Truncate(error, 2000), retryAt = Now + (long)Backoff(job.Attempt).TotalMilliseconds }));

    internal Task ExtendLeasesAsync(IReadOnlyList<Job> jobs) =>
        db.WriteAsync(async w =>
        {
            var lease = Now + _options.LeaseSeconds * 1000L;
            foreach (var job in jobs)
                await w.ExecuteAsync("UPDATE jobs SET locked_until = @lease WHERE id = @id AND attempts = @attempt AND state = 'running'", new { id = job.Id, attempt = job.Attempt, lease });
        });

    /// <summary>Jobs this node was running when it stopped (a crash, a kill -9) go back to ready. Node ids are unique per process, so no other process's jobs are touched.</summary>
    internal Task<int> ReleaseOwnAsync() =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE jobs SET state = 'ready', locked_by = NULL, locked_until = NULL WHERE state = 'running' AND locked_by = @node",
            new { node = ids.NodeId }));

    /// <summary>Jobs whose worker vanished (its lease ran out) go back to ready.</summary>
    internal Task<int> ReclaimExpiredAsync() =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE jobs SET state = 'ready', locked_by = NULL, locked_until = NULL WHERE state = 'running' AND locked_until < @now",
            new { now = Now }));

    internal TimeSpan Backoff(int attempt)
    {
        var ms = _options.BackoffBaseMs * Math.Pow(2, Math.Clamp(attempt - 1, 0, 20));
        ms = Math.Min(ms, TimeSpan.FromHours(1).TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    private sealed class ClaimedRow
    {
        public long Id { get; init; }
        public string Type { get; init; } = "";
        public string Payload { get; init; } = "";
        public int Attempts { get; init; }
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
