using System.Collections.Immutable;

namespace Lenta.Server.Platform.Events;

/// <summary>The bus of a single process (the embedded stores): a publish calls this process's subscribers directly.</summary>
public sealed class InProcessEventBus(ILogger<InProcessEventBus> log) : IEventBus
{
    private ImmutableDictionary<string, ImmutableArray<Action<byte[]>>> _handlers = ImmutableDictionary<string, ImmutableArray<Action<byte[]>>>.Empty;

    public Task PublishAsync(string topic, byte[] message)
    {
        if (!_handlers.TryGetValue(topic, out var handlers))
            return Task.CompletedTask;
        foreach (var handler in handlers)
        {
            try
            {
                handler(message);
            }
            catch (Exception e)
            {
                // One subscriber's fault must not stop the others nor reach the publisher (which has committed).
                log.LogError(e, "Event bus subscriber of {Topic} failed", topic);
            }
        }
        return Task.CompletedTask;
    }

    public IDisposable Subscribe(string topic, Action<byte[]> handler)
    {
        ImmutableInterlocked.AddOrUpdate(ref _handlers, topic, _ => [handler], (_, list) => list.Add(handler));
        return new Unsubscriber(() => ImmutableInterlocked.AddOrUpdate(ref _handlers, topic, _ => [], (_, list) => list.Remove(handler)));
    }

    internal sealed class Unsubscriber(Action action) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                action();
        }
    }
}
