using Lenta.Server.Likes;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>
/// Tells posts' authors of the likes a fold took up (<see cref="NotificationObserver.LikesFoldedAsync"/>) and that
/// <see cref="LikeNoticeBatcher"/> had not told already, all in one
/// transaction of three statements: each like still standing — its row read and, on PostgreSQL, held until the commit, so an unlike racing
/// this waits and then deletes what it wrote — becomes a <c>favourite</c> notification, unless it is the author's own.
/// Delivered again, it inserts nothing new (unique cause).
/// </summary>
public sealed class LikesNoticeHandler(IDatabase db, PostService posts, NotificationWriter writer) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "notifications.likes";

    public string Type => JobType;

    public string Queue => NotificationObserver.Queue;

    public Task HandleAsync(Job job, CancellationToken ct) => TellAsync(job.Read<LikesNoticeJob>().Likes, ct);

    /// <summary>Writes the <c>favourite</c> notifications of <paramref name="likes"/> in one transaction (the job's work, and <see cref="LikeNoticeBatcher"/>'s).</summary>
    public async Task TellAsync(IReadOnlyList<LikeNotice> likes, CancellationToken ct)
    {
        var found = await posts.Cache.GetManyAsync(likes.Select(l => l.StatusId).Distinct().ToList(), ct);
        var told = likes.Where(l => found.TryGetValue(l.StatusId, out var post) && post.AccountId != l.Liker).ToList();
        if (told.Count == 0)
            return;
        await db.WriteAsync(async w =>
        {
            var held = await LikesService.HeldLikesAsync(w, told.Select(l => (l.Liker, l.StatusId)).Distinct().ToList());
            await writer.InsertManyAsync(w, NotificationTypes.Favourite, told
                .Where(l => held.Contains((l.Liker, l.StatusId)))
                .Select(l => new Notice(found[l.StatusId].AccountId, l.Liker, l.StatusId, l.At))
                .ToList());
        }, ct);
    }
}
