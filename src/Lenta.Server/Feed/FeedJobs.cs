using System.Diagnostics;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Feed;

public sealed record FanOutJob(long StatusId, long AuthorId);

public sealed record FollowJob(long Follower, long Target);

/// <summary>
/// Hands the feed's jobs over with the post or follow they concern, and puts an author's own post into their own
/// timeline right after the commit (read-your-writes without a job). Every feed job only changes cached timelines:
/// with a cache that outlives the process they are written in the same transaction (outbox), so a crash cannot lose
/// one; with the in-process cache they run in memory after the commit (<see cref="IJobQueue.EnqueueInProcessAsync"/>),
/// since a crash loses them together with every timeline they would have changed, and those are rebuilt from the
/// database on their next read. It depends on nothing that depends on posts or follows: the Post and Graph services hold it.
/// </summary>
public sealed class FeedObserver(IJobQueue queue, ICache cache, Microsoft.Extensions.Options.IOptions<FeedOptions> options) : IPostObserver, IFollowObserver
{
    public const string Queue = "feed";

    public async Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        if (post.Visibility == Visibility.Direct)
            return;
        await EnqueueAsync(write, JobRequest.For(Queue, FanOutHandler.Push, new FanOutJob(post.Id, post.AccountId)));
        write.AfterCommit(() => cache.SortedAddIfPresentAsync(FeedService.Key(post.AccountId), new[] { post.Id }, options.Value.TimelineSize).AsTask());
    }

    public async Task PostDeletedAsync(DbWrite write, PostCore post)
    {
        await EnqueueAsync(write, JobRequest.For(Queue, FanOutHandler.Retract, new FanOutJob(post.Id, post.AccountId)));
        write.AfterCommit(() => cache.SortedRemoveAsync(FeedService.Key(post.AccountId), new[] { post.Id }).AsTask());
    }

    public Task FollowedAsync(DbWrite write, long follower, long target) =>
        EnqueueAsync(write, JobRequest.For(Queue, MergeHandler.Merge, new FollowJob(follower, target)));

    public Task UnfollowedAsync(DbWrite write, long follower, long target) =>
        EnqueueAsync(write, JobRequest.For(Queue, MergeHandler.Unmerge, new FollowJob(follower, target)));

    private Task EnqueueAsync(DbWrite write, JobRequest job) =>
        cache.OutlivesProcess ? queue.EnqueueAsync(write, job) : queue.EnqueueInProcessAsync(write, job);
}

/// <summary>Where fan-out time goes: from the post's creation to its last timeline push (benchmarks read it).</summary>
public sealed class FanOutMetrics
{
    private readonly Lock _gate = new();
    private readonly List<FanOutSample> _recent = [];

    public sealed record FanOutSample(long StatusId, int Followers, int Pushed, double MillisecondsFromPost, double MillisecondsWorking, bool Pulled);

    public void Record(FanOutSample sample)
    {
        lock (_gate)
        {
            _recent.Add(sample);
            if (_recent.Count > 10_000)
                _recent.RemoveRange(0, 5_000);
        }
    }

    public IReadOnlyList<FanOutSample> Recent()
    {
        lock (_gate)
            return _recent.ToList();
    }
}

/// <summary>
/// Fan-out on write: pages through the author's followers (an index range scan per batch), keeps the ones
/// active within <see cref="FeedOptions.InactiveDays"/>, and adds the post id to each of their cached
/// timelines in one round trip per batch. Authors over the threshold become pull accounts instead (O(1)).
/// Idempotent: a set never holds an id twice, so a redelivered job pushes nothing twice.
/// </summary>
public sealed class FanOutHandler(FeedService feed, GraphService graph, PostService posts, ICache cache, FanOutMetrics metrics, TimeProvider time) : IJobHandler
{
    public const string Push = "feed.fanout";
    public const string Retract = "feed.retract";

    public string Type => Push;

    public string Queue => FeedObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<FanOutJob>();
        var started = Stopwatch.GetTimestamp();
        var post = await posts.Cache.GetAsync(work.StatusId, ct);
        if (post is null)
            return; // deleted before it was pushed
        if (await graph.FollowerCountAsync(work.AuthorId, ct) > feed.Options.FanOutThreshold)
        {
            await feed.MarkPullAsync(work.AuthorId, ct);
            metrics.Record(new(work.StatusId, 0, 0, Since(post.CreatedAt), Stopwatch.GetElapsedTime(started).TotalMilliseconds, true));
            return;
        }
        var (followers, pushed) = await ForEachActiveFollowerBatchAsync(work.AuthorId, keys =>
            cache.SortedAddToManyIfPresentAsync(keys, work.StatusId, feed.Options.TimelineSize, ct).AsTask(), ct);
        metrics.Record(new(work.StatusId, followers, pushed, Since(post.CreatedAt), Stopwatch.GetElapsedTime(started).TotalMilliseconds, false));
    }

    private double Since(long unixMs) => time.GetUtcNow().ToUnixTimeMilliseconds() - unixMs;

    internal async Task<(int Followers, int Pushed)> ForEachActiveFollowerBatchAsync(long authorId, Func<IReadOnlyList<string>, Task<int>> push, CancellationToken ct)
    {
        long cursor = 0;
        var followers = 0;
        var pushed = 0;
        while (true)
        {
            var batch = await graph.FollowersAfterAsync(authorId, cursor, feed.Options.FanOutBatch, ct);
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

    /// <summary>A deleted post leaves every follower's timeline (reads also skip it at once: its cache entry says deleted).</summary>
    public sealed class RetractHandler(FanOutHandler fanOut, ICache cache) : IJobHandler
    {
        public string Type => Retract;

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
}

/// <summary>Following merges the followed account's recent posts into the follower's timeline; unfollowing takes them out.</summary>
public sealed class MergeHandler(FeedService feed, PostService posts, ICache cache, GraphService graph) : IJobHandler
{
    public const string Merge = "feed.merge";
    public const string Unmerge = "feed.unmerge";
    private const int MergeCount = 100;

    public string Type => Merge;

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

    public sealed class UnmergeHandler(FeedService feed, PostService posts, ICache cache, GraphService graph) : IJobHandler
    {
        public string Type => Unmerge;

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
}
