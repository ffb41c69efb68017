using System.Text;
using System.Threading.Channels;
using Lenta.Server.Platform.Events;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Platform;

/// <summary>What every <see cref="IEventBus"/> adapter does: each subscriber of a topic hears each message, in order;
/// a disposed subscription hears nothing more; one failing subscriber stops neither the others nor the publisher.</summary>
public abstract class EventBusContractTests : PortContractTests<IEventBus>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    protected string Topic { get; } = "t" + Guid.NewGuid().ToString("N")[..8];

    protected static (Channel<string> Heard, Action<byte[]> Handler) Listener()
    {
        var heard = Channel.CreateUnbounded<string>();
        return (heard, m => heard.Writer.TryWrite(Encoding.UTF8.GetString(m)));
    }

    protected static async Task<string> NextAsync(Channel<string> heard)
    {
        using var cts = new CancellationTokenSource(Wait);
        return await heard.Reader.ReadAsync(cts.Token);
    }

    protected static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Every_subscriber_of_a_topic_hears_each_message_in_order_and_no_other_topics()
    {
        var (a, ha) = Listener();
        var (b, hb) = Listener();
        var (other, ho) = Listener();
        using var sa = Subject.Subscribe(Topic, ha);
        using var sb = Subject.Subscribe(Topic, hb);
        using var so = Subject.Subscribe(Topic + "-other", ho);
        await Subject.PublishAsync(Topic, Bytes("1"));
        await Subject.PublishAsync(Topic, Bytes("2"));
        Assert.Equal("1", await NextAsync(a));
        Assert.Equal("2", await NextAsync(a));
        Assert.Equal("1", await NextAsync(b));
        Assert.Equal("2", await NextAsync(b));
        await Subject.PublishAsync(Topic + "-other", Bytes("x"));
        Assert.Equal("x", await NextAsync(other));
        Assert.False(other.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_disposed_subscription_hears_nothing_more()
    {
        var (gone, hg) = Listener();
        var (stays, hs) = Listener();
        var subscription = Subject.Subscribe(Topic, hg);
        using var kept = Subject.Subscribe(Topic, hs);
        subscription.Dispose();
        await Subject.PublishAsync(Topic, Bytes("after"));
        Assert.Equal("after", await NextAsync(stays));
        Assert.False(gone.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_failing_subscriber_stops_neither_the_others_nor_the_publisher()
    {
        var (heard, handler) = Listener();
        using var failing = Subject.Subscribe(Topic, _ => throw new InvalidOperationException("subscriber fault"));
        using var working = Subject.Subscribe(Topic, handler);
        await Subject.PublishAsync(Topic, Bytes("still"));
        Assert.Equal("still", await NextAsync(heard));
    }
}

public sealed class InProcessEventBusContractTests : EventBusContractTests
{
    protected override Task<(IEventBus Port, Func<ValueTask> Release)> CreateAsync() =>
        Task.FromResult<(IEventBus, Func<ValueTask>)>((new InProcessEventBus(NullLogger<InProcessEventBus>.Instance), () => ValueTask.CompletedTask));
}

/// <summary>The contract on Redis pub/sub; the adapters of a test share a prefix, as a deployment's processes do.</summary>
public sealed class RedisEventBusContractTests : EventBusContractTests
{
    private readonly string _prefix = Infrastructure.Redis.NewPrefix();

    protected override Task<(IEventBus Port, Func<ValueTask> Release)> CreateAsync() => CreateAsync(_prefix);

    private static Task<(IEventBus Port, Func<ValueTask> Release)> CreateAsync(string prefix)
    {
        var redis = Lenta.Server.Platform.Cache.RedisCache.Connect(Infrastructure.Redis.Single, TimeSpan.FromSeconds(5));
        return Task.FromResult<(IEventBus, Func<ValueTask>)>((new RedisEventBus(redis, prefix, NullLogger<RedisEventBus>.Instance), () =>
        {
            redis.Dispose();
            return ValueTask.CompletedTask;
        }));
    }

    [Fact]
    public async Task A_message_published_by_one_process_reaches_another_and_not_one_under_another_prefix()
    {
        var other = await AnotherAsync();
        var (stranger, hs) = Listener();
        var (port, release) = await CreateAsync(Infrastructure.Redis.NewPrefix());
        try
        {
            var (heard, handler) = Listener();
            using var s1 = other.Subscribe(Topic, handler);
            using var s2 = port.Subscribe(Topic, hs);
            await Subject.PublishAsync(Topic, Bytes("across"));
            Assert.Equal("across", await NextAsync(heard));
            await port.PublishAsync(Topic, Bytes("own"));
            Assert.Equal("own", await NextAsync(stranger));
        }
        finally
        {
            await release();
        }
    }
}
