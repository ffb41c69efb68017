using System.Collections.Concurrent;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>The durable queue's promises (outbox, at least once, retry with backoff, failed state, leases), on SQLite and PostgreSQL.</summary>
public abstract class JobQueueContractTests(DbProvider provider) : IAsyncLifetime
{
    private readonly List<LocalJobWorker> _workers = [];
    private Func<ValueTask> _dispose = () => ValueTask.CompletedTask;
    private IDatabase _db = null!;
    private readonly JobQueueOptions _options = new() { PollIntervalMs = 50, LeaseSeconds = 3, MaxAttempts = 3, BackoffBaseMs = 20 };
    private readonly RecordingHandler _handler = new();

    public async ValueTask InitializeAsync()
    {
        (_db, _dispose) = await Databases.CreateAsync(provider);
        await new DatabaseMigrator(_db, [new JobsMigrations()], NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var w in _workers)
            await w.StopAsync(CancellationToken.None);
        await _dispose();
    }

    private LocalJobQueue Queue(int node = 1, JobSignal? signal = null) =>
        new(_db, new IdGenerator(node), signal ?? new JobSignal(), Options.Create(_options), TimeProvider.System);

    private async Task<LocalJobQueue> StartWorkerAsync(int node = 1)
    {
        var signal = new JobSignal();
        var queue = Queue(node, signal);
        var worker = new LocalJobWorker(queue, [_handler], signal, Options.Create(_options), NullLogger<LocalJobWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        _workers.Add(worker);
        return queue;
    }

    private Task<long> EnqueueAsync(LocalJobQueue queue, string behaviour) =>
        _db.WriteAsync(w => queue.EnqueueAsync(w, new JobRequest("test", RecordingHandler.JobType, behaviour)));

    private Task<long> RowCountAsync() => _db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM jobs"));

    [Fact]
    public async Task A_committed_job_runs_and_is_gone_afterwards()
    {
        var queue = await StartWorkerAsync();
        var id = await EnqueueAsync(queue, "ok");
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(10), "the job to finish");
        Assert.Equal(1, _handler.Runs(id));
    }

    [Fact]
    public async Task A_job_written_in_a_rolled_back_transaction_never_exists()
    {
        var queue = Queue();
        long id = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => _db.WriteAsync(async w =>
        {
            id = await queue.EnqueueAsync(w, new JobRequest("test", RecordingHandler.JobType, "ok"));
            throw new InvalidOperationException("the data it concerns failed");
        }));
        Assert.Null(await queue.GetAsync(id));
        Assert.Equal(0, await RowCountAsync());
    }

    [Fact]
    public async Task An_in_process_job_runs_after_its_commit_without_a_row_and_not_at_all_after_a_rollback()
    {
        var queue = await StartWorkerAsync();
        var kept = $"ok:{Guid.NewGuid():N}";
        var dropped = $"ok:{Guid.NewGuid():N}";
        await _db.WriteAsync(async w =>
        {
            await queue.EnqueueInProcessAsync(w, new JobRequest("test", RecordingHandler.JobType, kept));
            return 0;
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => _db.WriteAsync<int>(async w =>
        {
            await queue.EnqueueInProcessAsync(w, new JobRequest("test", RecordingHandler.JobType, dropped));
            throw new InvalidOperationException("the data it concerns failed");
        }));
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(kept)), n => n == 1, TimeSpan.FromSeconds(10), "the in-process job to run");
        Assert.Equal(0, await RowCountAsync());
        await Eventually.WaitAsync(() => queue.CountAsync(), c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(10), "the in-process counts to settle");
        await Task.Delay(200);
        Assert.Equal(0, _handler.Runs(dropped));
        Assert.Equal(1, _handler.Runs(kept));
    }

    [Fact]
    public async Task A_failing_in_process_job_is_written_to_the_queue_and_retried_from_there()
    {
        var queue = await StartWorkerAsync();
        var payload = $"fail:1:{Guid.NewGuid():N}"; // fails on its first attempt (in process), succeeds on its second (a row)
        await _db.WriteAsync(async w =>
        {
            await queue.EnqueueInProcessAsync(w, new JobRequest("test", RecordingHandler.JobType, payload));
            return 0;
        });
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(payload)), n => n == 1, TimeSpan.FromSeconds(10), "the retried job to run");
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(10), "its row to go once done");
    }

    [Fact]
    public async Task Where_no_worker_of_its_queue_runs_an_in_process_job_is_written()
    {
        var queue = Queue();
        await _db.WriteAsync(async w =>
        {
            await queue.EnqueueInProcessAsync(w, new JobRequest("test", RecordingHandler.JobType, "ok"));
            return 0;
        });
        Assert.Equal(1, await RowCountAsync());
    }

    [Fact]
    public async Task Many_jobs_each_run_once()
    {
        var queue = await StartWorkerAsync();
        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => EnqueueAsync(queue, "ok")));
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(30), "all jobs to finish");
        Assert.All(ids, id => Assert.Equal(1, _handler.Runs(id)));
    }

    [Fact]
    public async Task A_batch_is_claimed_oldest_first_in_one_write_and_each_job_settles_on_its_own()
    {
        var claimer = Queue(node: 5);
        var first = new List<long>();
        for (var i = 0; i < 6; i++)
            first.Add(await EnqueueAsync(claimer, "ok"));
        var claimed = await claimer.ClaimAsync("test", 4, CancellationToken.None);
        Assert.Equal(first.Take(4), claimed.Select(j => j.Id));
        Assert.All(claimed, j => Assert.Equal(1, j.Attempt));
        Assert.Equal("ready", (await claimer.GetAsync(first[4]))!.State);
        await claimer.CompleteAsync(claimed);
        Assert.Equal(2, await RowCountAsync());
        var rest = await claimer.ClaimAsync("test", 4, CancellationToken.None);
        Assert.Equal(first.Skip(4), rest.Select(j => j.Id));
        await claimer.CompleteAsync(rest);
        Assert.Equal(0, await RowCountAsync());

        // A worker taking batches: a failing or timed-out job in a batch neither holds back nor undoes the others.
        _options.Batch["test"] = 8;
        var queue = await StartWorkerAsync();
        var ok = new List<long>();
        for (var i = 0; i < 20; i++)
            ok.Add(await EnqueueAsync(queue, "ok"));
        var retried = await EnqueueAsync(queue, "fail:1");
        var permanent = await EnqueueAsync(queue, "permanent");
        var hung = await EnqueueAsync(queue, "hang");
        await Eventually.WaitAsync(() => queue.CountAsync(), c => c is { Ready: 0, Running: 0, Failed: 2 }, TimeSpan.FromSeconds(20), "every job to settle");
        Assert.All(ok, id => Assert.Equal(1, _handler.Runs(id)));
        Assert.Equal((2, 1), (_handler.Attempts(retried), _handler.Runs(retried)));
        Assert.Equal("failed", (await queue.GetAsync(permanent))!.State);
        Assert.Equal(3, (await queue.GetAsync(hung))!.Attempts);
        Assert.Equal(2, await RowCountAsync()); // the failed stay, with their reasons
    }

    [Fact]
    public async Task A_failing_job_is_retried_with_backoff_until_it_succeeds()
    {
        var queue = await StartWorkerAsync();
        var id = await EnqueueAsync(queue, "fail:2");
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(10), "the job to succeed");
        Assert.Equal(3, _handler.Attempts(id));
        Assert.Equal(1, _handler.Runs(id));
    }

    [Fact]
    public async Task A_job_that_keeps_failing_ends_failed_with_its_reason()
    {
        var queue = await StartWorkerAsync();
        var id = await EnqueueAsync(queue, "fail:99");
        var job = await Eventually.WaitAsync(() => queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(10), "the job to fail");
        Assert.Equal(3, job!.Attempts);
        Assert.Contains("told to fail", job.LastError, StringComparison.Ordinal);
        Assert.Contains(await queue.ListFailedAsync(10), j => j.Id == id);
        Assert.Equal(1, (await queue.CountAsync()).Failed);
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        var queue = await StartWorkerAsync();
        var id = await EnqueueAsync(queue, "permanent");
        var job = await Eventually.WaitAsync(() => queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(10), "the job to fail");
        Assert.Equal(1, job!.Attempts);
        Assert.Equal("bad input, never retry", job.LastError);
    }

    [Fact]
    public async Task A_job_over_its_time_limit_fails_and_is_retried()
    {
        var queue = await StartWorkerAsync();
        var id = await EnqueueAsync(queue, "hang");
        var job = await Eventually.WaitAsync(() => queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(20), "the job to time out");
        Assert.Equal(3, job!.Attempts);
        Assert.StartsWith("Timed out", job.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_whose_worker_vanished_is_taken_over_when_its_lease_runs_out()
    {
        // Node 7 claims the job and dies (never acknowledges, no heartbeat).
        var dead = Queue(node: 7);
        var id = await EnqueueAsync(dead, "ok");
        var claimed = await dead.ClaimAsync("test", CancellationToken.None);
        Assert.Equal(id, claimed!.Id);

        await StartWorkerAsync(node: 1);
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(15), "another node to finish the job");
        Assert.Equal(1, _handler.Runs(id));

        // The dead node's late acknowledgement of its stale attempt changes nothing.
        await dead.CompleteAsync(claimed);
        await dead.FailAsync(claimed, "late", permanent: true);
        Assert.Equal(0, await RowCountAsync());
    }

    [Fact]
    public async Task Jobs_a_node_was_running_when_it_crashed_run_again_when_it_restarts()
    {
        var before = Queue(node: 3);
        var id = await EnqueueAsync(before, "ok");
        Assert.NotNull(await before.ClaimAsync("test", CancellationToken.None));
        Assert.Equal("running", (await before.GetAsync(id))!.State);

        _options.LeaseSeconds = 600; // the lease alone would keep it stuck for ten minutes
        await StartWorkerAsync(node: 3);
        await Eventually.WaitAsync(() => RowCountAsync(), n => n == 0, TimeSpan.FromSeconds(10), "the restarted node to rerun its job");
        Assert.Equal(1, _handler.Runs(id));
    }

    [Fact]
    public async Task A_delayed_job_waits_for_its_time()
    {
        var queue = await StartWorkerAsync();
        var id = await _db.WriteAsync(w => queue.EnqueueAsync(w, new JobRequest("test", RecordingHandler.JobType, "ok", TimeSpan.FromSeconds(1))));
        await Task.Delay(300);
        Assert.Equal(0, _handler.Runs(id));
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the delayed job to run");
    }

    [Fact]
    public async Task An_idle_worker_claims_once_a_poll_interval_for_its_queue_not_once_for_each_slot()
    {
        _options.Concurrency["test"] = 8;
        var writes = new StoreCounter();
        var signal = new JobSignal();
        var queue = new LocalJobQueue(writes.Counting(_db), new IdGenerator(1), signal, Options.Create(_options), TimeProvider.System);
        var worker = new LocalJobWorker(queue, [_handler], signal, Options.Create(_options), NullLogger<LocalJobWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        _workers.Add(worker);
        await Task.Delay(300);

        var before = writes.Writes;
        await Task.Delay(1000);
        // Twenty 50 ms intervals: about twenty claims (and a lease reclaim); eight slots each polling would be ~160.
        Assert.InRange(writes.Writes - before, 5, 40);

        // The poll still finds what no signal announced: a job another node wrote.
        var id = await _db.WriteAsync(w => Queue(node: 2).EnqueueAsync(w, new JobRequest("test", RecordingHandler.JobType, "ok")));
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the polled job to run");
    }

    private sealed class RecordingHandler : IJobHandler
    {
        public const string JobType = "test.record";
        private readonly ConcurrentDictionary<long, int> _attempts = new();
        private readonly ConcurrentDictionary<long, int> _runs = new();
        private readonly ConcurrentDictionary<string, int> _runsByPayload = new();

        public string Type => JobType;
        public string Queue => "test";
        public TimeSpan Timeout => TimeSpan.FromMilliseconds(300);

        public int Runs(long id) => _runs.GetValueOrDefault(id);
        public int Runs(string payload) => _runsByPayload.GetValueOrDefault(payload);
        public int Attempts(long id) => _attempts.GetValueOrDefault(id);

        public async Task HandleAsync(Job job, CancellationToken ct)
        {
            _attempts.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            switch (job.Payload.Split(':'))
            {
                case ["fail", var times, ..] when job.Attempt <= int.Parse(times, System.Globalization.CultureInfo.InvariantCulture):
                    throw new InvalidOperationException($"told to fail (attempt {job.Attempt})");
                case ["permanent"]:
                    throw new PermanentJobFailureException("bad input, never retry");
                case ["hang"]:
                    await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
                    break;
            }
            _runs.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
            _runsByPayload.AddOrUpdate(job.Payload, 1, (_, n) => n + 1);
        }
    }
}

public sealed class SqliteJobQueueContractTests() : JobQueueContractTests(DbProvider.Sqlite);

public sealed class PostgresJobQueueContractTests() : JobQueueContractTests(DbProvider.Postgres);
