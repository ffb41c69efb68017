using System.Collections.Concurrent;

namespace Lenta.Server.Platform.Database;

/// <summary>
/// Many callers' small writes of one kind in one transaction and one commit: each caller hands its item and waits; a
/// writer (at most <c>writers</c> at once, started by the callers, none while nothing waits) takes up to <c>maxBatch</c>
/// waiting items, runs <c>write</c> over them in one database write, and completes every caller with its item's result
/// once that write committed, or with the write's failure. So under load a commit and its round trips are shared by the
/// whole batch, while a lone caller is written at once. On a crash before the commit no caller of the batch was
/// acknowledged and nothing of it is stored. <c>write</c> must give one result per item, in the items' order, and should
/// be a few statements over all of them (arrays, <c>unnest</c>) that a single item's conflict cannot fail.
/// </summary>
public sealed class WriteBatcher<TItem, TResult>(IDatabase db, Func<DbWrite, IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> write, int maxBatch, int writers)
{
    private readonly ConcurrentQueue<(TItem Item, TaskCompletionSource<TResult> Done)> _waiting = new();
    private int _running;

    public Task<TResult> WriteAsync(TItem item)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting.Enqueue((item, done));
        if (Interlocked.Increment(ref _running) <= writers)
            _ = Task.Run(DrainAsync);
        else
            Interlocked.Decrement(ref _running);
        return done.Task;
    }

    private async Task DrainAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>(maxBatch);
        while (true)
        {
            batch.Clear();
            while (batch.Count < maxBatch && _waiting.TryDequeue(out var next))
                batch.Add(next);
            if (batch.Count == 0)
            {
                // Give the place back, then look again: an item queued while this writer held a place the queue's caller
                // saw as taken would otherwise wait for the next caller.
                Interlocked.Decrement(ref _running);
                if (_waiting.IsEmpty)
                    return;
                if (Interlocked.Increment(ref _running) > writers)
                {
                    Interlocked.Decrement(ref _running);   // the writers running take it
                    return;
                }
                continue;
            }
            try
            {
                var items = batch.ConvertAll(b => b.Item);
                var results = await db.WriteAsync(w => write(w, items));
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception e)
            {
                foreach (var (_, done) in batch)
                    done.TrySetException(e);
            }
        }
    }
}
