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
    private readonly IDisposable? _subscription;

    public StreamingHub(IEventBus bus, StreamingMetrics metrics, ILogger<StreamingHub> log)
    {
        _metrics = metrics;
        _log = log;
        try
        {
            _subscription = bus.Subscribe(StreamingPublisher.Topic, OnMessage);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
        {
            // Live events are best effort: the sockets open, and carry what this process hears once the bus answers.
            _log.LogWarning(e, "Streaming could not subscribe to the event bus");
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

    public void Dispose() => _subscription?.Dispose();
}
