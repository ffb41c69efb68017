using System.Collections.Immutable;
using System.Threading.Channels;

namespace Lenta.Server.Streaming;

/// <summary>A subscription: a stream name of docs.joinmastodon.org/methods/streaming, and the tag of a hashtag stream.</summary>
public sealed record Subscription(string Stream, string? Tag)
{
    public const string User = "user";
    public const string UserNotification = "user:notification";
    public const string Public = "public";
    public const string PublicLocal = "public:local";
    public const string Hashtag = "hashtag";
    public const string HashtagLocal = "hashtag:local";
    public const string Direct = "direct";

    /// <summary>The subscription, or null for an unknown stream or a hashtag stream without its tag.</summary>
    public static Subscription? Parse(string? stream, string? tag) => stream switch
    {
        User or UserNotification or Public or PublicLocal or Direct => new(stream, null),
        Hashtag or HashtagLocal when !string.IsNullOrWhiteSpace(tag) => new(stream, Posts.Hashtags.Normalize(tag) ?? tag.Trim().TrimStart('#').ToLowerInvariant()),
        _ => null,
    };

    /// <summary>The frame's <c>stream</c> array: the name, and the tag for a hashtag stream.</summary>
    public string[] Names => Tag is null ? [Stream] : [Stream, Tag];

    public bool IsUser => Stream is User or UserNotification;
}

/// <summary>
/// What a connection sends next: an event to render for its viewer, or a ready frame (an error answer). A post's event
/// carries whether the viewer follows its author when the hub looked it up for every connection at once (null: not
/// looked up).
/// </summary>
public readonly record struct Outgoing(StreamEvent? Event, string? Frame, bool? Follows = null);

/// <summary>
/// One open streaming connection (a WebSocket or an event stream) of a signed-in viewer: its subscriptions and its
/// bounded queue. The bus's thread only offers events; the connection's own loop renders and writes them. A
/// connection whose queue is full (a client that does not read) is dropped rather than buffered without bound.
/// </summary>
public sealed class StreamConnection(long viewer, HttpContext context, Action drop)
{
    /// <summary>Events a connection may have waiting; past that it is dropped.</summary>
    public const int QueueCapacity = 512;

    private readonly Channel<Outgoing> _queue = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private ImmutableHashSet<Subscription> _subscriptions = [];
    private int _dropped;

    public long Viewer => viewer;

    /// <summary>The upgrade request, alive as long as the connection: statuses are rendered with it as for a REST call.</summary>
    public HttpContext Context => context;

    public ImmutableHashSet<Subscription> Subscriptions => Volatile.Read(ref _subscriptions);

    public ChannelReader<Outgoing> Queue => _queue.Reader;

    public void Subscribe(Subscription s) => ImmutableInterlocked.Update(ref _subscriptions, set => set.Add(s));

    public void Unsubscribe(Subscription s) => ImmutableInterlocked.Update(ref _subscriptions, set => set.Remove(s));

    /// <summary>Whether <paramref name="e"/> could concern this connection, before who follows whom is known.</summary>
    public bool Wants(StreamEvent e)
    {
        var subs = Subscriptions;
        return e.Kind switch
        {
            StreamEvent.Notification => e.Recipient == viewer && subs.Any(s => s.IsUser),
            StreamEvent.Conversation => e.Recipient == viewer && subs.Any(s => s.Stream == Subscription.Direct),
            _ => subs.Any(s => s.Stream is not (Subscription.UserNotification or Subscription.Direct)),
        };
    }

    /// <summary>
    /// Whether a post's event needs to know if the viewer follows its author: a <c>user</c> stream carries the posts of
    /// followed accounts, and a private post is for followers only.
    /// </summary>
    public bool NeedsFollow(StreamEvent e) =>
        e.AuthorId != viewer && (Subscriptions.Any(s => s.Stream == Subscription.User) || e.Visibility == Posts.Visibility.Private);

    /// <summary>Only user streams, which carry a post only of the viewer, an account they follow, or one mentioning them.</summary>
    public bool OnlyUserStreams => Subscriptions.All(s => s.IsUser);

    /// <summary>Queues <paramref name="e"/> if it could concern this connection; false when the queue was full and the connection is dropped.</summary>
    public bool Offer(StreamEvent e, bool? follows = null) => !Wants(e) || Enqueue(new Outgoing(e, null, follows));

    /// <summary>Queues <paramref name="item"/>; false only for the item that found the queue full and dropped the connection.</summary>
    public bool Enqueue(Outgoing item)
    {
        if (WasDropped || _queue.Writer.TryWrite(item))
            return true;
        if (Interlocked.Exchange(ref _dropped, 1) == 0)
        {
            _queue.Writer.TryComplete();
            drop();
        }
        return false;
    }

    public bool WasDropped => Volatile.Read(ref _dropped) == 1;

    public void Complete() => _queue.Writer.TryComplete();
}
