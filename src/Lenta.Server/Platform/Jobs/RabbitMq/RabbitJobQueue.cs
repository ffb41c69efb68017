using System.Collections.Concurrent;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>
/// The RabbitMQ adapter. A job is first a row of the database's <c>jobs</c> table, written in the caller's transaction
/// in state <c>outbox</c>: that row is the transactional outbox, and it stays as the job's record until the job
/// finishes, so <see cref="GetAsync"/>, <see cref="ListFailedAsync"/> and media's <c>failed</c> state read the database,
/// not the broker (which can neither find a message by id nor list a queue). The relay (<see cref="RunRelayAsync"/>)
/// publishes outbox rows with publisher confirms and marks them <c>ready</c> only once confirmed; workers consume with
/// manual acks. What the broker form cannot answer: which other process runs a job. A job is <c>running</c> to the
/// process that holds its delivery and <c>ready</c> to every other, and <see cref="CountAsync"/> counts this process's
/// running jobs only. Delivery is at least once, effectively once for idempotent handlers: a message delivered again
/// after its job finished or moved on (its row gone, failed, or past its attempt) is acknowledged and dropped.
/// </summary>
public sealed partial class RabbitJobQueue(IDatabase db, IdGenerator ids, JobSignal signal, IOptions<JobQueueOptions> options, TimeProvider time,
    ILogger<RabbitJobQueue> log) : IJobQueue, IJobSource, IAsyncDisposable
{
    private readonly JobQueueOptions _options = options.Value;
    private readonly RabbitTopology _topology = new(options.Value.QueuePrefix);
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<string, Task<RabbitConsumer>> _consumers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Delivery> _running = new();
    private IConnection? _connection;
    private IChannel? _publisher;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Claims end with the consumer's channel: the broker redelivers what it held, with no lease to wait for.</summary>
    public bool ClaimsEndWithConnection => true;

    public async Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        var id = ids.Next();
        await JobRows.InsertAsync(write, id, job, "outbox", _options.MaxAttempts, Now);
        write.AfterCommit(() => signal.Notify(RelaySignal));
        return id;
    }

    public async Task<JobInfo?> GetAsync(long id, CancellationToken ct = default)
    {
        var row = await JobRows.GetAsync(db, id, ct);
        if (row is null)
            return null;
        if (_running.TryGetValue(id, out var held))
            return Copy(row, "running", held.Attempt);
        return row.State == "outbox" ? Copy(row, "ready", row.Attempts) : row;
    }

    public Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) => JobRows.ListFailedAsync(db, limit, ct);

    public async Task<JobCounts> CountAsync(CancellationToken ct = default)
    {
        var rows = await JobRows.CountByStateAsync(db, ct);
        long running = _running.Count;
        var ready = rows.GetValueOrDefault("outbox") + rows.GetValueOrDefault("ready");
        return new JobCounts(Math.Max(0, ready - running), running, rows.GetValueOrDefault("failed"));
    }

    private static JobInfo Copy(JobInfo j, string state, int attempts) => new()
    {
        Id = j.Id, Queue = j.Queue, Type = j.Type, State = state, Attempts = attempts, MaxAttempts = j.MaxAttempts, LastError = j.LastError,
        RunAfter = j.RunAfter, CreatedAt = j.CreatedAt,
    };

    /// <summary>The broker answers: the connection is open (not down and recovering).</summary>
    public async Task PingAsync(CancellationToken ct = default)
    {
        var connection = await ConnectAsync(ct);
        if (!connection.IsOpen)
            throw new InvalidOperationException($"RabbitMQ connection is down ({connection.CloseReason?.ReplyText ?? "closed"}); it is being recovered, and jobs wait in the outbox meanwhile.");
    }

    /// <summary>
    /// Declares every queue of <paramref name="queues"/>, their retry wait queues included, so that the topology exists
    /// before the first publish or consume whichever process comes first; a no-op where it exists already.
    /// </summary>
    public async Task PrepareAsync(IReadOnlyCollection<string> queues, CancellationToken ct)
    {
        await ConnectAsync(ct);
        foreach (var queue in queues)
        {
            await _topology.DeclareQueueAsync(_publisher!, queue);
            for (var attempt = 1; attempt < _options.MaxAttempts; attempt++)
                await _topology.DeclareAsync(_publisher!, _topology.Retry(queue, attempt), waitsFor: true, queue);
        }
    }

    /// <summary>
    /// Acknowledges a delivery. If its channel closed meanwhile the broker delivers it again, and the delivery is dropped
    /// then (its job's row is gone or moved on, see <see cref="StillDueAsync"/>).
    /// </summary>
    private async Task AckAsync(Delivery d)
    {
        try
        {
            await d.From.Channel.BasicAckAsync(d.Tag, multiple: false);
        }
        catch (RabbitMQ.Client.Exceptions.AlreadyClosedException e)
        {
            log.LogDebug(e, "Ack of job {JobId} lost with its channel; its redelivery is dropped", d.Id);
        }
    }

    /// <summary>Returns a delivery to its queue at once (it runs again, one attempt more); lost with its channel, it returns anyway.</summary>
    private async Task RequeueAsync(Delivery d)
    {
        try
        {
            await d.From.Channel.BasicNackAsync(d.Tag, multiple: false, requeue: true);
        }
        catch (RabbitMQ.Client.Exceptions.AlreadyClosedException e)
        {
            log.LogDebug(e, "Requeue of job {JobId} lost with its channel; the broker requeued it", d.Id);
        }
    }

    /// <summary>The connection and the publisher's channel, opened once; both recover by themselves after a broker restart.</summary>
    private async Task<IConnection> ConnectAsync(CancellationToken ct)
    {
        if (_connection is { } open)
            return open;
        await _connecting.WaitAsync(ct);
        try
        {
            if (_connection is null)
            {
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(_options.ConnectionString),
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    ClientProvidedName = $"lenta node {ids.NodeId}",
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                };
                var connection = await factory.CreateConnectionAsync(ct);
                // With tracking, each publish returns once the broker confirmed it (https://www.rabbitmq.com/docs/confirms#publisher-confirms).
                _publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
                _connection = connection;
            }
            return _connection;
        }
        finally
        {
            _connecting.Release();
        }
    }


    public async ValueTask DisposeAsync()
    {
        await StopRelayAsync();
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync();
            }
            catch (Exception e)
            {
                log.LogDebug(e, "Closing the RabbitMQ connection failed");
            }
            connection.Dispose();
        }
    }
}
