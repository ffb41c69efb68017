using System.Globalization;
using System.Text.Json;
using Lenta.Server.Conversations;
using Lenta.Server.Graph;
using Lenta.Server.Notifications;
using Lenta.Server.Posts;

namespace Lenta.Server.Streaming;

/// <summary>One event for one connection: its streams that should carry it, each with the event name and payload.</summary>
public readonly record struct Delivery(Subscription Subscription, string Event, string Payload);

/// <summary>
/// Decides who gets what (docs/ARCHITECTURE.md, "Streaming") and renders the payload for the connection's viewer as
/// the REST API renders it: <c>user</c> carries the posts of the accounts the viewer follows and their own, and their
/// notifications; <c>public</c> (and <c>public:local</c>: every post here is local) public posts that are not replies to
/// others, as the public timeline; <c>hashtag</c> public posts with the tag. A viewer only receives a post they may see
/// (<see cref="PostCore.VisibleTo"/>): a private post only its author, followers and mentioned; a direct one never
/// on a public stream (the <c>user</c> streams of its author and the mentioned carry it). <c>direct</c> carries
/// <c>conversation</c> events: the viewer's conversation, rendered as <c>GET /api/v1/conversations</c> lists it.
/// </summary>
public sealed class StreamRenderer(PostService posts, GraphService graph, BlocksAndMutes hidden, StatusPresenter statuses, NotificationStore notifications, NotificationPresenter notificationPresenter,
    ConversationService conversations, ConversationPresenter conversationPresenter)
{
    /// <param name="follows">whether the viewer follows the post's author, when the hub looked it up already</param>
    public async Task<List<Delivery>> RenderAsync(StreamConnection connection, StreamEvent e, CancellationToken ct, bool? follows = null)
    {
        var result = new List<Delivery>();
        var subs = connection.Subscriptions;
        var viewer = connection.Viewer;
        if (e.Kind == StreamEvent.Notification)
        {
            if (e.Recipient != viewer)
                return result;
            var row = await notifications.GetAsync(viewer, e.NotificationId, ct);
            if (row is null)
                return result; // dismissed or undone since
            var loaded = await notificationPresenter.LoadAsync(viewer, [row.FromAccountId], [row.StatusId], connection.Context, ct);
            if (!loaded.Shows(row))
                return result;
            var payload = NotificationPresenter.Entity(row, loaded).ToJsonString();
            foreach (var s in subs.Where(s => s.IsUser))
                result.Add(new Delivery(s, StreamEvent.Notification, payload));
            return result;
        }

        if (e.Kind == StreamEvent.Conversation)
        {
            if (e.Recipient != viewer || await conversations.GetAsync(viewer, e.ConversationId, ct) is not { } conversation)
                return result; // removed since
            var entity = (await conversationPresenter.PresentAsync(viewer, [conversation], connection.Context, ct))[0];
            var json = JsonSerializer.Serialize(entity, ConversationsJson.Default.ConversationEntity);
            foreach (var s in subs.Where(s => s.Stream == Subscription.Direct))
                result.Add(new Delivery(s, StreamEvent.Conversation, json));
            return result;
        }

        var own = e.AuthorId == viewer;
        var mentioned = e.Mentions.Contains(viewer);
        // The follow is looked up only where it decides something: a user stream, or a private post.
        var needsFollow = !own && (subs.Any(s => s.Stream == Subscription.User) || e.Visibility == Visibility.Private);
        var followsAuthor = needsFollow && (follows ?? await graph.FollowsAsync(viewer, e.AuthorId, ct));
        var visible = e.Visibility switch
        {
            Visibility.Public or Visibility.Unlisted => true,
            Visibility.Private => own || followsAuthor || mentioned,
            _ => own || mentioned,
        };
        if (!visible)
            return result;
        // As the timelines: posts of accounts the viewer blocks or mutes, or that block the viewer, are left out.
        // A boost also when the viewer hides the original's author, or follows the booster with reblogs=false (boosts
        // reach only the user stream).
        // (The viewer is never among the accounts or boosters hidden from them: their own posts pass.)
        if ((!own || e.ReblogOfAccountId is not null)
            && (await hidden.HomeHiddenAsync(viewer, ct)).Hides(e.AuthorId, boost: e.ReblogOfAccountId is not null, e.ReblogOfAccountId))
            return result;
        var matched = subs.Where(s => Carries(s, e, own, followsAuthor, mentioned)).ToList();
        if (matched.Count == 0)
            return result;

        string payload2;
        if (e.Kind == StreamEvent.Delete)
        {
            payload2 = e.StatusId.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var core = await posts.Cache.GetAsync(e.StatusId, ct);
            if (core is null)
                return result; // deleted before it was rendered: its delete follows
            var entity = await statuses.PresentOneAsync(core, connection.Context, ct);
            if (entity is null)
                return result;
            payload2 = JsonSerializer.Serialize(entity, PostsJson.Default.StatusEntity);
        }
        foreach (var s in matched)
            result.Add(new Delivery(s, e.Kind, payload2));
        return result;
    }

    private static bool Carries(Subscription s, StreamEvent e, bool own, bool follows, bool mentioned)
    {
        // Boosts stay off the public timelines and their streams, as in Mastodon (FanOutOnWriteService#broadcastable?).
        var publicTimeline = e.Visibility == Visibility.Public && e.ReblogOfAccountId is null && (e.InReplyToAccountId is null || e.InReplyToAccountId == e.AuthorId);
        return s.Stream switch
        {
            Subscription.User => own || follows || (mentioned && e.Visibility == Visibility.Direct),
            Subscription.Public or Subscription.PublicLocal => publicTimeline,
            Subscription.Hashtag or Subscription.HashtagLocal => e.Visibility == Visibility.Public && e.ReblogOfAccountId is null
                && e.Tags.Any(t => string.Equals(t, s.Tag, StringComparison.OrdinalIgnoreCase)),
            _ => false,
        };
    }
}
