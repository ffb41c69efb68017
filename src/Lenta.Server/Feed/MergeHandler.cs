using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Feed;

/// <summary>Following merges the followed account's recent posts into the follower's timeline.</summary>
public sealed class MergeHandler(FeedService feed, PostService posts, ICache cache, GraphService graph) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "feed.merge";
    private const int MergeCount = 100;

    public string Type => JobType;

    public string Queue => FeedObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<FollowJob>();
        if (!await graph.IsFollowingAsync(work.Follower, work.Target, ct))
            return; // unfollowed again before this ran
        if ((await feed.PullAccountsAsync(ct)).Contains(work.Target))
            return; // merged at read time
        var recent = await posts.RecentForFollowersAsync([work.Target], null, null, MergeCount, false, ct);
        if (recent.Count > 0)
            await cache.SortedAddIfPresentAsync(FeedService.Key(work.Follower), recent.ToArray(), feed.Options.TimelineSize, ct);
    }
}
