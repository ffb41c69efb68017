using Lenta.Server.Platform.Cache;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;

namespace Lenta.Server.Likes;

/// <summary>
/// The write-behind (PostgreSQL; on SQLite a like moves its count itself and this finds nothing): folds pending
/// <c>favourite_deltas</c> into <c>favourite_counts</c>, one upsert per post per batch however many likes it got, and deletes the folded deltas in the same transaction, so a crash
/// at any point applies each delta exactly once. Woken by this process's new deltas, and every 5 s for
/// deltas other nodes wrote or a crash left behind.
/// On PostgreSQL an advisory lock keeps two nodes from folding the same deltas.
/// </summary>
public sealed class LikeCountApplier(IDatabase db, LikesService likes, ILogger<LikeCountApplier> log) : BackgroundService
{
    private const int Batch = 10_000;
    private const long LockKey = 0x4C494B4553; // "LIKES"
    private readonly SemaphoreSlim _wake = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        likes.DeltasWritten += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    while (await ApplyOnceAsync(stoppingToken) == Batch)
                    {
                        // more waiting: keep folding
                    }
                    await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    log.LogError(e, "Folding like deltas failed; retrying");
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        finally
        {
            likes.DeltasWritten -= Wake;
        }
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
                _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Folds up to one batch; returns how many deltas it folded.</summary>
    public Task<int> ApplyOnceAsync(CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            if (w.Provider == DbProvider.Postgres && !await w.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_xact_lock(@key)", new { key = LockKey }))
                return 0;
            var rows = (await w.QueryAsync<(long Seq, long StatusId, int Delta)>(
                "SELECT seq, status_id, delta FROM favourite_deltas ORDER BY seq LIMIT @limit", new { limit = Batch })).ToList();
            if (rows.Count == 0)
                return 0;
            foreach (var group in rows.GroupBy(r => r.StatusId))
            {
                var sum = group.Sum(r => r.Delta);
                if (sum != 0)
                    await w.ExecuteAsync(LikesService.AddToCountSql, new { statusId = group.Key, delta = sum });
            }
            // Exactly the rows folded: on PostgreSQL a delta with a smaller seq may commit after our read.
            await w.ExecuteAsync($"DELETE FROM favourite_deltas WHERE seq {Sql.In(w.Provider, "@seqs")}", new { seqs = rows.Select(r => r.Seq).ToArray() });
            return rows.Count;
        }, ct);
}

/// <summary>
/// A new post has no likes: its count and its author's flag are known without a query, so they are cached after the
/// commit (add-if-absent: a like that raced ahead already put the true values). A post's likes go with it, in the
/// post's delete transaction.
/// </summary>
public sealed class LikesPostObserver(ICache cache, TimeProvider time) : IPostObserver
{
    public Task PostCreatedAsync(DbWrite write, PostCore post)
    {
        var beforeCommit = time.GetUtcNow();
        write.AfterCommit(() => LikesService.PrimeNewPostAsync(cache, post.Id, post.AccountId, beforeCommit));
        return Task.CompletedTask;
    }

    public Task PostDeletedAsync(DbWrite write, PostCore post) => LikesService.DeleteForPostAsync(write, post.Id);
}
