namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// The job queue as the worker sees it: a consumer that claims due jobs, runs them, and settles each (acknowledged or
/// failed). Delivery is at least once: a claim that is never settled (its worker crashed, hung past its lease, lost
/// its connection) lapses and the job is delivered again, so a handler may see a job twice. Each claim carries the
/// job's attempt number (<see cref="Job.Attempt"/>), and everything that settles or extends a claim is fenced by it: a
/// worker whose claim lapsed cannot settle the job another worker holds since. The local adapter claims by stamping
/// rows with its node and a lease; a broker's adapter claims what its consumer's prefetch delivered and settles with
/// ack and nack on the channel that delivered it (a closed channel's deliveries are redelivered by the broker).
/// </summary>
public interface IJobSource
{
    /// <summary>
    /// True when a claim lapses only with its consumer's connection (a broker redelivers what a closed channel held),
    /// never by time: then <see cref="ExtendLeasesAsync"/>, <see cref="ReleaseOwnAsync"/> and
    /// <see cref="ReclaimExpiredAsync"/> have nothing to do, and a claim is not seen the moment its job commits (the job
    /// travels through the broker first). False when claims are leases in the database that run out.
    /// </summary>
    bool ClaimsEndWithConnection => false;

    /// <summary>
    /// Up to <paramref name="max"/> due jobs of <paramref name="queue"/> (ready, any delay passed), oldest first, each
    /// now claimed by this consumer with its attempt number one higher than its last; empty at once when none is due.
    /// A claim holds until it is settled, or lapses when its lease (<see cref="JobQueueOptions.LeaseSeconds"/>) runs
    /// out without a heartbeat or its consumer goes away; then the job is delivered again.
    /// </summary>
    Task<IReadOnlyList<Job>> ClaimAsync(string queue, int max, CancellationToken ct);

    /// <summary>
    /// Acknowledges finished jobs: none is delivered again, and none is kept (<see cref="IJobQueue.GetAsync"/> finds
    /// nothing). A claim that lapsed meanwhile is left alone: the job is someone else's now and runs again there.
    /// Called on shutdown too, for what finished before it.
    /// </summary>
    Task CompleteAsync(IReadOnlyList<Job> jobs);

    /// <summary>
    /// Settles a failed attempt, keeping <paramref name="reason"/> as the job's last error: the job is delivered again
    /// after <see cref="JobQueueOptions.RetryDelay"/> of this attempt (exponential, ±20 %), or ends failed for good
    /// when <paramref name="permanent"/> or when this was its last attempt (<see cref="JobQueueOptions.MaxAttempts"/>).
    /// A claim that lapsed meanwhile is left alone.
    /// </summary>
    Task FailAsync(Job job, string reason, bool permanent);

    /// <summary>
    /// Heartbeat while the jobs' handlers run: their claims hold for another lease. A lapsed claim is not revived. An
    /// adapter whose claims hold as long as its consumer's connection has nothing to do.
    /// </summary>
    Task ExtendLeasesAsync(IReadOnlyList<Job> jobs);

    /// <summary>
    /// At the worker's start: jobs this node had claimed when it last stopped (a crash, a kill -9) are delivered again
    /// now, not when their leases run out. Touches no other node's claims. Returns how many. An adapter whose claims
    /// end with its consumer's connection has nothing to do.
    /// </summary>
    Task<int> ReleaseOwnAsync(CancellationToken ct);

    /// <summary>
    /// Called every quarter lease: claims whose lease ran out (their worker vanished or hung) lapse, and their jobs are
    /// delivered again. Returns how many. An adapter whose claims end with its consumer's connection has nothing to do.
    /// </summary>
    Task<int> ReclaimExpiredAsync(CancellationToken ct);
}
