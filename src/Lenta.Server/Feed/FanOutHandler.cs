using System.Diagnostics;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;
using Lenta.Server.Tags;

namespace Lenta.Server.Feed;

/// <summary>
/// Fan-out on write: pages through the author's followers (an index range scan per batch), keeps the ones
/// active within <see cref="FeedOptions.InactiveDays"/>, and adds the post id to each of their cached
/// timelines in one round trip per batch. Authors over the threshold become pull accounts instead (O(1)). A direct
/// post goes to the timelines of the accounts it mentions, and no follower's.
/// A public post with tags goes the same way to the active followers of its tags (whoever the author is, pull accounts
/// too). Idempotent: a set never holds an id twice, so a redelivered job pushes nothing twice, and a reader who follows
/// both the author and a tag holds the post once.
/// </summary>
public sealed class FanOutHandler(FeedService feed, GraphService graph, PostService posts, TagsService tags, ICache cache, FanOutMetrics metrics, TimeProvider time) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "feed.fanout";

    public string Type => JobType;

    public string Queue => FeedObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<FanOutJob>();
        var started = Stopwatch.GetTimestamp();
        var post = await posts.Cache.GetAsync(work.StatusId, ct);
        if (post is null)
            return; // deleted before it was pushed
        if (post.Visibility == Visibility.Direct)
        {
            // Only the mentioned may see it: it goes to their timelines, whoever they follow (their reads leave out an author they block or mute).
            var keys = post.MentionIds.Where(m => m != post.AccountId).Distinct().Select(FeedService.Key).ToList();
            var reached = keys.Count == 0 ? 0 : await cache.SortedAddToManyIfPresentAsync(keys, work.StatusId, feed.Options.TimelineSize, ct);
            metrics.Record(new(work.StatusId, keys.Count, reached, Since(post.CreatedAt), Stopwatch.GetElapsedTime(started).TotalMilliseconds, false));
            return;
        }
        Task<int> Push(IReadOnlyList<string> keys) => cache.SortedAddToManyIfPresentAsync(keys, work.StatusId, feed.Options.TimelineSize, ct).AsTask();
        var (tagFollowers, tagPushed) = post.Visibility == Visibility.Public && post.TagNames.Length > 0
            ? await ForEachActiveTagFollowerBatchAsync(post.TagNames, Push, ct)
            : (0, 0);
        if (await graph.FollowerCountAsync(work.AuthorId, ct) > feed.Options.FanOutThreshold)
        {
            await feed.MarkPullAsync(work.AuthorId, ct);
            metrics.Record(new(work.StatusId, tagFollowers, tagPushed, Since(post.CreatedAt), Stopwatch.GetElapsedTime(started).TotalMilliseconds, true));
            return;
        }
        var (followers, pushed) = await ForEachActiveFollowerBatchAsync(work.AuthorId, Push, ct);
        metrics.Record(new(work.StatusId, followers + tagFollowers, pushed + tagPushed, Since(post.CreatedAt), Stopwatch.GetElapsedTime(started).TotalMilliseconds, false));
    }

    private double Since(long unixMs) => time.GetUtcNow().ToUnixTimeMilliseconds() - unixMs;

    internal Task<(int Followers, int Pushed)> ForEachActiveFollowerBatchAsync(long authorId, Func<IReadOnlyList<string>, Task<int>> push, CancellationToken ct) =>
        ForEachActiveBatchAsync(cursor => graph.FollowersAfterAsync(authorId, cursor, feed.Options.FanOutBatch, ct), push, ct);

    /// <summary>The same over the followers of any of <paramref name="tagNames"/> (one who follows two of them is pushed twice: adding is idempotent).</summary>
    internal Task<(int Followers, int Pushed)> ForEachActiveTagFollowerBatchAsync(IReadOnlyCollection<string> tagNames, Func<IReadOnlyList<string>, Task<int>> push, CancellationToken ct) =>
        ForEachActiveBatchAsync(cursor => tags.FollowersAfterAsync(tagNames, cursor, feed.Options.FanOutBatch, ct), push, ct);

    private async Task<(int Followers, int Pushed)> ForEachActiveBatchAsync(Func<long, Task<List<GraphEdge>>> next, Func<IReadOnlyList<string>, Task<int>> push, CancellationToken ct)
    {
        long cursor = 0;
        var followers = 0;
        var pushed = 0;
        while (true)
        {
            var batch = await next(cursor);
            if (batch.Count == 0)
                break;
            followers += batch.Count;
            var active = await feed.ActiveAmongAsync(batch.Select(e => e.AccountId).ToList(), ct);
            if (active.Count > 0)
                pushed += await push(active.Select(FeedService.Key).ToList());
            cursor = batch[^1].Id;
            if (batch.Count < feed.Options.FanOutBatch)
                break; // a short batch was the last: no query to learn that
        }
        return (followers, pushed);
    }
}
