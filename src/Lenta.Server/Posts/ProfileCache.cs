using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>
/// Each account's newest post ids for its profile page, <c>ap:{account}</c>: a capped sorted set of the ids of its
/// public, unlisted and private posts (never direct ones), so a profile page is read without a query; visibility is
/// applied to the posts after they are loaded. A trailing id 0 says the set holds every such post the account has;
/// without it (the account has more than <see cref="Size"/>, and trimming drops 0 first) a read past the set's end
/// goes to the database. A post is added after its commit, a deleted one removed after its commit; the set is rebuilt
/// from the database when missing. The database is the truth.
/// </summary>
public sealed class ProfileCache(ICache cache, IDatabase db)
{
    public const int Size = 400;

    private const long Complete = 0;

    public static string Key(long accountId) => "ap:" + accountId;

    public static bool Listed(PostCore post) => post.Visibility <= Visibility.Private;

    public void AddAfterCommit(DbWrite write, PostCore post)
    {
        if (Listed(post))
            write.AfterCommit(() => cache.SortedAddIfPresentAsync(Key(post.AccountId), new[] { post.Id }, Size).AsTask());
    }

    public void RemoveAfterCommit(DbWrite write, PostCore post) =>
        write.AfterCommit(() => cache.SortedRemoveAsync(Key(post.AccountId), new[] { post.Id }).AsTask());

    /// <summary>
    /// Up to <paramref name="limit"/> ids below <paramref name="maxExclusive"/>, newest first, and whether they reach the
    /// account's oldest post; null when the set cannot answer (not cached even after a rebuild, or trimmed above the
    /// range's end).
    /// </summary>
    public async Task<(long[] Ids, bool End)?> RangeAsync(long accountId, long? maxExclusive, int limit, CancellationToken ct)
    {
        var range = new SortedRange(maxExclusive, null, limit + 1);
        var ids = await cache.SortedRangeAsync(Key(accountId), range, ct);
        if (ids is null)
        {
            await RebuildAsync(accountId, ct);
            ids = await cache.SortedRangeAsync(Key(accountId), range, ct);
            if (ids is null)
                return null; // evicted at once under a tiny budget
        }
        var end = ids.Length > 0 && ids[^1] == Complete;
        var posts = end ? ids[..^1] : ids;
        if (posts.Length > limit)
            return (posts[..limit], false);
        return end ? (posts, true) : null;
    }

    /// <summary>
    /// Fills the set from the database. A post committed while this reads was added to a set that did not exist yet:
    /// the second query, after the set is stored, picks it up (as the home timeline's rebuild does).
    /// </summary>
    private async Task RebuildAsync(long accountId, CancellationToken ct)
    {
        var ids = await IdsAsync(accountId, null, Size, ct);
        var stored = ids.Count < Size ? [.. ids, Complete] : ids;
        await cache.SortedReplaceAsync(Key(accountId), stored.ToArray(), Size, ct);
        var late = await IdsAsync(accountId, ids.Count > 0 ? ids[0] : Complete, Size, ct);
        if (late.Count > 0)
            await cache.SortedAddIfPresentAsync(Key(accountId), late.ToArray(), Size, ct);
    }

    private Task<List<long>> IdsAsync(long accountId, long? above, int limit, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition($"""
            SELECT id FROM statuses WHERE account_id = @accountId AND visibility <= 2 {(above is null ? "" : "AND id > @above")}
            ORDER BY id DESC LIMIT @limit
            """, new { accountId, above, limit }, cancellationToken: ct))).ToList(), ct);
}
