using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Feed;

/// <summary>Unfollowing takes the unfollowed account's posts out of the follower's timeline.</summary>
public sealed class UnmergeHandler(FeedService feed, PostService posts, ICache cache, GraphService graph) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "feed.unmerge";

    public string Type => JobType;

    public string Queue => FeedObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<FollowJob>();
        if (await graph.IsFollowingAsync(work.Follower, work.Target, ct))
            return; // followed again before this ran
        var theirs = await posts.RecentForFollowersAsync([work.Target], null, null, feed.Options.TimelineSize, false, ct);
        if (theirs.Count > 0)
            await cache.SortedRemoveAsync(FeedService.Key(work.Follower), theirs.ToArray(), ct);
    }
}
