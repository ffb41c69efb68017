using System.Buffers.Binary;
using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Graph;

/// <summary>
/// Whom each account follows, cached (<c>fw:{account}</c>: the followed ids, sorted, 8 bytes each) for the reads that ask
/// whether a viewer follows some authors — a home page's boosts and pull accounts, private posts on pages and streams —
/// which were one query each. A miss is read from the database (one index range) and filled with add-if-absent. A
/// follow or unfollow of the account marks its entry changed after the commit, before the caller hears back (the feed's
/// merge jobs, which may run before that, ask the database): a reader that read the database before the commit cannot fill the old list (its add
/// finds the mark), and while the mark lives (<see cref="ChangedFor"/>) the account's checks go to the database. An
/// account following more than <see cref="MaxCached"/> is marked as such and always asked of the database.
/// </summary>
public sealed class FollowingCache(ICache cache, IDatabase db)
{
    public const int MaxCached = 2_000;
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] Changed = "~"u8.ToArray();
    private static readonly byte[] TooMany = "!"u8.ToArray();
    private static readonly object ChangedMark = new();
    private static readonly object TooManyMark = new();

    private const string Prefix = "fw:";

    /// <summary>Which of <paramref name="targets"/> <paramref name="follower"/> follows.</summary>
    public async Task<HashSet<long>> FollowedAmongAsync(long follower, IReadOnlyCollection<long> targets, CancellationToken ct)
    {
        if (targets.Count == 0)
            return [];
        if (await FollowingAsync(follower, ct) is { } following)
            return targets.Where(t => Array.BinarySearch(following, t) >= 0).ToHashSet();
        return await db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition(
            $"SELECT target_account_id FROM follows WHERE account_id = @follower AND target_account_id {Sql.In(db.Provider, "@targets")}",
            new { follower, targets = Sql.List(db.Provider, targets) }, cancellationToken: ct))).ToHashSet(), ct);
    }

    /// <summary>Whether <paramref name="follower"/> follows <paramref name="target"/>.</summary>
    public async Task<bool> IsFollowingAsync(long follower, long target, CancellationToken ct) =>
        (await FollowedAmongAsync(follower, [target], ct)).Count > 0;

    /// <summary>In the write that added or removed one of <paramref name="follower"/>'s follows: marks the entry changed after the commit.</summary>
    public void ChangedAfterCommit(DbWrite w, long follower) =>
        w.AfterCommit(() => cache.SetAsync(Prefix + follower, Changed, ChangedFor).AsTask());

    /// <summary>The followed ids, sorted; null when the database must answer (changed lately, or too many to cache).</summary>
    private async Task<long[]?> FollowingAsync(long follower, CancellationToken ct)
    {
        var cached = (await cache.GetManyDecodedAsync(Prefix, [follower], Decode, ct))[0];
        if (cached is long[] ids)
            return ids;
        if (cached is not null)
            return null;
        var read = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(
            "SELECT target_account_id FROM follows WHERE account_id = @follower ORDER BY target_account_id LIMIT @limit",
            new { follower, limit = MaxCached + 1 }, cancellationToken: ct)), ct)).ToArray();
        if (read.Length > MaxCached)
        {
            await cache.AddAsync(Prefix + follower, TooMany, Keep, ct);
            return null;
        }
        var bytes = new byte[read.Length * sizeof(long)];
        for (var i = 0; i < read.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), read[i]);
        await cache.AddAsync(Prefix + follower, bytes, Keep, ct);
        return read;
    }

    private static object Decode(byte[] bytes)
    {
        if (bytes.AsSpan().SequenceEqual(Changed))
            return ChangedMark;
        if (bytes.AsSpan().SequenceEqual(TooMany))
            return TooManyMark;
        var ids = new long[bytes.Length / sizeof(long)];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i * sizeof(long)));
        return ids;
    }
}
