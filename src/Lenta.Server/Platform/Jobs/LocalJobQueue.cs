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
/// queue (<see cref="JobSignal"/>); other nodes find it at their next poll.
/// </summary>
public sealed class LocalJobQueue(IDatabase db, IdGenerator ids, JobSignal signal, IOptions<JobQueueOptions> options, TimeProvider time) : IJobQueue, IJobSource, IClaimAtInsert
{
    private readonly JobQueueOptions _options = options.Value;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        var id = ids.Next();
        await JobRows.InsertAsync(write, id, job, "ready", _options.MaxAttempts, Now);
        write.AfterCommit(() => signal.Notify(job.Queue));
        return id;
    }

    /// <summary>
    /// Writes <paramref name="job"/> already claimed by this node (running, attempt one more, a lease from now), so the
    /// process that commits it runs it without a claim of its own: one transaction fewer per job. Until a slot here takes
    /// it, it is held only by its lease; a crash leaves it to this node's next start or to any worker once the lease runs out.
    /// </summary>
    public async Task<Job> InsertClaimedAsync(DbWrite write, JobRequest job)
    {
        var id = ids.Next();
        var now = Now;
        await JobRows.InsertAsync(write, id, job, "running", _options.MaxAttempts, now, (ids.NodeId, now + _options.LeaseSeconds * 1000L));
        return new Job(id, job.Queue, job.Type, job.Payload, job.AttemptsMade + 1);
    }

    public Task<JobInfo?> GetAsync(long id, CancellationToken ct = default) => JobRows.GetAsync(db, id, ct);

    public Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) => JobRows.ListFailedAsync(db, limit, ct);

    public async Task<JobCounts> CountAsync(CancellationToken ct = default)
    {
        var rows = await JobRows.CountByStateAsync(db, ct);
        return new JobCounts(rows.GetValueOrDefault("ready"), rows.GetValueOrDefault("running"), rows.GetValueOrDefault("failed"));
    }

    /// <summary>Takes up to <paramref name="max"/> of the next due jobs of <paramref name="queue"/> in one write, oldest first.</summary>
    public Task<IReadOnlyList<Job>> ClaimAsync(string queue, int max, CancellationToken ct) =>
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

/// <summary>
/// A durable adapter that can write a job already claimed by the writing process (its claims are leases in the
/// database): see <see cref="LocalJobQueue.InsertClaimedAsync"/>.
/// </summary>
public interface IClaimAtInsert
{
    Task<Job> InsertClaimedAsync(DbWrite write, JobRequest job);
}
