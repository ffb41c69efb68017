using System.Text.Json;
using Lenta.Server.Conversations;
using Lenta.Server.Notifications;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Events;
using Lenta.Server.Posts;

namespace Lenta.Server.Streaming;

/// <summary>
/// Publishes what streaming clients watch, from the process that commits the cause and only once it has committed
/// (<see cref="DbWrite.AfterCommit(Func{Task})"/>): a rolled-back post is never streamed. Best effort: a crash between the
/// commit and the publish loses the live event, never the post; clients catch up through the REST timelines.
/// </summary>
public sealed class StreamingPublisher(IEventBus bus, TimeProvider time) : IPostObserver, INotificationObserver, IConversationObserver
{
    public const string Topic = "streaming";

    public Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        write.AfterCommit(() => PublishAsync(Of(StreamEvent.Update, post)));
        return Task.CompletedTask;
    }

    public Task PostEditedAsync(DbWrite write, PostCore post)
    {
        write.AfterCommit(() => PublishAsync(Of(StreamEvent.StatusUpdate, post)));
        return Task.CompletedTask;
    }

    public Task PostDeletedAsync(DbWrite write, PostCore post)
    {
        write.AfterCommit(() => PublishAsync(Of(StreamEvent.Delete, post)));
        return Task.CompletedTask;
    }

    public void NotificationWritten(DbWrite write, long recipient, long notificationId) =>
        write.AfterCommit(() => PublishAsync(new StreamEvent(StreamEvent.Notification, 0, 0, 0, null, [], [], recipient, notificationId, Now)));

    public void ConversationChanged(DbWrite write, long accountId, long conversationId) =>
        write.AfterCommit(() => PublishAsync(new StreamEvent(StreamEvent.Conversation, 0, 0, 0, null, [], [], accountId, 0, Now, ConversationId: conversationId)));

    private StreamEvent Of(string kind, PostCore post) =>
        new(kind, post.Id, post.AccountId, post.Visibility, post.InReplyToAccountId, post.MentionIds, post.TagNames, 0, 0, Now, post.ReblogOfAccountId);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private Task PublishAsync(StreamEvent e) => bus.PublishAsync(Topic, JsonSerializer.SerializeToUtf8Bytes(e, StreamingJson.Default.StreamEvent));
}
