using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>
/// A new post tells the accounts it mentions (<c>mention</c>) and, for a top-level post or a self-reply that is not
/// direct, the followers who asked to be notified of the author's posts (<c>status</c>; a follower it mentions is told
/// once, of the mention). An account that blocks the author, or that the author blocks, is not told of a mention. Followers are read a batch at a time along a partial index and written a batch per
/// transaction, each of which first holds the post's row, so a delete racing it waits and then takes the rows away.
/// Delivered again, it inserts nothing new (unique cause).
/// </summary>
public sealed class PostNoticesHandler(IDatabase db, PostService posts, GraphService graph, BlocksAndMutes blocks, NotificationWriter writer) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "notifications.post";

    private const int Batch = 500;

    public string Type => JobType;

    public string Queue => NotificationObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<PostNoticesJob>();
        var post = await posts.Cache.GetAsync(work.StatusId, ct);
        if (post is null)
            return; // deleted before this ran
        var mentioned = post.MentionIds.Where(m => m != post.AccountId).Distinct().ToList();
        if (mentioned.Count > 0 && await blocks.BlockedEitherWayAmongAsync(post.AccountId, mentioned, ct) is { Count: > 0 } blocked)
            mentioned.RemoveAll(blocked.Contains);
        if (mentioned.Count > 0 && !await WriteAsync(work, NotificationTypes.Mention, mentioned, ct))
            return;

        var repliesToOther = post.InReplyToAccountId is { } parent && parent != post.AccountId;
        if (repliesToOther || post.Visibility == Visibility.Direct)
            return;
        var after = 0L;
        while (true)
        {
            var edges = await graph.NotifiedFollowersAfterAsync(post.AccountId, after, Batch, ct);
            if (edges.Count == 0)
                return;
            after = edges[^1].Id;
            var told = edges.Select(e => e.AccountId).Where(a => !mentioned.Contains(a)).ToList();
            if (told.Count > 0 && !await WriteAsync(work, NotificationTypes.Status, told, ct))
                return;
            if (edges.Count < Batch)
                return;
        }
    }

    /// <summary>One transaction for <paramref name="recipients"/>; false when the post is gone.</summary>
    private Task<bool> WriteAsync(PostNoticesJob work, string type, IReadOnlyList<long> recipients, CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            if (!await PostService.HoldsPostAsync(w, work.StatusId))
                return false;
            await writer.InsertManyAsync(w, type, recipients.Select(r => new Notice(r, work.AuthorId, work.StatusId, work.At)).ToList());
            return true;
        }, ct);
}
