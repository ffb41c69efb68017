using System.Collections.Concurrent;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The embedded adapter: jobs are rows of the <c>jobs</c> table in the main database, so writing one in the caller's
/// transaction is the outbox itself. A worker claims a job by stamping it with its node and a lease; the attempt number
/// is the fencing token, so a worker whose lease ran out cannot settle a job another worker has taken since. Finished
/// jobs are deleted; failed ones stay with their last error. A commit wakes this process's idle slots of the job's
/// queue (<see cref="JobSignal"/>); other nodes find it at their next poll. A due job of a queue this process works
/// (<see cref="Attach"/>) is written already claimed by this node, and handed to this process's next claim after the
/// commit: no claim transaction, the job starts the moment its write commits. Its row is a claim like any other (the
/// lease, its heartbeat, the fencing by attempt): a crash before it runs leaves it to the lease, as a crash mid-job.
/// At most <see cref="MaxHandedOver"/> such jobs wait per queue; past them jobs are written ready, for any node. One
/// that waited half its lease (a slow queue behind) is no longer taken from memory: its lease runs out and the reclaim
/// makes it ready, so it never runs beside a claim of it by someone else.
/// </summary>
public sealed class LocalJobQueue(IDatabase db, IdGenerator ids, JobSignal signal, IOptions<JobQueueOptions> options, TimeProvider time) : IJobQueue, IJobSource
{
    private readonly JobQueueOptions _options = options.Value;

    /// <summary>Jobs claimed at their commit that may wait for this process's slots, per queue: far fewer than a lease's worth.</summary>
    public const int MaxHandedOver = 1024;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<(Job Job, long At)>> _handedOver = new(StringComparer.Ordinal);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public void Attach(string queue) => _handedOver.TryAdd(queue, new ConcurrentQueue<(Job, long)>());

    public async Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        var id = ids.Next();
        var now = Now;
        if (job.Delay is not { Ticks: > 0 } && _handedOver.TryGetValue(job.Queue, out var waiting) && waiting.Count < MaxHandedOver)
        {
            await JobRows.InsertClaimedAsync(write, id, job, _options.MaxAttempts, now, ids.NodeId, now + _options.LeaseSeconds * 1000L);
            write.AfterCommit(() =>
            {
                waiting.Enqueue((new Job(id, job.Queue, job.Type, job.Payload, job.AttemptsMade + 1), now));
                signal.Notify(job.Queue);
            });
            return id;
        }
        await JobRows.InsertAsync(write, id, job, "ready", _options.MaxAttempts, now);
        write.AfterCommit(() => signal.Notify(job.Queue));
        return id;
    }

    public Task<JobInfo?> GetAsync(long id, CancellationToken ct = default) => JobRows.GetAsync(db, id, ct);

    public Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) => JobRows.ListFailedAsync(db, limit, ct);

    public async Task<JobCounts> CountAsync(CancellationToken ct = default)
    {
        var rows = await JobRows.CountByStateAsync(db, ct);
        return new JobCounts(rows.GetValueOrDefault("ready"), rows.GetValueOrDefault("running"), rows.GetValueOrDefault("failed"));
    }

    /// <summary>
    /// Up to <paramref name="max"/> of the jobs handed over at their commit, if any wait (claimed already, no write);
    /// else takes up to <paramref name="max"/> of the next due jobs of <paramref name="queue"/> in one write, oldest first.
    /// </summary>
    public Task<IReadOnlyList<Job>> ClaimAsync(string queue, int max, CancellationToken ct)
    {
        if (_handedOver.TryGetValue(queue, out var waiting) && !waiting.IsEmpty)
        {
            var jobs = new List<Job>(Math.Min(max, waiting.Count));
            var fresh = Now - _options.LeaseSeconds * 500L;
            while (jobs.Count < max && waiting.TryDequeue(out var handed))
            {
                if (handed.At >= fresh)
                    jobs.Add(handed.Job);
            }
            if (jobs.Count > 0)
                return Task.FromResult<IReadOnlyList<Job>>(jobs);
        }
        return ClaimDueAsync(queue, max, ct);
    }

    private Task<IReadOnlyList<Job>> ClaimDueAsync(string queue, int max, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<Job>>(async w =>
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

    /// <summary>Deletes finished jobs in one write; an attempt another worker has taken over since is left alone (fencing).</summary>
    public Task CompleteAsync(IReadOnlyList<Job> jobs) =>
        db.WriteAsync(async w =>
        {
            foreach (var job in jobs)
                await w.ExecuteAsync("DELETE FROM jobs WHERE id = @Id AND attempts = @Attempt", job);
        });

    public Task FailAsync(Job job, string reason, bool permanent) =>
        db.WriteAsync(w => w.ExecuteAsync("""
            UPDATE jobs SET state = CASE WHEN @permanent = 1 OR attempts >= max_attempts THEN 'failed' ELSE 'ready' END,
                            run_after = @retryAt, last_error = @error, locked_by = NULL, locked_until = NULL
            WHERE id = @id AND attempts = @attempt
            """, new { id = job.Id, attempt = job.Attempt, permanent = permanent ? 1 : 0, error = JobRows.Truncate(reason), retryAt = Now + (long)_options.RetryDelay(job.Attempt).TotalMilliseconds }));

    public Task ExtendLeasesAsync(IReadOnlyList<Job> jobs) =>
        db.WriteAsync(async w =>
        {
            var lease = Now + _options.LeaseSeconds * 1000L;
            foreach (var job in jobs)
                await w.ExecuteAsync("UPDATE jobs SET locked_until = @lease WHERE id = @id AND attempts = @attempt AND state = 'running'", new { id = job.Id, attempt = job.Attempt, lease });
        });

    /// <summary>Jobs this node was running when it stopped go back to ready. Node ids are unique per process, so no other process's jobs are touched.</summary>
    public Task<int> ReleaseOwnAsync(CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE jobs SET state = 'ready', locked_by = NULL, locked_until = NULL WHERE state = 'running' AND locked_by = @node",
            new { node = ids.NodeId }), ct);

    /// <summary>Jobs whose worker vanished (its lease ran out) go back to ready.</summary>
    public Task<int> ReclaimExpiredAsync(CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE jobs SET state = 'ready', locked_by = NULL, locked_until = NULL WHERE state = 'running' AND locked_until < @now",
            new { now = Now }), ct);

    private sealed class ClaimedRow
    {
        public long Id { get; init; }
        public string Type { get; init; } = "";
        public string Payload { get; init; } = "";
        public int Attempts { get; init; }
    }

}
