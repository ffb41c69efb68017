using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Platform;

/// <summary>The contract's claims that lapse: a vanished worker's jobs, a crashed node's, heartbeats, and fencing by attempt.</summary>
public abstract partial class JobQueueContractTests
{
    [Fact]
    public async Task A_job_whose_worker_vanished_is_taken_over_when_its_lease_runs_out()
    {
        // Node 7 claims the job and dies (never settles it, no heartbeat).
        var dead = await NodeAsync(node: 7);
        var id = await EnqueueAsync(dead, "ok");
        var claimed = Assert.Single(await ClaimCommittedAsync(dead, 1, expected: 1));
        Assert.Equal(id, claimed.Id);
        await dead.DieAsync();

        var live = await StartWorkerAsync(node: 1);
        await AllFinishedAsync(live, "another node to finish the job", seconds: 15);
        Assert.Equal(1, _handler.Runs(id));

        // The dead node's late settling of its stale attempt changes nothing.
        await dead.Source.CompleteAsync([claimed]);
        await dead.Source.FailAsync(claimed, "late", permanent: true);
        Assert.Null(await live.Queue.GetAsync(id));
        Assert.Equal(new JobCounts(0, 0, 0), await live.Queue.CountAsync());
    }

    [Fact]
    public async Task A_claim_that_lapsed_can_neither_settle_nor_extend_the_job_another_worker_holds_since()
    {
        var stale = await NodeAsync(node: 7);
        var current = await NodeAsync(node: 8);
        var id = await EnqueueAsync(stale, "ok");
        var first = Assert.Single(await ClaimCommittedAsync(stale, 1, expected: 1));
        await stale.DieAsync();
        var second = Assert.Single(await Eventually.WaitAsync(async () =>
        {
            await current.Source.ReclaimExpiredAsync(CancellationToken.None);
            return await ClaimAsync(current, 1);
        }, c => c.Count > 0, TimeSpan.FromSeconds(15), "the first claim's lease to run out"));
        Assert.Equal((id, 2), (second.Id, second.Attempt));

        await stale.Source.ExtendLeasesAsync([first]);
        await stale.Source.CompleteAsync([first]);
        await stale.Source.FailAsync(first, "late", permanent: true);
        var info = await current.Queue.GetAsync(id);
        Assert.Equal(("running", 2, null), (info!.State, info.Attempts, info.LastError));

        // Settled by the worker that holds it, the job waits for its retry; the stale claim still cannot finish it.
        await current.Source.FailAsync(second, "second attempt failed", permanent: false);
        var retry = await current.Queue.GetAsync(id);
        Assert.Equal(("ready", "second attempt failed"), (retry!.State, retry.LastError));
        await stale.Source.CompleteAsync([first]);
        Assert.NotNull(await current.Queue.GetAsync(id));
    }

    [Fact]
    public async Task A_heartbeat_keeps_a_claim_past_its_lease()
    {
        var holder = await NodeAsync(node: 7);
        var other = await NodeAsync(node: 8);
        var id = await EnqueueAsync(holder, "ok");
        var claimed = Assert.Single(await ClaimCommittedAsync(holder, 1, expected: 1));
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(_options.LeaseSeconds * 1.5);
        while (DateTime.UtcNow < until)
        {
            await holder.Source.ExtendLeasesAsync([claimed]);
            await other.Source.ReclaimExpiredAsync(CancellationToken.None);
            Assert.Empty(await ClaimAsync(other, 1));
            await Task.Delay(500);
        }
        await holder.Source.CompleteAsync([claimed]);
        Assert.Null(await holder.Queue.GetAsync(id));
    }

    [Fact]
    public async Task Jobs_a_node_was_running_when_it_crashed_run_again_when_it_restarts()
    {
        var before = await NodeAsync(node: 3);
        var id = await EnqueueAsync(before, "ok");
        Assert.Single(await ClaimCommittedAsync(before, 1, expected: 1));
        await before.DieAsync();
        Assert.Equal("running", (await before.Queue.GetAsync(id))!.State);

        _options.LeaseSeconds = 600; // the lease alone would keep it stuck for ten minutes
        var after = await StartWorkerAsync(node: 3);
        await AllFinishedAsync(after, "the restarted node to rerun its job");
        Assert.Equal(1, _handler.Runs(id));
    }
}
