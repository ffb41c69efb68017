using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>What a job-queue adapter's test factory returns: what producers call, what the worker calls, and what closes it (a broker's connection).</summary>
public sealed record JobAdapter(IJobQueue Queue, IJobSource Source, IAsyncDisposable? Connection = null);

/// <summary>
/// The nodes of one job-queue test, on one database: each an adapter from the test's factory, wrapped to run in-process
/// jobs as the server registers it, and running a worker with the test's handler when asked. Every worker stops when
/// the test ends.
/// </summary>
internal sealed class JobQueueNodes(IDatabase db, JobQueueOptions options, IJobHandler handler, Func<int, JobSignal, Task<JobAdapter>> create) : IAsyncDisposable
{
    private readonly List<JobWorker> _workers = [];
    private readonly List<IAsyncDisposable> _connections = [];

    /// <summary>Node <paramref name="node"/> without a worker: a producer, or a consumer the test drives by hand.</summary>
    public async Task<JobQueueNode> StartAsync(int node = 1)
    {
        var signal = new JobSignal();
        var adapter = await create(node, signal);
        if (adapter.Connection is { } connection)
            _connections.Add(connection);
        var durable = new DurableEnqueues(adapter.Queue);
        return new(new InProcessJobs(durable, db, signal, Options.Create(options)), adapter.Source, signal, durable, adapter.Connection);
    }

    /// <summary>Node <paramref name="node"/> with its worker started.</summary>
    public async Task<JobQueueNode> StartWorkerAsync(int node = 1)
    {
        var n = await StartAsync(node);
        var worker = new JobWorker(n.Source, n.Queue, [handler], n.Signal, Options.Create(options), NullLogger<JobWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        _workers.Add(worker);
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _workers)
            await w.StopAsync(CancellationToken.None);
        foreach (var c in _connections)
            await c.DisposeAsync();
    }
}

/// <summary>
/// One node: <see cref="Queue"/> is what producers get, <see cref="Source"/> what its worker claims from, and
/// <see cref="Durable"/> counts the jobs that reached the adapter itself (not run in memory).
/// </summary>
internal sealed record JobQueueNode(InProcessJobs Queue, IJobSource Source, JobSignal Signal, DurableEnqueues Durable, IAsyncDisposable? Connection)
{
    /// <summary>
    /// The node dies with what it claimed unsettled. Where claims end with the consumer's connection that connection
    /// closes; elsewhere the node just stops using its adapter, and its claims lapse with their leases.
    /// </summary>
    public async Task DieAsync()
    {
        if (Source.ClaimsEndWithConnection && Connection is not null)
            await Connection.DisposeAsync();
    }
}

/// <summary>An adapter's producer side, counting the jobs written to it.</summary>
internal sealed class DurableEnqueues(IJobQueue adapter) : IJobQueue
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        Interlocked.Increment(ref _count);
        return adapter.EnqueueAsync(write, job);
    }

    public Task<JobInfo?> GetAsync(long id, CancellationToken ct = default) => adapter.GetAsync(id, ct);
    public Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) => adapter.ListFailedAsync(limit, ct);
    public Task<JobCounts> CountAsync(CancellationToken ct = default) => adapter.CountAsync(ct);
}
