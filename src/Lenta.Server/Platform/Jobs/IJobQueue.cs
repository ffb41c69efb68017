using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The durable job queue port. A job is written in the same transaction as the data it concerns (outbox):
/// it exists if and only if that data committed, survives a crash, and is delivered at least once.
/// </summary>
public interface IJobQueue
{
    Task<long> EnqueueAsync(DbWrite write, JobRequest job);

    /// <summary>
    /// A job whose only effect is on this process's memory (its in-process cache): it is not written; once the write
    /// commits it runs here, in memory, by the same handlers. A crash loses it together with the memory it would have
    /// changed, so nothing is lost that the process still holds. If it fails it is written as a durable job then and
    /// retried as any other. Where no worker of its queue runs in this process (or it has a delay) it is written, as
    /// <see cref="EnqueueAsync"/> would.
    /// </summary>
    Task EnqueueInProcessAsync(DbWrite write, JobRequest job);

    Task<JobInfo?> GetAsync(long id, CancellationToken ct = default);

    Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default);

    Task<JobCounts> CountAsync(CancellationToken ct = default);
}

public sealed record JobCounts(long Ready, long Running, long Failed);
