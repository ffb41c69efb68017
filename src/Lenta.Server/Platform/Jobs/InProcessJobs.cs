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
/// </summary>
public sealed class InProcessJobs(IJobQueue durable, IDatabase db, JobSignal signal, IOptions<JobQueueOptions> options) : IJobQueue
{
    private readonly ConcurrentDictionary<string, Channel<Job>> _channels = new(StringComparer.Ordinal);
    private long _ids;
    private long _waiting;
    private long _running;

    public Task<long> EnqueueAsync(DbWrite write, JobRequest job) => durable.EnqueueAsync(write, job);

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
