using StackExchange.Redis;

namespace Lenta.Server.Platform.Events;

/// <summary>
/// The bus across processes on Redis pub/sub, over the cache's connection (one multiplexer per process) and under the
/// cache's key prefix, so servers sharing a Redis under different prefixes do not hear each other. Every process,
/// the publisher included, hears a message through Redis. While Redis is away publishes are dropped (logged) and the
/// multiplexer subscribes again by itself once it reconnects; what was published meanwhile is not seen live.
/// </summary>
public sealed class RedisEventBus(IConnectionMultiplexer redis, string prefix, ILogger<RedisEventBus> log) : IEventBus
{
    public async Task PublishAsync(string topic, byte[] message)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel(topic), message);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            log.LogWarning(e, "Event of {Topic} not published: Redis did not answer", topic);
        }
    }

    public IDisposable Subscribe(string topic, Action<byte[]> handler)
    {
        // The queue API hands messages over one at a time in the order Redis sent them (the callback API may run them
        // concurrently): a post's delete must not overtake its update.
        var queue = redis.GetSubscriber().Subscribe(Channel(topic));
        queue.OnMessage(message =>
        {
            try
            {
                handler((byte[])message.Message!);
            }
            catch (Exception e)
            {
                log.LogError(e, "Event bus subscriber of {Topic} failed", topic);
            }
        });
        return new InProcessEventBus.Unsubscriber(() => queue.Unsubscribe());
    }

    private RedisChannel Channel(string topic) => RedisChannel.Literal(prefix + "events:" + topic);
}
