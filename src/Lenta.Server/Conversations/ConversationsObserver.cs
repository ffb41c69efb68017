using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Conversations;

/// <summary>Payload of <see cref="DeliverHandler"/>: a new direct post.</summary>
public sealed record DeliverJob(long StatusId);

/// <summary>
/// A direct post writes its delivery job in its own transaction (outbox: it exists if and only if the post committed,
/// and survives a crash); a deleted one leaves its conversations in the delete's transaction.
/// </summary>
public sealed class ConversationsObserver(IJobQueue queue) : IPostObserver
{
    public const string Queue = "conversations";

    public Task PostCreatedAsync(DbWrite write, PostCore post) =>
        post.Visibility == Visibility.Direct ? queue.EnqueueAsync(write, JobRequest.For(Queue, DeliverHandler.JobType, new DeliverJob(post.Id))) : Task.CompletedTask;

    public Task PostDeletedAsync(DbWrite write, PostCore post) =>
        post.Visibility == Visibility.Direct ? ConversationService.PostDeletedAsync(write, post.Id) : Task.CompletedTask;
}

/// <summary>Files a direct post into its participants' conversations (<see cref="ConversationService.DeliverAsync"/>); delivered again, it changes nothing.</summary>
public sealed class DeliverHandler(PostService posts, ConversationService conversations) : IJobHandler
{
    /// <summary>Stored with every queued job: never change it.</summary>
    public const string JobType = "conversations.deliver";

    public string Type => JobType;

    public string Queue => ConversationsObserver.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var post = await posts.Cache.GetAsync(job.Read<DeliverJob>().StatusId, ct);
        if (post is null || post.Visibility != Visibility.Direct)
            return; // deleted before this ran
        await conversations.DeliverAsync(post, ct);
    }
}
