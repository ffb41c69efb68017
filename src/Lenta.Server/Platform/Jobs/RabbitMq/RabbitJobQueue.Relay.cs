using System.Text;
using Lenta.Server.Platform.Database;
using RabbitMQ.Client;

namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>
/// The outbox relay, on every process whatever its roles. It claims up to a batch of <c>outbox</c> rows with a lease
/// (so relays of several processes do not publish the same rows), publishes them in id order, each returning only once
/// the broker confirmed it, then marks them <c>ready</c>. A relay that dies mid-batch leaves rows whose lease runs out
/// and another relay publishes them again: the rare duplicate, dropped at delivery when its job already finished.
/// </summary>
public sealed partial class RabbitJobQueue
{
    internal const string RelaySignal = "(outbox)";
    private const int RelayBatch = 100;
    private CancellationTokenSource? _relayStop;
    private Task _relay = Task.CompletedTask;

    /// <summary>Starts the relay; it connects when it first has rows to publish, and keeps trying while the broker is away.</summary>
    public void StartRelay()
    {
        _relayStop = new CancellationTokenSource();
        _relay = Task.Run(() => RunRelayAsync(_relayStop.Token));
    }

    public async Task StopRelayAsync()
    {
        if (_relayStop is null)
            return;
        await _relayStop.CancelAsync();
        await _relay;
    }

    private async Task RunRelayAsync(CancellationToken ct)
    {
        var poll = TimeSpan.FromMilliseconds(Math.Max(10, _options.PollIntervalMs));
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await RelayOnceAsync(ct) < RelayBatch)
                    await signal.WaitAsync(RelaySignal, poll, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogError(e, "Relaying jobs to RabbitMQ failed; retrying after a pause");
                try
                {
                    await Task.Delay(poll, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Publishes one batch of the outbox; returns how many rows it claimed.</summary>
    private async Task<int> RelayOnceAsync(CancellationToken ct)
    {
        var now = Now;
        var rows = await db.WriteAsync(async w => (await w.QueryAsync<OutboxRow>(Sql.Expand("""
            UPDATE jobs SET locked_by = @node, locked_until = @lease
            WHERE id IN (SELECT id FROM jobs WHERE state = 'outbox' AND (locked_until IS NULL OR locked_until < @now)
                         ORDER BY id LIMIT @max {skip_locked})
            RETURNING id, queue, type, payload, attempts, run_after AS RunAfter, last_error AS LastError
            """, w.Provider), new { node = ids.NodeId, now, max = RelayBatch, lease = now + _options.LeaseSeconds * 1000L })).ToList(), ct);
        if (rows.Count == 0)
            return 0;
        var published = new List<long>(rows.Count);
        try
        {
            var publisher = await PublisherAsync(ct);
            foreach (var row in rows.OrderBy(r => r.Id))
            {
                await _topology.DeclareQueueAsync(publisher, row.Queue);
                var delay = row.RunAfter - Now;
                var target = delay > 0 ? _topology.Delay(row.Queue) : _topology.Work(row.Queue);
                await PublishAsync(publisher, target, row.Id, row.Type, row.Payload, row.Attempts, delay > 0 ? delay : null, null, ct);
                published.Add(row.Id);
            }
        }
        catch
        {
            _topology.Forget();
            throw;
        }
        finally
        {
            // What was confirmed is marked even when a later publish failed; the rest is released at once for the next
            // try (its lease would hold it back otherwise), or, if even that write fails, published again after its lease.
            var unpublished = rows.Select(r => r.Id).Except(published).ToList();
            if (published.Count > 0 || unpublished.Count > 0)
            {
                await db.WriteAsync(async w =>
                {
                    if (published.Count > 0)
                        await w.ExecuteAsync($"UPDATE jobs SET state = 'ready', locked_by = NULL, locked_until = NULL WHERE id {Sql.In(w.Provider, "@published")} AND state = 'outbox'",
                            new { published = Sql.List(w.Provider, published) });
                    if (unpublished.Count > 0)
                        await w.ExecuteAsync($"UPDATE jobs SET locked_by = NULL, locked_until = NULL WHERE id {Sql.In(w.Provider, "@unpublished")} AND state = 'outbox' AND locked_by = @node",
                            new { unpublished = Sql.List(w.Provider, unpublished), node = ids.NodeId });
                }, CancellationToken.None);
            }
        }
        return rows.Count;
    }

    private async Task<IChannel> PublisherAsync(CancellationToken ct)
    {
        await ConnectAsync(ct);
        return _publisher!;
    }

    /// <summary>
    /// A persistent message on the default exchange, routed to queue <paramref name="target"/>; mandatory, so a message
    /// no queue takes fails the publish instead of vanishing (https://www.rabbitmq.com/docs/publishers#unroutable).
    /// </summary>
    private static async Task PublishAsync(IChannel channel, string target, long id, string type, string payload, int attemptsBefore,
        long? ttlMs, string? error, CancellationToken ct = default)
    {
        var headers = new Dictionary<string, object?> { [Delivery.AttemptsHeader] = attemptsBefore };
        if (error is not null)
            headers[Delivery.ErrorHeader] = error;
        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Type = type,
            Headers = headers,
            Expiration = ttlMs?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await channel.BasicPublishAsync("", target, mandatory: true, properties, Encoding.UTF8.GetBytes(payload), ct);
    }

    private sealed class OutboxRow
    {
        public long Id { get; init; }
        public string Queue { get; init; } = "";
        public string Type { get; init; } = "";
        public string Payload { get; init; } = "";
        public int Attempts { get; init; }
        public long RunAfter { get; init; }
        public string? LastError { get; init; }
    }
}
