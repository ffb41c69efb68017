using System.Collections.Concurrent;
using System.Threading.Channels;
using Lenta.Server.Platform.Database;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Platform.Jobs;

/// <summary>
/// In-process jobs (<see cref="IJobQueue.EnqueueInProcessAsync"/>) over any durable adapter, which it wraps: such a
/// job waits in a channel of its queue from its write's commit until one of this process's worker slots takes it, and
/// counts as ready, then running, beside the adapter's jobs. Everything else goes to the adapter, as does an in-process
/// job that fails: it is written there as that attempt's retry. Only a queue whose handlers run in this process (see
/// <see cref="Attach"/>) has a channel; for any other, an in-process job is written at once.
/// A durable job of such a queue, on an adapter whose claims are leases in the database (<see cref="IClaimAtInsert"/>),
/// is written already claimed by this process and handed, once its write commits, to this process's slots of the
/// queue: they run it before claiming anything, and settle it as any claimed job — so it costs no claim transaction. One
/// that waited here past half its lease is left to the lease (it lapses, and the job is claimed again from the table),
/// so it never runs twice at once.
/// </summary>
public sealed class InProcessJobs(IJobQueue durable, IDatabase db, JobSignal signal, IOptions<JobQueueOptions> options) : IJobQueue
{
    private readonly ConcurrentDictionary<string, Channel<Job>> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Channel<(Job Job, long Until)>> _claimed = new(StringComparer.Ordinal);
    private long _ids;
    private long _waiting;
    private long _running;

    public async Task<long> EnqueueAsync(DbWrite write, JobRequest job)
    {
        if (job.Delay is not null || durable is not IClaimAtInsert local || !_claimed.TryGetValue(job.Queue, out var channel))
            return await durable.EnqueueAsync(write, job);
        var claimed = await local.InsertClaimedAsync(write, job);
        write.AfterCommit(() =>
        {
            channel.Writer.TryWrite((claimed, Environment.TickCount64 + options.Value.LeaseSeconds * 500L));
            signal.Notify(job.Queue);
        });
        return claimed.Id;
    }

    /// <summary>Whether jobs written claimed by this process wait for <paramref name="queue"/>'s slots.</summary>
    internal bool HasClaimed(string queue) => _claimed.TryGetValue(queue, out var channel) && channel.Reader.Count > 0;

    /// <summary>Whether <paramref name="queue"/>'s durable jobs are written claimed by this process now (see the class).</summary>
    internal bool ClaimsAtInsert(string queue) => durable is IClaimAtInsert && _claimed.ContainsKey(queue);

    /// <summary>
    /// Up to <paramref name="max"/> of the durable jobs of <paramref name="queue"/> this process wrote claimed (see the
    /// class), oldest first; those past half their lease are dropped, for the table to hand out again when it runs out.
    /// </summary>
    internal List<Job> TakeClaimed(string queue, int max)
    {
        var taken = new List<Job>();
        if (_claimed.TryGetValue(queue, out var channel))
        {
            var now = Environment.TickCount64;
            while (taken.Count < max && channel.Reader.TryRead(out var held))
            {
                if (held.Until > now)
                    taken.Add(held.Job);
            }
        }
        return taken;
    }

    public async Task EnqueueInProcessAsync(DbWrite write, JobRequest job)
    {
        if (job.Delay is not null || !_channels.TryGetValue(job.Queue, out var channel))
        {
            await durable.EnqueueAsync(write, job); // no worker of the queue here (or a delay to keep): the durable way
            return;
        }
        write.AfterCommit(() =>
        {
            Interlocked.Increment(ref _waiting);
            // Ids below zero: never a durable job's.
            channel.Writer.TryWrite(new Job(-Interlocked.Increment(ref _ids), job.Queue, job.Type, job.Payload, 1));
            signal.Notify(SignalOf(job.Queue));
        });
    }

    public Task<JobInfo?> GetAsync(long id, CancellationToken ct = default) => durable.GetAsync(id, ct);

    public Task<IReadOnlyList<JobInfo>> ListFailedAsync(int limit, CancellationToken ct = default) => durable.ListFailedAsync(limit, ct);

    public async Task<JobCounts> CountAsync(CancellationToken ct = default)
    {
        var counts = await durable.CountAsync(ct);
        return counts with { Ready = counts.Ready + Interlocked.Read(ref _waiting), Running = counts.Running + Interlocked.Read(ref _running) };
    }

    public Task PingAsync(CancellationToken ct = default) => durable.PingAsync(ct);

    public Task PrepareAsync(IReadOnlyCollection<string> queues, CancellationToken ct) => durable.PrepareAsync(queues, ct);

    /// <summary>The signal name that wakes <paramref name="queue"/>'s in-process slots.</summary>
    internal static string SignalOf(string queue) => queue + " (in process)";

    /// <summary>The worker runs <paramref name="queue"/>'s handlers in this process: its in-process jobs are taken from now on.</summary>
    internal void Attach(string queue) =>
        _channels.TryAdd(queue, Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false }));

    /// <summary>
    /// The worker's durable slots of <paramref name="queue"/> run here, and this node's claims from before its start are
    /// released: from now on its durable jobs are written claimed (see the class).
    /// </summary>
    internal void AttachClaimed(string queue) =>
        _claimed.TryAdd(queue, Channel.CreateUnbounded<(Job, long)>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false }));

    /// <summary>Up to <paramref name="max"/> waiting in-process jobs of <paramref name="queue"/>, oldest first; they count as running until <see cref="Done"/>.</summary>
    internal List<Job> Take(string queue, int max)
    {
        var taken = new List<Job>();
        if (_channels.TryGetValue(queue, out var channel))
        {
            while (taken.Count < max && channel.Reader.TryRead(out var job))
                taken.Add(job);
        }
        Interlocked.Add(ref _running, taken.Count);
        Interlocked.Add(ref _waiting, -taken.Count);
        return taken;
    }

    /// <summary>One of the jobs <see cref="Take"/> returned is over, however it ended.</summary>
    internal void Done() => Interlocked.Decrement(ref _running);

    /// <summary>
    /// An in-process job that failed becomes a durable one, retried with backoff as any other: its attempt counted and
    /// its reason kept, as if it had failed in the queue.
    /// </summary>
    internal Task PersistAsync(Job failed, string error) =>
        db.WriteAsync(w => durable.EnqueueAsync(w, new JobRequest(failed.Queue, failed.Type, failed.Payload, options.Value.RetryDelay(failed.Attempt))
        {
            AttemptsMade = failed.Attempt,
            LastError = error,
        }));
}
