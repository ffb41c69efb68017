using Lenta.Server.Graph;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;
using Lenta.Server.Tags;

namespace Lenta.Server.Feed;

/// <summary>
/// Hands the feed's jobs over with the post or follow they concern, and puts an author's own post into their own
/// timeline right after the commit (read-your-writes without a job). Every feed job only changes cached timelines:
/// with a cache that outlives the process they are written in the same transaction (outbox), so a crash cannot lose
/// one; with the in-process cache they run in memory after the commit (<see cref="IJobQueue.EnqueueInProcessAsync"/>),
/// since a crash loses them together with every timeline they would have changed, and those are rebuilt from the
/// database on their next read. It depends on nothing that depends on posts or follows: the Post and Graph services hold it.
/// </summary>
public sealed class FeedObserver(IJobQueue queue, ICache cache, Microsoft.Extensions.Options.IOptions<FeedOptions> options) : IPostObserver, IFollowObserver, ITagFollowObserver
{
    public const string Queue = "feed";

    /// <summary>A direct post goes the same way, but <see cref="FanOutHandler"/> pushes it to the accounts it mentions instead of the followers.</summary>
    public async Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        await EnqueueAsync(write, JobRequest.For(Queue, FanOutHandler.JobType, new FanOutJob(post.Id, post.AccountId)));
        write.AfterCommit(() => cache.SortedAddIfPresentAsync(FeedService.Key(post.AccountId), new[] { post.Id }, options.Value.TimelineSize).AsTask());
    }

    public async Task PostDeletedAsync(DbWrite write, PostCore post)
    {
        write.AfterCommit(() => cache.SortedRemoveAsync(FeedService.Key(post.AccountId), new[] { post.Id }).AsTask());
        if (post.Visibility == Visibility.Direct)
        {
            // It reached only the mentioned, and reads skip a deleted post already: taking it out of their timelines is tidying.
            var keys = post.MentionIds.Select(FeedService.Key).ToList();
            if (keys.Count > 0)
                write.AfterCommit(() => cache.SortedRemoveFromManyAsync(keys, post.Id).AsTask());
            return;
        }
        var tags = post.Visibility == Visibility.Public && post.TagNames.Length > 0 ? post.TagNames : null;
        await EnqueueAsync(write, JobRequest.For(Queue, RetractHandler.JobType, new FanOutJob(post.Id, post.AccountId, tags)));
    }

    public Task FollowedAsync(DbWrite write, long follower, long target) =>
        EnqueueAsync(write, JobRequest.For(Queue, MergeHandler.JobType, new FollowJob(follower, target)));

    public Task UnfollowedAsync(DbWrite write, long follower, long target) =>
        EnqueueAsync(write, JobRequest.For(Queue, UnmergeHandler.JobType, new FollowJob(follower, target)));

    /// <summary>
    /// Following or unfollowing a tag drops the reader's cached timeline after the commit: its next read rebuilds it with
    /// (or without) the tag's recent public posts. Tag follows are rare next to reads, and a rebuild is what a missing
    /// timeline costs anyway; a merge job per tag would have to tell a tag's post from one of a followed author.
    /// </summary>
    public Task TagFollowChangedAsync(DbWrite write, long account, string tag, bool following)
    {
        write.AfterCommit(() => cache.RemoveAsync(FeedService.Key(account)).AsTask());
        return Task.CompletedTask;
    }

    private Task EnqueueAsync(DbWrite write, JobRequest job) =>
        cache.OutlivesProcess ? queue.EnqueueAsync(write, job) : queue.EnqueueInProcessAsync(write, job);
}
