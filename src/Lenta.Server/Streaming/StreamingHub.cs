using System.Collections.Concurrent;
using System.Text.Json;
using Lenta.Server.Platform.Events;

namespace Lenta.Server.Streaming;

/// <summary>This process's open streaming connections, and its one subscription to the bus that feeds them.</summary>
public sealed class StreamingHub : IDisposable
{
    private readonly ConcurrentDictionary<StreamConnection, byte> _connections = new();
    private readonly StreamingMetrics _metrics;
    private readonly ILogger<StreamingHub> _log;
    private readonly CancellationTokenSource _stopping = new();
    private volatile IDisposable? _subscription;

    public StreamingHub(IEventBus bus, StreamingMetrics metrics, ILogger<StreamingHub> log)
    {
        _metrics = metrics;
        _log = log;
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
        if (e is null)
            return;
        foreach (var connection in _connections.Keys)
        {
            if (!connection.Offer(e))
                _metrics.Drop();
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _subscription?.Dispose();
    }
}
