using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The durable job queue port. A job is written in the same transaction as the data it concerns (outbox):
/// it exists if and only if that data committed, survives a crash, and is delivered at least once.
/// </summary>
public interface IJobQueue
{
    Task<long> EnqueueAsync(DbWrite write, JobRequest job);

    Task<JobInfo?> GetAsync(long id, CancellationToken ct = default);

    Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default);

    Task<JobCounts> CountAsync(CancellationToken ct = default);
}

public sealed record JobCounts(long Ready, long Running, long Failed);
