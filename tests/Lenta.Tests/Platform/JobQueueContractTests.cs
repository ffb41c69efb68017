using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Lenta.Tests.Platform;

/// <summary>
/// What every job-queue adapter must do (outbox, at least once, retry with backoff, the failed state, leases and
/// fencing, in-process jobs run over it), observed through the port alone. A subclass says how to build its adapter on
/// the database it is given; that is all an adapter adds here.
/// </summary>
public abstract partial class JobQueueContractTests(DbProvider provider) : IAsyncLifetime
{
    private const string Queue = RecordingJobHandler.QueueName;
    private Func<ValueTask> _dispose = () => ValueTask.CompletedTask;
    private IDatabase _db = null!;
    private JobQueueNodes _nodes = null!;
    private readonly JobQueueOptions _options = new() { PollIntervalMs = 50, LeaseSeconds = 3, MaxAttempts = 3, BackoffBaseMs = 20 };
    private readonly RecordingJobHandler _handler = new();

    /// <summary>
    /// The adapter as node <paramref name="node"/> of a cluster sees it, on <paramref name="db"/>, having made ready
    /// whatever it needs there as that node's start would; it wakes the node's idle workers through
    /// <paramref name="signal"/>. Called for every node a test starts, each with a signal of its own.
    /// </summary>
    protected abstract Task<JobAdapter> CreateAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options);

    public async ValueTask InitializeAsync()
    {
        (_db, _dispose) = await Databases.CreateAsync(provider);
        _nodes = new JobQueueNodes(_db, _options, _handler, (node, signal) => CreateAsync(_db, node, signal, Options.Create(_options)));
    }

    public async ValueTask DisposeAsync()
    {
        await _nodes.DisposeAsync();
        await _dispose();
    }

    private Task<JobQueueNode> NodeAsync(int node = 1) => _nodes.StartAsync(node);

    private Task<JobQueueNode> StartWorkerAsync(int node = 1) => _nodes.StartWorkerAsync(node);

    private Task<long> EnqueueAsync(JobQueueNode node, string behaviour, TimeSpan? delay = null) =>
        _db.WriteAsync(w => node.Queue.EnqueueAsync(w, RecordingJobHandler.Request(behaviour, delay)));

    private Task EnqueueInProcessAsync(JobQueueNode node, string behaviour) =>
        _db.WriteAsync(async w =>
        {
            await node.Queue.EnqueueInProcessAsync(w, RecordingJobHandler.Request(behaviour));
            return 0;
        });

    /// <summary>Waits until no job is ready, running or failed: every job finished.</summary>
    private static Task AllFinishedAsync(JobQueueNode node, string what, int seconds = 10) =>
        Eventually.WaitAsync(() => node.Queue.CountAsync(), c => c == new JobCounts(0, 0, 0), TimeSpan.FromSeconds(seconds), what);

    private static Task<IReadOnlyList<Job>> ClaimAsync(JobQueueNode node, int max) => node.Source.ClaimAsync(Queue, max, CancellationToken.None);

    /// <summary>
    /// What a claim of up to <paramref name="max"/> finds once the jobs committed so far reached the consumer, expecting
    /// <paramref name="expected"/>. Where claims end with a connection (a broker) a committed job travels through the
    /// relay and a delivery first, so claims are repeated until that many arrived (or, for none, after a pause in which
    /// one would have); elsewhere one claim sees every commit.
    /// </summary>
    private static async Task<IReadOnlyList<Job>> ClaimCommittedAsync(JobQueueNode node, int max, int expected)
    {
        if (!node.Source.ClaimsEndWithConnection)
            return await ClaimAsync(node, max);
        if (expected == 0)
        {
            await Task.Delay(500);
            return await ClaimAsync(node, max);
        }
        var claimed = new List<Job>();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (claimed.Count < expected && DateTime.UtcNow < until)
        {
            claimed.AddRange(await ClaimAsync(node, max - claimed.Count));
            if (claimed.Count < expected)
                await Task.Delay(20);
        }
        return claimed;
    }

    [Fact]
    public async Task A_committed_job_runs_and_is_gone_afterwards()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "ok");
        await AllFinishedAsync(node, "the job to finish");
        Assert.Equal(1, _handler.Runs(id));
        Assert.Null(await node.Queue.GetAsync(id));
    }

    [Fact]
    public async Task A_job_written_in_a_rolled_back_transaction_never_exists()
    {
        var node = await NodeAsync();
        long id = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => _db.WriteAsync(async w =>
        {
            id = await node.Queue.EnqueueAsync(w, RecordingJobHandler.Request("ok"));
            throw new InvalidOperationException("the data it concerns failed");
        }));
        Assert.NotEqual(0, id);
        Assert.Null(await node.Queue.GetAsync(id));
        Assert.Equal(new JobCounts(0, 0, 0), await node.Queue.CountAsync());
        Assert.Empty(await ClaimCommittedAsync(node, 10, expected: 0));
    }

    [Fact]
    public async Task A_committed_job_is_ready_with_its_request_until_claimed()
    {
        var node = await NodeAsync();
        var id = await EnqueueAsync(node, "ok");
        var info = await node.Queue.GetAsync(id);
        Assert.Equal((Queue, RecordingJobHandler.JobType, "ready", 0, _options.MaxAttempts), (info!.Queue, info.Type, info.State, info.Attempts, info.MaxAttempts));
        Assert.Equal(new JobCounts(1, 0, 0), await node.Queue.CountAsync());
        var claimed = Assert.Single(await ClaimCommittedAsync(node, 10, expected: 1));
        Assert.Equal((id, Queue, RecordingJobHandler.JobType, "ok", 1), (claimed.Id, claimed.Queue, claimed.Type, claimed.Payload, claimed.Attempt));
        Assert.Equal("running", (await node.Queue.GetAsync(id))!.State);
        Assert.Equal(new JobCounts(0, 1, 0), await node.Queue.CountAsync());
    }

    [Fact]
    public async Task An_in_process_job_runs_after_its_commit_without_being_written_and_not_at_all_after_a_rollback()
    {
        var node = await StartWorkerAsync();
        var kept = $"ok:{Guid.NewGuid():N}";
        var dropped = $"ok:{Guid.NewGuid():N}";
        await EnqueueInProcessAsync(node, kept);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _db.WriteAsync<int>(async w =>
        {
            await node.Queue.EnqueueInProcessAsync(w, RecordingJobHandler.Request(dropped));
            throw new InvalidOperationException("the data it concerns failed");
        }));
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(kept)), n => n == 1, TimeSpan.FromSeconds(10), "the in-process job to run");
        Assert.Equal(0, node.Durable.Count);
        await AllFinishedAsync(node, "the in-process counts to settle");
        await Task.Delay(200);
        Assert.Equal(0, _handler.Runs(dropped));
        Assert.Equal(1, _handler.Runs(kept));
    }

    [Fact]
    public async Task A_failing_in_process_job_is_written_to_the_queue_and_retried_from_there_as_its_next_attempt()
    {
        var node = await StartWorkerAsync();
        var payload = $"fail:1:{Guid.NewGuid():N}"; // fails on its first attempt (in process), succeeds on its second (from the queue)
        await EnqueueInProcessAsync(node, payload);
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(payload)), n => n == 1, TimeSpan.FromSeconds(10), "the retried job to run");
        await AllFinishedAsync(node, "the written job to go once done");
        Assert.Equal(1, node.Durable.Count);
        Assert.Equal([1, 2], _handler.AttemptNumbers(payload));
    }

    [Fact]
    public async Task Where_no_worker_of_its_queue_runs_an_in_process_job_is_written()
    {
        var node = await NodeAsync();
        await EnqueueInProcessAsync(node, "ok");
        Assert.Equal(1, node.Durable.Count);
        Assert.Equal(new JobCounts(1, 0, 0), await node.Queue.CountAsync());
        Assert.Equal("ok", Assert.Single(await ClaimCommittedAsync(node, 10, expected: 1)).Payload);
    }

    [Fact]
    public async Task A_job_written_after_failing_elsewhere_keeps_its_attempts_and_reason_and_gets_only_the_rest()
    {
        var node = await NodeAsync();
        var id = await _db.WriteAsync(w => node.Queue.EnqueueAsync(w, RecordingJobHandler.Request("fail:99") with { AttemptsMade = 1, LastError = "failed in process" }));
        var info = await node.Queue.GetAsync(id);
        Assert.Equal(("ready", 1, "failed in process"), (info!.State, info.Attempts, info.LastError));

        await StartWorkerAsync();
        var failed = await Eventually.WaitAsync(() => node.Queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(10), "the job to fail");
        Assert.Equal(_options.MaxAttempts, failed!.Attempts);
        Assert.Equal(_options.MaxAttempts - 1, _handler.Attempts(id));
    }

    [Fact]
    public async Task Many_jobs_each_run_once()
    {
        var node = await StartWorkerAsync();
        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => EnqueueAsync(node, "ok")));
        await AllFinishedAsync(node, "all jobs to finish", seconds: 30);
        Assert.All(ids, id => Assert.Equal(1, _handler.Runs(id)));
    }

    [Fact]
    public async Task A_batch_is_claimed_oldest_first_and_each_job_settles_on_its_own()
    {
        var claimer = await NodeAsync(node: 5);
        var first = new List<long>();
        for (var i = 0; i < 6; i++)
            first.Add(await EnqueueAsync(claimer, "ok"));
        var claimed = await ClaimCommittedAsync(claimer, 4, expected: 4);
        Assert.Equal(first.Take(4), claimed.Select(j => j.Id));
        Assert.All(claimed, j => Assert.Equal(1, j.Attempt));
        Assert.Equal("running", (await claimer.Queue.GetAsync(first[3]))!.State);
        Assert.Equal("ready", (await claimer.Queue.GetAsync(first[4]))!.State);
        await claimer.Source.CompleteAsync(claimed);
        Assert.Equal(new JobCounts(2, 0, 0), await claimer.Queue.CountAsync());
        Assert.Null(await claimer.Queue.GetAsync(first[0]));
        var rest = await ClaimCommittedAsync(claimer, 4, expected: 2);
        Assert.Equal(first.Skip(4), rest.Select(j => j.Id));
        await claimer.Source.CompleteAsync(rest);
        Assert.Equal(new JobCounts(0, 0, 0), await claimer.Queue.CountAsync());
        await claimer.DieAsync(); // the hand-driven consumer leaves, so that it holds none of the worker's jobs

        // A worker taking batches: a failing or timed-out job in a batch neither holds back nor undoes the others.
        _options.Batch[Queue] = 8;
        var node = await StartWorkerAsync();
        var ok = new List<long>();
        for (var i = 0; i < 20; i++)
            ok.Add(await EnqueueAsync(node, "ok"));
        var retried = await EnqueueAsync(node, "fail:1");
        var permanent = await EnqueueAsync(node, "permanent");
        var hung = await EnqueueAsync(node, "hang");
        await Eventually.WaitAsync(() => node.Queue.CountAsync(), c => c is { Ready: 0, Running: 0, Failed: 2 }, TimeSpan.FromSeconds(20), "every job to settle");
        Assert.All(ok, id => Assert.Equal(1, _handler.Runs(id)));
        Assert.Equal((2, 1), (_handler.Attempts(retried), _handler.Runs(retried)));
        Assert.Equal("failed", (await node.Queue.GetAsync(permanent))!.State);
        Assert.Equal(3, (await node.Queue.GetAsync(hung))!.Attempts);
        Assert.Equal([hung, permanent], (await node.Queue.ListFailedAsync(10)).Select(j => j.Id)); // the failed stay, newest first
    }

    [Fact]
    public async Task A_failing_job_is_retried_with_backoff_until_it_succeeds()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "fail:2");
        await AllFinishedAsync(node, "the job to succeed");
        Assert.Equal(3, _handler.Attempts(id));
        Assert.Equal(1, _handler.Runs(id));
    }

    [Fact]
    public async Task A_failed_attempt_waits_out_its_backoff_before_the_next()
    {
        _options.BackoffBaseMs = 1000; // the first retry is due 0.8-1.2 s after the failure
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "fail:1");
        var retry = await Eventually.WaitAsync(() => node.Queue.GetAsync(id), j => j is { State: "ready", Attempts: 1 }, TimeSpan.FromSeconds(10), "the first attempt to fail");
        Assert.Contains("told to fail", retry!.LastError, StringComparison.Ordinal);
        await Task.Delay(400);
        Assert.Equal(1, _handler.Attempts(id));
        await AllFinishedAsync(node, "the retry to succeed");
        Assert.Equal(2, _handler.Attempts(id));
    }

    [Fact]
    public async Task A_job_that_keeps_failing_ends_failed_with_its_reason()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "fail:99");
        var job = await Eventually.WaitAsync(() => node.Queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(10), "the job to fail");
        Assert.Equal(3, job!.Attempts);
        Assert.Contains("told to fail", job.LastError, StringComparison.Ordinal);
        Assert.Contains(await node.Queue.ListFailedAsync(10), j => j.Id == id);
        Assert.Equal(new JobCounts(0, 0, 1), await node.Queue.CountAsync());
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "permanent");
        var job = await Eventually.WaitAsync(() => node.Queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(10), "the job to fail");
        Assert.Equal(1, job!.Attempts);
        Assert.Equal("bad input, never retry", job.LastError);
        await Task.Delay(200);
        Assert.Equal(1, _handler.Attempts(id));
    }

    [Fact]
    public async Task A_job_over_its_time_limit_fails_and_is_retried()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "hang");
        var job = await Eventually.WaitAsync(() => node.Queue.GetAsync(id), j => j?.State == "failed", TimeSpan.FromSeconds(20), "the job to time out");
        Assert.Equal(3, job!.Attempts);
        Assert.StartsWith("Timed out", job.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delayed_job_waits_for_its_time()
    {
        var node = await StartWorkerAsync();
        var id = await EnqueueAsync(node, "ok", TimeSpan.FromSeconds(1));
        await Task.Delay(300);
        Assert.Equal(0, _handler.Runs(id));
        Assert.Equal("ready", (await node.Queue.GetAsync(id))!.State);
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the delayed job to run");
    }

    [Fact]
    public async Task An_idle_worker_still_finds_a_job_no_signal_announced()
    {
        await StartWorkerAsync(node: 1);
        var elsewhere = await NodeAsync(node: 2); // another node's commit wakes only its own workers
        var id = await EnqueueAsync(elsewhere, "ok");
        await Eventually.WaitAsync(() => Task.FromResult(_handler.Runs(id)), n => n == 1, TimeSpan.FromSeconds(10), "the polled job to run");
    }
}

public sealed class SqliteLocalJobQueueContractTests() : JobQueueContractTests(DbProvider.Sqlite)
{
    protected override Task<JobAdapter> CreateAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options) =>
        LocalJobQueueTests.AdapterAsync(db, node, signal, options);
}

public sealed class PostgresLocalJobQueueContractTests() : JobQueueContractTests(DbProvider.Postgres)
{
    protected override Task<JobAdapter> CreateAsync(IDatabase db, int node, JobSignal signal, IOptions<JobQueueOptions> options) =>
        LocalJobQueueTests.AdapterAsync(db, node, signal, options);
}
