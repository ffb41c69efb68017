using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Events;

namespace Lenta.Server.Streaming;

/// <summary>
/// This process's open streaming connections, and its one subscription to the bus that feeds them. Events are routed
/// one at a time, in the order heard (a post's <c>update</c> before its <c>delete</c>): for a post, who among the
/// viewers with open connections follows its author is one query for all of them (not one per connection), and a
/// connection with only user streams is offered only a post of its viewer, of an account they follow, or mentioning them.
/// </summary>
public sealed class StreamingHub : IDisposable
{
    /// <summary>Events heard and not yet routed; past that the bus's events are dropped (counted as drops).</summary>
    private const int Backlog = 65_536;

    private readonly ConcurrentDictionary<StreamConnection, byte> _connections = new();
    private readonly Channel<StreamEvent> _heard = Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(Backlog)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly GraphService _graph;
    private readonly StreamingMetrics _metrics;
    private readonly ILogger<StreamingHub> _log;
    private readonly CancellationTokenSource _stopping = new();
    private volatile IDisposable? _subscription;

    public StreamingHub(IEventBus bus, GraphService graph, StreamingMetrics metrics, ILogger<StreamingHub> log)
    {
        _graph = graph;
        _metrics = metrics;
        _log = log;
        _ = Task.Run(RouteAllAsync);
        if (!TrySubscribe(bus))
            _ = Task.Run(() => SubscribeUntilDoneAsync(bus));
    }

    /// <summary>
    /// Subscribes to the bus; false when it does not answer now (Redis away or slower than its timeout). Live events are
    /// best effort: the sockets open meanwhile, and carry what this process hears once the subscription is made.
    /// </summary>
    private bool TrySubscribe(IEventBus bus)
    {
        try
        {
            _subscription = bus.Subscribe(StreamingPublisher.Topic, OnMessage);
            return true;
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            _log.LogWarning(e, "Streaming could not subscribe to the event bus; trying again");
            return false;
        }
    }

    /// <summary>Tries again after 0.5 s, doubling up to 10 s, until subscribed or disposed.</summary>
    private async Task SubscribeUntilDoneAsync(IEventBus bus)
    {
        var pause = TimeSpan.FromMilliseconds(500);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(pause, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (TrySubscribe(bus))
            {
                if (_stopping.IsCancellationRequested)
                    _subscription?.Dispose();
                return;
            }
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 10_000));
        }
    }

    public void Add(StreamConnection connection, bool socket)
    {
        _connections.TryAdd(connection, 0);
        _metrics.Opened(socket);
    }

    public void Remove(StreamConnection connection, bool socket)
    {
        if (_connections.TryRemove(connection, out _))
            _metrics.Closed(socket);
    }

    private void OnMessage(byte[] message)
    {
        StreamEvent? e;
        try
        {
            e = JsonSerializer.Deserialize(message, StreamingJson.Default.StreamEvent);
        }
        catch (JsonException ex)
        {
            _log.LogWarning(ex, "Unreadable streaming event on the bus");
            return;
        }
        if (e is not null && !_heard.Writer.TryWrite(e))
            _metrics.Drop();
    }

    private async Task RouteAllAsync()
    {
        try
        {
            await foreach (var e in _heard.Reader.ReadAllAsync(_stopping.Token))
            {
                try
                {
                    await RouteAsync(e);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
                {
                    _log.LogWarning(ex, "Routing a streaming event failed");
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task RouteAsync(StreamEvent e)
    {
        var wanting = _connections.Keys.Where(c => c.Wants(e)).ToList();
        if (e.Kind is StreamEvent.Notification or StreamEvent.Conversation)
        {
            // Addressed to one account (Wants checked the recipient): no author whose followers matter.
            foreach (var connection in wanting)
                Offer(connection, e, null);
            return;
        }
        var asking = wanting.Where(c => c.NeedsFollow(e)).Select(c => c.Viewer).ToHashSet();
        var followers = asking.Count == 0 ? [] : await _graph.FollowersAmongAsync(e.AuthorId, asking, _stopping.Token);
        foreach (var connection in wanting)
        {
            bool? follows = asking.Contains(connection.Viewer) ? followers.Contains(connection.Viewer) : null;
            if (follows == false && connection.OnlyUserStreams && !e.Mentions.Contains(connection.Viewer))
                continue;
            Offer(connection, e, follows);
        }
    }

    private void Offer(StreamConnection connection, StreamEvent e, bool? follows)
    {
        if (!connection.Offer(e, follows))
            _metrics.Drop();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _subscription?.Dispose();
    }
}
