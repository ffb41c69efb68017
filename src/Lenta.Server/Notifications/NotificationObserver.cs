using Lenta.Server.Graph;
using Lenta.Server.Likes;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>
/// Hears posts and follows in their own transactions, and likes twice: after each like's commit, handed in memory to
/// <see cref="LikeNoticeQueue"/> (the quick path of <see cref="LikeNoticeBatcher"/>, a tenth of a second), and in the transaction of the fold that takes
/// them up (a batch of up to thousands, about a second after they were acknowledged), where a job is written for those
/// the quick path has not told: a like's request writes nothing more than its row. What must be told is written there as a durable job (the outbox: it exists if and only if the cause, or the
/// fold, committed, and survives a crash), so no request waits for a notification; the job's handler writes the rows.
/// What is undone takes its notification away in the same transaction as the undo, so no one is told of a like that is
/// gone once the unlike is answered. Nobody is told of their own doing.
/// </summary>
public sealed class NotificationObserver(IJobQueue queue, TimeProvider time, LikeNoticeQueue quick) : IPostObserver, ILikeObserver, IFollowActivityObserver
{
    public const string Queue = "notifications";

    public async Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        if (post.ReblogOfId is { } original)
        {
            // A boost tells the original's author (reblog), unless they boosted their own post; nobody else.
            if (post.ReblogOfAccountId is { } author && author != post.AccountId)
                await NoticeAsync(write, NotificationTypes.Reblog, author, post.AccountId, original);
            return;
        }
        // A reply to someone else or a direct post tells only those it mentions (followers are told only of top-level
        // posts and self-replies, as Mastodon does); a post that mentions nobody by an author nobody asked to be told
        // about tells nobody: no job for either (most posts: no claim, no second transaction).
        var mentions = post.MentionIds.Any(m => m != post.AccountId);
        var repliesToOther = post.InReplyToAccountId is { } parent && parent != post.AccountId;
        if (!mentions && (repliesToOther || post.Visibility == Visibility.Direct || !await GraphService.HasNotifiedFollowersAsync(write, post.AccountId)))
            return;
        await queue.EnqueueAsync(write, JobRequest.For(Queue, PostNoticesHandler.JobType, new PostNoticesJob(post.Id, post.AccountId, post.CreatedAt)));
    }

    public async Task PostDeletedAsync(DbWrite write, PostCore post)
    {
        if (post.ReblogOfId is { } original)
        {
            await write.ExecuteAsync("DELETE FROM notifications WHERE account_id = @recipient AND type = @type AND from_account_id = @booster AND status_id = @original",
                new { recipient = post.ReblogOfAccountId ?? 0, type = NotificationTypes.Reblog, booster = post.AccountId, original });
            return;
        }
        // Every notification about the post: its likes' through their group keys (all the author's,
        // favourite-<post>-<hour>; ix_notifications_status leaves them out), the rest through the status index (its
        // WHERE repeated so the partial index serves it).
        var prefix = NotificationWriter.PrefixOf(NotificationTypes.Favourite, post.Id);
        await write.ExecuteAsync("DELETE FROM notifications WHERE account_id = @author AND group_key > @lo AND group_key < @hi AND type = 'favourite'",
            new { author = post.AccountId, lo = prefix, hi = prefix[..^1] + "." });
        await write.ExecuteAsync("DELETE FROM notifications WHERE status_id = @id AND status_id <> 0 AND type <> 'favourite'", new { id = post.Id });
    }

    /// <summary>Likes per job: bounds a job's payload and its transaction.</summary>
    public const int LikesPerJob = 200;

    public void LikeCommitted(FoldedLike like) => quick.Offer(like);

    public async Task LikesFoldedAsync(DbWrite write, IReadOnlyList<FoldedLike> likes)
    {
        // The quick path told most of them already; a job carries the rest. The posts' authors (the recipients) are
        // looked up by the job, not here: the fold holds the writer.
        var untold = likes.Where(l => !quick.TakeTold(l.Id)).ToList();
        foreach (var chunk in untold.Chunk(LikesPerJob))
        {
            await queue.EnqueueAsync(write, JobRequest.For(Queue, LikesNoticeHandler.JobType,
                new LikesNoticeJob(chunk.Select(l => new LikeNotice(l.AccountId, l.StatusId, l.CreatedAt)).ToList())));
        }
    }

    public Task UnlikedAsync(DbWrite write, long liker, PostCore post) =>
        write.ExecuteAsync("DELETE FROM notifications WHERE account_id = @recipient AND type = @type AND from_account_id = @liker AND status_id = @statusId",
            new { recipient = post.AccountId, type = NotificationTypes.Favourite, liker, statusId = post.Id });

    public Task FollowedAsync(DbWrite write, long follower, long target) => NoticeAsync(write, NotificationTypes.Follow, target, follower, 0);

    public Task RequestedAsync(DbWrite write, long requester, long target) => NoticeAsync(write, NotificationTypes.FollowRequest, target, requester, 0);

    public async Task EndedAsync(DbWrite write, long follower, long target)
    {
        foreach (var type in new[] { NotificationTypes.Follow, NotificationTypes.FollowRequest })
        {
            await write.ExecuteAsync("DELETE FROM notifications WHERE account_id = @target AND type = @type AND from_account_id = @follower AND status_id = 0",
                new { target, type, follower });
        }
    }

    private Task NoticeAsync(DbWrite write, string type, long recipient, long from, long statusId) =>
        queue.EnqueueAsync(write, JobRequest.For(Queue, NoticeHandler.JobType, new NoticeJob(type, recipient, from, statusId, time.GetUtcNow().ToUnixTimeMilliseconds())));
}
