using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;

namespace Lenta.Server.Feed;

/// <summary>
/// A deleted post leaves every follower's timeline (reads also skip it at once: its cache entry says deleted). It
/// reaches the same followers the fan-out pushed to (the author's, and its tags' for a public post), so it pages through them the fan-out's way.
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
        async Task<int> Remove(IReadOnlyList<string> keys)
        {
            await cache.SortedRemoveFromManyAsync(keys, work.StatusId, ct);
            return keys.Count;
        }
        await fanOut.ForEachActiveFollowerBatchAsync(work.AuthorId, Remove, ct);
        if (work.Tags is { Length: > 0 } tags)
            await fanOut.ForEachActiveTagFollowerBatchAsync(tags, Remove, ct);
    }
}
