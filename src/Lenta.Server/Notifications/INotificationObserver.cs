using Lenta.Server.Platform.Database;

namespace Lenta.Server.Notifications;

/// <summary>
/// Hears each notification written, inside the transaction that writes it (a notifications job's): a module above
/// (Streaming) registers what to do once it commits with <see cref="DbWrite.AfterCommit(Func{Task})"/>.
/// </summary>
public interface INotificationObserver
{
    void NotificationWritten(DbWrite write, long recipient, long notificationId);
}
