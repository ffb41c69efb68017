using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>
/// What only the local adapter promises: how many database writes its claims cost (what the contract's tests cannot
/// see through the port), on SQLite and PostgreSQL.
/// </summary>
public abstract class LocalJobQueueTests(DbProvider provider) : IAsyncLifetime
{
    private Func<ValueTask> _dispose = () => ValueTask.CompletedTask;
    private IDatabase _db = null!;
    private readonly JobQueueOptions _options = new() { PollIntervalMs = 50, LeaseSeconds = 3, MaxAttempts = 3, BackoffBaseMs = 20 };
    private readonly RecordingJobHandler _handler = new();

    /// <summary>The local adapter as node <paramref name="node"/> sees it, its <c>jobs</c> table migrated as that node's start would.</summary>
    internal static async Task<LocalJobQueue> CreateAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options)
    {
        await new DatabaseMigrator(db, [new JobsMigrations()], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        return new LocalJobQueue(db, new IdGenerator(node), signal, options, TimeProvider.System);
    }

    /// <summary><see cref="CreateAsync"/> as the contract tests' factory returns it: one object, both sides.</summary>
    internal static async Task<JobAdapter> AdapterAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options)
    {
        var local = await CreateAsync(db, node, signal, options);
        return new JobAdapter(local, local);
    }

    public async ValueTask InitializeAsync() => (_db, _dispose) = await Databases.CreateAsync(provider);

    public ValueTask DisposeAsync() => _dispose();

    [Fact]
    public async Task A_batch_takes_one_write_to_claim_one_to_delete_when_done_and_one_per_heartbeat()
    {
        var writes = new StoreCounter();
        var queue = await CreateAsync(writes.Counting(_db), 1, new JobSignal(), Options.Create(_options));
        for (var i = 0; i < 6; i++)
            await _db.WriteAsync(w => queue.EnqueueAsync(w, RecordingJobHandler.Request("ok")));
        writes.Reset();

        var claimed = await queue.ClaimAsync(RecordingJobHandler.QueueName, 4, CancellationToken.None);
        Assert.Equal((4, 1), (claimed.Count, writes.Writes));
        await queue.CompleteAsync(claimed);
        Assert.Equal(2, writes.Writes);
        await queue.ExtendLeasesAsync(claimed);
        Assert.Equal(3, writes.Writes);
        Assert.Equal(new JobCounts(2, 0, 0), await queue.CountAsync());
    }

    [Fact]
    public async Task An_idle_worker_claims_once_a_poll_interval_for_its_queue_not_once_for_each_slot()
    {
        _options.Concurrency[RecordingJobHandler.QueueName] = 8;
        var writes = new StoreCounter();
        var db = writes.Counting(_db);
        await using var nodes = new JobQueueNodes(db, _options, _handler, (node, signal) => AdapterAsync(db, node, signal, Options.Create(_options)));
        await nodes.StartWorkerAsync();
        await Task.Delay(300);

        var before = writes.Writes;
        await Task.Delay(1000);
        // Twenty 50 ms intervals: about twenty claims (and a lease reclaim); eight slots each polling would be ~160.
        Assert.InRange(writes.Writes - before, 5, 40);

        // Those claims are the poll's: a job no signal announced (another node's) is still found.
        var other = await CreateAsync(_db, 2, new JobSignal(), Options.Create(_options));
        var id = await _db.WriteAsync(w => other.EnqueueAsync(w, RecordingJobHandler.Request("ok")));
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the polled job to run");
    }

    [Fact]
    public async Task A_job_written_where_its_queues_worker_runs_is_claimed_in_that_write_and_costs_no_claim()
    {
        // No poll and no reclaim within the test: every write counted is an enqueue, a claim or a delete.
        var options = Options.Create(new JobQueueOptions { PollIntervalMs = 60_000, LeaseSeconds = 120, MaxAttempts = 3, BackoffBaseMs = 20 });
        var writes = new StoreCounter();
        var db = writes.Counting(_db);
        var signal = new JobSignal();
        var local = await CreateAsync(db, 1, signal, options);
        var queue = new InProcessJobs(local, db, signal, options);
        var worker = new JobWorker(local, queue, [_handler], signal, options, NullLogger<JobWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(queue.ClaimsAtInsert(RecordingJobHandler.QueueName)), on => on, TimeSpan.FromSeconds(10),
                "the worker to take its queue's jobs as they are written");
            // The slots' first claims at start: wait until 300 ms pass without a write.
            await Eventually.WaitAsync(async () =>
            {
                var before = writes.Writes;
                await Task.Delay(300);
                return writes.Writes == before;
            }, idle => idle, TimeSpan.FromSeconds(10), "the slots to go idle");
            writes.Reset();

            for (var i = 0; i < 5; i++)
            {
                var id = await db.WriteAsync(w => queue.EnqueueAsync(w, RecordingJobHandler.Request($"ok:{i}")));
                await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the job to run");
                Assert.Equal([1], _handler.AttemptNumbers($"ok:{i}"));
            }
            await Eventually.WaitAsync(() => local.CountAsync(), c => c == new JobCounts(0, 0, 0), TimeSpan.FromSeconds(10), "the finished jobs to be deleted");
            // Five enqueues and five deletes: a claim per job (and the look for more after it) would be ten writes more. A
            // slot woken for a job another slot took first claims from the table once and finds nothing: rare (a busy
            // machine), and never more than a stray claim or two here.
            Assert.InRange(writes.Writes, 10, 12);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_job_written_claimed_by_a_process_that_never_runs_it_runs_once_elsewhere_when_its_lease_lapses()
    {
        var options = Options.Create(_options); // a 3 s lease
        var signal = new JobSignal();
        var dying = new InProcessJobs(await CreateAsync(_db, 1, signal, options), _db, signal, options);
        dying.AttachClaimed(RecordingJobHandler.QueueName);   // as its worker does at start; this one then never takes a job
        var id = await _db.WriteAsync(w => dying.EnqueueAsync(w, RecordingJobHandler.Request("ok:orphan")));
        var row = await dying.GetAsync(id);
        Assert.Equal(("running", 1), (row!.State, row.Attempts));

        await using var nodes = new JobQueueNodes(_db, _options, _handler, (node, s) => AdapterAsync(_db, node, s, Options.Create(_options)));
        await nodes.StartWorkerAsync(2);
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(20), "another node to run the job once its lease lapsed");
        Assert.Equal([2], _handler.AttemptNumbers("ok:orphan"));
        // Past half its lease the first process no longer hands it to its slots: it never runs twice at once.
        Assert.Empty(dying.TakeClaimed(RecordingJobHandler.QueueName, 10));
        Assert.Null(await Eventually.WaitAsync(() => dying.GetAsync(id), j => j is null, TimeSpan.FromSeconds(10), "the finished job to be deleted"));
    }
}

public sealed class SqliteLocalJobQueueTests() : LocalJobQueueTests(DbProvider.Sqlite);

public sealed class PostgresLocalJobQueueTests() : LocalJobQueueTests(DbProvider.Postgres);
