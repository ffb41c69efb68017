using Dapper;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Platform.Jobs.RabbitMq;

/// <summary>The worker's side: claims are deliveries of this process's consumers, settled by ack on their channel.</summary>
public sealed partial class RabbitJobQueue
{
    public async Task<IReadOnlyList<Job>> ClaimAsync(string queue, int max, CancellationToken ct)
    {
        var consumer = await ConsumerAsync(queue, max, ct);
        var taken = new List<Delivery>();
        while (taken.Count < max && consumer.TryTake(out var d))
        {
            if (consumer.Holds(d))
                taken.Add(d); // else its channel closed: the broker delivers it again
        }
        if (taken.Count == 0)
            return [];
        HashSet<Delivery> due;
        try
        {
            due = await StillDueAsync(taken, ct);
        }
        catch
        {
            // The database is away (or the process stopping): the deliveries are given back for a later claim, else they
            // would stay unacknowledged on this channel, never run, and hold its prefetch until the process ends.
            foreach (var d in taken)
                consumer.GiveBack(d);
            throw;
        }
        var claimed = new List<Job>(taken.Count);
        foreach (var d in taken)
        {
            if (!due.Contains(d) || _running.TryGetValue(d.Id, out var held) && held.Attempt == d.Attempt && held.From.Holds(held))
            {
                await AckAsync(d);
                continue;
            }
            _running[d.Id] = d;
            claimed.Add(d.ToJob());
        }
        return claimed;
    }

    /// <summary>
    /// The deliveries whose job still wants this attempt, read in one query. A message may come again after its job
    /// moved on: redelivered after its ack was lost (the job finished, gave up, or failed this attempt and was republished
    /// for its retry), or published twice by a relay whose lease ran out before it marked the row. Such a message finds
    /// the row gone, failed, or at a later attempt than the message was published for, and is dropped; so is a second
    /// copy of an attempt this process is running (see <see cref="ClaimAsync"/>). A retry that comes back before the
    /// failed attempt's row write landed finds an earlier attempt there, and runs.
    /// </summary>
    private async Task<HashSet<Delivery>> StillDueAsync(List<Delivery> deliveries, CancellationToken ct)
    {
        var ids = Sql.List(db.Provider, deliveries.Select(d => d.Id).Distinct());
        var rows = (await db.ReadAsync(c => c.QueryAsync<(long Id, string State, int Attempts)>(new CommandDefinition(
            $"SELECT id, state, attempts FROM jobs WHERE id {Sql.In(db.Provider, "@ids")}", new { ids }, cancellationToken: ct)), ct)).ToDictionary(r => r.Id);
        var due = new HashSet<Delivery>();
        var seen = new HashSet<(long, int)>();
        foreach (var d in deliveries)
        {
            if (rows.TryGetValue(d.Id, out var r) && r.State != "failed" && r.Attempts <= d.AttemptsBefore && seen.Add((d.Id, d.Attempt)))
                due.Add(d);
        }
        return due;
    }

    private Task<RabbitConsumer> ConsumerAsync(string queue, int max, CancellationToken ct) =>
        _consumers.GetOrAdd(queue, q => Task.Run(async () =>
        {
            var connection = await ConnectAsync(ct);
            var prefetch = (ushort)Math.Clamp(Math.Max(_options.ConcurrencyOf(q) * _options.BatchOf(q), max), 1, ushort.MaxValue);
            return await RabbitConsumer.StartAsync(connection, _topology, q, prefetch, () => signal.Notify(q), ct);
        }, CancellationToken.None));

    private WriteBatcher<long, bool>? _completions;

    /// <summary>
    /// Finished jobs' row deletes, many slots' in one statement and one commit while others are being written. Made at
    /// first use; slots finishing first at the same moment all get the one published instance (one writer, not two).
    /// </summary>
    private WriteBatcher<long, bool> Completions => LazyInitializer.EnsureInitialized(ref _completions, () => new WriteBatcher<long, bool>(db, async (w, jobIds) =>
    {
        await w.ExecuteAsync($"DELETE FROM jobs WHERE id {Sql.In(w.Provider, "@jobIds")}", new { jobIds = Sql.List(w.Provider, jobIds) });
        return jobIds.Select(_ => true).ToList();
    }, maxBatch: 256, writers: 1));

    /// <summary>The delivery behind <paramref name="job"/>, if this process still holds that attempt on a live channel.</summary>
    private Delivery? Held(Job job) =>
        _running.TryGetValue(job.Id, out var d) && d.Attempt == job.Attempt && d.From.Holds(d) ? d : null;

    /// <summary>
    /// Forgets a settled delivery, but only that one: with a prefetch above one, the job's next attempt (its retry came
    /// back from the wait queue before this attempt was acked) may already be claimed under the same id, and must stay.
    /// </summary>
    private void Settled(Delivery d) => _running.TryRemove(KeyValuePair.Create(d.Id, d));

    /// <summary>
    /// Deletes the finished jobs' rows, then acks: a lost ack redelivers a job whose row is gone, which is dropped. The
    /// deletes of the slots finishing at the same moment go in one statement and one commit (<see cref="_completions"/>).
    /// A delete that fails (the database away) gives the deliveries back to their consumer: those jobs run once more when
    /// it is back (at least once, as after a crash), instead of staying unacknowledged on this channel for good.
    /// </summary>
    public async Task CompleteAsync(IReadOnlyList<Job> jobs)
    {
        var held = jobs.Select(Held).OfType<Delivery>().ToList();
        if (held.Count == 0)
            return;
        try
        {
            await Task.WhenAll(held.Select(d => Completions.WriteAsync(d.Id)));
        }
        catch
        {
            foreach (var d in held)
            {
                Settled(d);
                d.From.GiveBack(d);
            }
            throw;
        }
        foreach (var d in held)
        {
            Settled(d);
            await AckAsync(d);
        }
    }

    /// <summary>
    /// Publishes the failed attempt's next step (a copy in the retry wait queue with the backoff as its TTL, or in
    /// <c>.failed</c> with the reason in its headers), then records the attempt on the job's row, then acks the delivery.
    /// In that order nothing is lost: a publish that fails (the broker went away) returns the delivery to the queue, to
    /// run again; a crash after the publish runs the attempt once more beside its retry (at least once). The row is
    /// written before the ack so that a delivery whose ack is lost meets a row that moved on, and is dropped. The retry may
    /// come back and run before that write lands; the write applies only to a row no later attempt has written.
    /// </summary>
    public async Task FailAsync(Job job, string reason, bool permanent)
    {
        if (Held(job) is not { } d)
            return;
        var giveUp = permanent || job.Attempt >= _options.MaxAttempts;
        var delay = (long)_options.RetryDelay(job.Attempt).TotalMilliseconds;
        var error = JobRows.Truncate(reason);
        try
        {
            var publisher = await PublisherAsync(CancellationToken.None);
            if (giveUp)
            {
                await _topology.DeclareQueueAsync(publisher, job.Queue);
                await PublishAsync(publisher, _topology.Failed(job.Queue), job.Id, job.Type, job.Payload, job.Attempt, null, error);
            }
            else
            {
                var wait = _topology.Retry(job.Queue, job.Attempt);
                await _topology.DeclareAsync(publisher, wait, waitsFor: true, job.Queue);
                await PublishAsync(publisher, wait, job.Id, job.Type, job.Payload, job.Attempt, Math.Max(1, delay), error);
            }
        }
        catch (Exception)
        {
            _topology.Forget();
            Settled(d);
            await RequeueAsync(d);
            throw;
        }
        try
        {
            await db.WriteAsync(w => w.ExecuteAsync("""
                UPDATE jobs SET state = @state, attempts = @attempt, last_error = @error, run_after = @retryAt, locked_by = NULL, locked_until = NULL
                WHERE id = @id AND attempts < @attempt
                """, new { id = job.Id, attempt = job.Attempt, state = giveUp ? "failed" : "ready", error, retryAt = Now + delay }));
        }
        finally
        {
            // The next step is on the broker: this delivery is settled even if the row could not be written.
            Settled(d);
            await AckAsync(d);
        }
    }

    /// <summary>Nothing to extend: a delivery stays with its consumer until acked or its channel closes.</summary>
    public Task ExtendLeasesAsync(IReadOnlyList<Job> jobs) => Task.CompletedTask;

    /// <summary>Nothing to release: a stopped process's channels closed with it, and the broker requeued what they held.</summary>
    public Task<int> ReleaseOwnAsync(CancellationToken ct) => Task.FromResult(0);

    /// <summary>Nothing lapses by time: a consumer that vanished lost its connection, and the broker requeued what it held (heartbeats detect a dead peer).</summary>
    public Task<int> ReclaimExpiredAsync(CancellationToken ct) => Task.FromResult(0);
}
