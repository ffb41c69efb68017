using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;

namespace Lenta.Server.Feed;

/// <summary>
/// A deleted post leaves every follower's timeline (reads also skip it at once: its cache entry says deleted). It
/// reaches the same followers the fan-out pushed to, so it pages through them the fan-out's way.
/// </summary>
public sealed class RetractHandler(FanOutHandler fanOut, ICache cache) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "feed.retract";

    public string Type => JobType;

    public string Queue => FeedObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<FanOutJob>();
        await fanOut.ForEachActiveFollowerBatchAsync(work.AuthorId, async keys =>
        {
            await cache.SortedRemoveFromManyAsync(keys, work.StatusId, ct);
            return keys.Count;
        }, ct);
    }
}
