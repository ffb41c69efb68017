using System.Text;
using System.Threading.Channels;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>
/// One queue's consumer in this process: its own channel with manual acks and a prefetch of the queue's concurrency
/// times its batch, so the broker hands this process no more than its slots can run
/// (https://www.rabbitmq.com/docs/consumer-prefetch). Deliveries wait in a local buffer until a slot claims them. When
/// the channel closes (the broker restarted, the connection dropped) its unacknowledged deliveries go back to the queue
/// (https://www.rabbitmq.com/docs/confirms#automatic-requeueing): every delivery carries the channel's generation, and
/// one of an older generation can no longer be settled; the broker delivers it again.
/// </summary>
internal sealed class RabbitConsumer
{
    private readonly Channel<Delivery> _buffer = System.Threading.Channels.Channel.CreateUnbounded<Delivery>();
    private int _generation;

    private RabbitConsumer(IChannel channel) => Channel = channel;

    public IChannel Channel { get; }

    public int Generation => Volatile.Read(ref _generation);

    public static async Task<RabbitConsumer> StartAsync(IConnection connection, RabbitTopology topology, string queue, ushort prefetch, Action delivered, CancellationToken ct)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        await topology.DeclareQueueAsync(channel, queue);
        await channel.BasicQosAsync(0, prefetch, global: false, ct);
        var consumer = new RabbitConsumer(channel);
        // A recovered channel starts over with new delivery tags: the old ones must not be acknowledged on it.
        channel.ChannelShutdownAsync += (_, _) =>
        {
            Interlocked.Increment(ref consumer._generation);
            return Task.CompletedTask;
        };
        var events = new AsyncEventingBasicConsumer(channel);
        events.ReceivedAsync += (_, e) =>
        {
            consumer._buffer.Writer.TryWrite(Delivery.Of(consumer, queue, e));
            delivered();
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(topology.Work(queue), autoAck: false, events, ct);
        return consumer;
    }

    public bool TryTake(out Delivery delivery) => _buffer.Reader.TryRead(out delivery!);

    /// <summary>
    /// Puts a taken delivery back for a later claim, still held on this channel: unlike a requeue on the broker, which a
    /// quorum queue counts as one more attempt, it costs none.
    /// </summary>
    public void GiveBack(Delivery d) => _buffer.Writer.TryWrite(d);

    /// <summary>Settled on the channel that delivered it, if that channel still holds it.</summary>
    public bool Holds(Delivery d) => d.Generation == Generation && Channel.IsOpen;
}

/// <summary>
/// A delivered job. <see cref="AttemptsBefore"/> is what its message says (attempts that failed before it was
/// published); a quorum queue adds <c>x-delivery-count</c> when it delivers a message again
/// (https://www.rabbitmq.com/docs/quorum-queues#poison-message-handling), and each such delivery is one more attempt.
/// </summary>
internal sealed record Delivery(RabbitConsumer From, int Generation, ulong Tag, string Queue, long Id, string Type, string Payload, int AttemptsBefore, int Attempt, bool Redelivered)
{
    public const string AttemptsHeader = "lenta-attempts";
    public const string ErrorHeader = "lenta-error";

    public static Delivery Of(RabbitConsumer consumer, string queue, BasicDeliverEventArgs e)
    {
        var headers = e.BasicProperties.Headers;
        var before = Number(headers, AttemptsHeader);
        var redeliveries = Number(headers, "x-delivery-count");
        return new(consumer, consumer.Generation, e.DeliveryTag, queue, long.Parse(e.BasicProperties.MessageId ?? "0"), e.BasicProperties.Type ?? "",
            Encoding.UTF8.GetString(e.Body.Span), before, before + 1 + redeliveries, e.Redelivered || redeliveries > 0);
    }

    private static int Number(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var v) && v is not null ? Convert.ToInt32(v) : 0;

    public Job ToJob() => new(Id, Queue, Type, Payload, Attempt);
}
