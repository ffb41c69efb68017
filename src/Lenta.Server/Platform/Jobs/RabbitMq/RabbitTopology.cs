using System.Collections.Concurrent;
using RabbitMQ.Client;

namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>
/// The queues of one job queue name, all on the default exchange (routing key = queue name): the work queue
/// (<c>prefix + queue</c>, a quorum queue: replicated, and it counts deliveries, which gives a redelivered job its attempt
/// number), one wait queue per retry attempt and one for delayed jobs (classic, durable, dead-lettering back into the
/// work queue when a message's TTL runs out), and <c>.failed</c>, where a job that gave up stays with its reason in its
/// headers. The broker has no delayed-message plugin on Debian, hence TTL and dead-lettering
/// (https://www.rabbitmq.com/docs/dlx, https://www.rabbitmq.com/docs/ttl). Declared by any process before it first uses
/// a queue; declaring an existing queue with the same arguments is a no-op, so any number of processes may.
/// </summary>
internal sealed class RabbitTopology(string prefix)
{
    private readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);

    public string Work(string queue) => prefix + queue;

    public string Failed(string queue) => prefix + queue + ".failed";

    /// <summary>
    /// The wait queue of a retry after attempt <paramref name="attempt"/>: one per attempt, so the messages of one queue
    /// have about the same TTL. A queue expires messages only at its head (https://www.rabbitmq.com/docs/ttl#per-message-ttl-caveats):
    /// with the ±20 % jitter a retry waits at most that much longer behind the one before it.
    /// </summary>
    public string Retry(string queue, int attempt) => prefix + queue + ".retry." + attempt;

    /// <summary>Delayed jobs' wait queue; a delay shorter than one ahead of it waits for that one (head-of-queue expiry).</summary>
    public string Delay(string queue) => prefix + queue + ".delay";

    public async Task DeclareAsync(IChannel channel, string name, bool waitsFor, string? queue = null)
    {
        if (_declared.ContainsKey(name))
            return;
        var arguments = new Dictionary<string, object?>();
        if (waitsFor)
        {
            arguments["x-queue-type"] = "classic";
            arguments["x-dead-letter-exchange"] = "";
            arguments["x-dead-letter-routing-key"] = Work(queue!);
        }
        else
        {
            arguments["x-queue-type"] = "quorum";
        }
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: arguments);
        _declared[name] = true;
    }

    /// <summary>After a failed publish: declare everything again before the next (the broker may have lost its queues).</summary>
    public void Forget() => _declared.Clear();

    /// <summary>Every queue of <paramref name="queue"/> but the retry queues (declared when a retry first needs one).</summary>
    public async Task DeclareQueueAsync(IChannel channel, string queue)
    {
        await DeclareAsync(channel, Work(queue), waitsFor: false);
        await DeclareAsync(channel, Failed(queue), waitsFor: false);
        await DeclareAsync(channel, Delay(queue), waitsFor: true, queue);
    }
}
