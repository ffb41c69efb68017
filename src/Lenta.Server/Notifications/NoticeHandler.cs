using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>
/// Writes one notification of a follow, follow request or boost (<see cref="LikesNoticeHandler"/> those of likes), in a transaction that first makes sure its cause still
/// stands, holding the cause's row (on PostgreSQL) until the notification is written: an undo committed before finds
/// no cause, one racing waits and then deletes what this wrote. A second delivery inserts nothing (unique cause).
/// </summary>
public sealed class NoticeHandler(IDatabase db, NotificationWriter writer) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "notifications.notice";

    public string Type => JobType;

    public string Queue => NotificationObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var n = job.Read<NoticeJob>();
        await db.WriteAsync(async w =>
        {
            var stands = n.Type switch
            {
                NotificationTypes.Follow => await GraphService.HoldsFollowAsync(w, n.From, n.Recipient),
                NotificationTypes.FollowRequest => await GraphService.HoldsRequestAsync(w, n.From, n.Recipient),
                NotificationTypes.Reblog => await PostBoosts.HoldsBoostAsync(w, n.From, n.StatusId),
                _ => throw new PermanentJobFailureException($"Unknown notification type '{n.Type}'."),
            };
            if (stands)
                await writer.InsertAsync(w, n.Type, n.Recipient, n.From, n.StatusId, n.At);
        }, ct);
    }
}
