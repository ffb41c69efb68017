using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The job queue as producers and operators see it. A durable job is written in the same transaction as the data it
/// concerns (outbox): it exists if and only if that data committed, survives a crash, and is delivered at least once to
/// a handler of its type (<see cref="IJobSource"/> is the worker's side). Whatever the adapter, each job's state stays
/// visible until it finishes: <c>ready</c> (waiting, or waiting for a retry), <c>running</c> (claimed, not yet
/// settled) or <c>failed</c> (for good, kept with its reason).
/// </summary>
public interface IJobQueue
{
    /// <summary>
    /// Writes <paramref name="job"/> in <paramref name="write"/>'s transaction: a rollback leaves nothing to deliver, a
    /// commit makes it due <see cref="JobRequest.Delay"/> later. A broker's adapter writes it to its outbox there and
    /// relays it after the commit. Returns the job's id, for <see cref="GetAsync"/>.
    /// </summary>
    Task<long> EnqueueAsync(DbWrite write, JobRequest job);

    /// <summary>
    /// A job whose only effect is on this process's memory (its in-process cache): it is not written; once the write
    /// commits it runs here, in memory, by the same handlers. A crash loses it together with the memory it would have
    /// changed, so nothing is lost that the process still holds. If it fails it is written as a durable job then and
    /// retried as any other. Where no worker of its queue runs in this process (or it has a delay) it is written, as
    /// <see cref="EnqueueAsync"/> would: so an adapter on its own writes every one, and <see cref="InProcessJobs"/>,
    /// wrapped around it, runs them in memory.
    /// </summary>
    Task EnqueueInProcessAsync(DbWrite write, JobRequest job) => EnqueueAsync(write, job);

    /// <summary>A job's state; null once it finished (finished jobs are not kept) or if its write never committed.</summary>
    Task<JobInfo?> GetAsync(long id, CancellationToken ct = default);

    /// <summary>Up to <paramref name="limit"/> of the jobs that ended failed, newest first, each with its last error.</summary>
    Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default);

    /// <summary>How many jobs are ready (delayed retries included), running and failed.</summary>
    Task<JobCounts> CountAsync(CancellationToken ct = default);

    /// <summary>
    /// Throws when the queue cannot take or deliver jobs now: a broker's adapter whose connection is down (it recovers
    /// by itself; meanwhile jobs wait in the outbox). An adapter inside the database has nothing beyond it to check.
    /// </summary>
    Task PingAsync(CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>
    /// At start, before any job: whatever the adapter needs to exist for <paramref name="queues"/> (a broker's queues),
    /// created idempotently, so that any process may do it, and first. Throws when that cannot be done.
    /// </summary>
    Task PrepareAsync(IReadOnlyCollection<string> queues, CancellationToken ct) => Task.CompletedTask;
}

public sealed record JobCounts(long Ready, long Running, long Failed);
