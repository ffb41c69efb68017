using System.Text.Json;
using Dapper;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Graph;

/// <summary>
/// Blocks and mutes (docs.joinmastodon.org/methods/accounts/#block, #mute): rows of <c>blocks</c> and <c>mutes</c>,
/// unique per pair. A block ends the follows and follow requests between the two accounts, both ways, in its own
/// transaction (counts moved and the feed's unmerge jobs written as for an unfollow); neither can follow the other
/// while it lasts. Timelines leave out, at read time, the posts of everyone a reader blocks, is blocked by or mutes
/// (<see cref="HiddenFromAsync"/>), and the home timeline also the boosts of accounts the reader follows with
/// <c>reblogs=false</c> (<see cref="HomeHiddenAsync"/>). Both sets are cached per reader as one entry, <c>gx:{reader}</c>
/// (usually empty; the boosters as negated ids), written as changed (<c>~</c>) after every commit that changes it — for
/// both accounts of a block, for the follower of a follow whose boosts are hidden — and kept no longer than the soonest
/// of its mutes runs.
/// </summary>
public sealed class BlocksAndMutes(IDatabase db, ICache cache, GraphService graph, AccountService accounts, IdGenerator ids, TimeProvider time)
{
    /// <summary>SQL: a mute row still in force (<c>@now</c>, milliseconds).</summary>
    internal const string MuteActive = "(expires_at IS NULL OR expires_at > @now)";

    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] Changed = "~"u8.ToArray();

    private static string HiddenKey(long reader) => "gx:" + reader;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<RelationshipEntity> BlockAsync(long me, long targetId, bool block, CancellationToken ct)
    {
        await TargetAsync(me, targetId, ct);
        await db.WriteAsync(async w =>
        {
            if (!block)
            {
                if (await w.ExecuteAsync("DELETE FROM blocks WHERE account_id = @me AND target_account_id = @targetId", new { me, targetId }) > 0)
                    ChangedAfterCommit(w, me, targetId);
                return;
            }
            var inserted = await w.ExecuteAsync("""
                INSERT INTO blocks (id, account_id, target_account_id, created_at) VALUES (@id, @me, @targetId, @now)
                ON CONFLICT (account_id, target_account_id) DO NOTHING
                """, new { id = ids.Next(), me, targetId, now = Now });
            if (inserted == 0)
                return;
            await graph.RemoveFollowAsync(w, me, targetId);
            await graph.RemoveFollowAsync(w, targetId, me);
            ChangedAfterCommit(w, me, targetId);
        }, ct);
        return (await graph.RelationshipsAsync(me, [targetId], ct))[0];
    }

    /// <param name="notifications">whether the mute also mutes notifications from the account (Mastodon's default: true)</param>
    /// <param name="duration">seconds until the mute ends by itself; 0 for never</param>
    public async Task<RelationshipEntity> MuteAsync(long me, long targetId, bool mute, bool notifications, long duration, CancellationToken ct)
    {
        await TargetAsync(me, targetId, ct);
        if (duration < 0)
            throw new ApiException(422, "Validation failed: Duration must be a positive number of seconds");
        var now = Now;
        long? expiresAt = duration > 0 ? now + Math.Min(duration, 100L * 365 * 24 * 3600) * 1000 : null;
        await db.WriteAsync(async w =>
        {
            var changed = mute
                ? await w.ExecuteAsync("""
                    INSERT INTO mutes (id, account_id, target_account_id, notifications, expires_at, created_at) VALUES (@id, @me, @targetId, @notifications, @expiresAt, @now)
                    ON CONFLICT (account_id, target_account_id) DO UPDATE SET notifications = excluded.notifications, expires_at = excluded.expires_at
                    """, new { id = ids.Next(), me, targetId, notifications = notifications ? 1 : 0, expiresAt, now })
                : await w.ExecuteAsync("DELETE FROM mutes WHERE account_id = @me AND target_account_id = @targetId", new { me, targetId });
            if (changed > 0)
                ChangedAfterCommit(w, me);
        }, ct);
        return (await graph.RelationshipsAsync(me, [targetId], ct))[0];
    }

    /// <summary>Whom the caller blocks, newest block first, paged by the block's id.</summary>
    public async Task<List<GraphEdge>> BlockedAsync(long me, Page page, CancellationToken ct) =>
        (await CursorQuery.PageAsync(db, "blocks", "account_id", "target_account_id", me, page, ct)).Select(r => new GraphEdge(r.Id, r.Value)).ToList();

    /// <summary>Whom the caller mutes (mutes in force), newest mute first, paged by the mute's id.</summary>
    public async Task<List<GraphEdge>> MutedAsync(long me, Page page, CancellationToken ct) =>
        (await CursorQuery.PageAsync(db, [new CursorSource("mutes", $"{MuteActive.Replace("@now", Now.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)} AND ")],
            "account_id", "target_account_id", me, page, ct)).Select(r => new GraphEdge(r.Id, r.Value)).ToList();

    /// <summary>
    /// The accounts whose posts <paramref name="reader"/>'s timelines leave out: those the reader blocks or mutes, and
    /// those blocking the reader. One cache read; one query when not cached.
    /// </summary>
    public async Task<IReadOnlySet<long>> HiddenFromAsync(long reader, CancellationToken ct) => (await HomeHiddenAsync(reader, ct)).Accounts;

    /// <summary>
    /// What <paramref name="reader"/>'s home timeline leaves out: the posts of <see cref="HiddenFromAsync"/>'s accounts,
    /// and the boosts made by the accounts the reader follows with <c>reblogs=false</c> (Mastodon's <c>showing_reblogs</c>:
    /// their own posts still show). Read at read time, so it holds for what fan-out pushed before the follow's change.
    /// </summary>
    public async Task<ReaderHidden> HomeHiddenAsync(long reader, CancellationToken ct)
    {
        var cached = (await cache.GetManyAsync([HiddenKey(reader)], ct))[0];
        if (cached is not null && !cached.AsSpan().SequenceEqual(Changed))
            return ReaderHidden.From(JsonSerializer.Deserialize(cached, GraphJson.Default.Int64Array) ?? []);
        var now = Now;
        var rows = (await db.ReadAsync(c => c.QueryAsync<(long AccountId, long? ExpiresAt)>(new CommandDefinition($"""
            SELECT target_account_id, CAST(NULL AS BIGINT) FROM blocks WHERE account_id = @reader
            UNION ALL SELECT account_id, CAST(NULL AS BIGINT) FROM blocks WHERE target_account_id = @reader
            UNION ALL SELECT target_account_id, expires_at FROM mutes WHERE account_id = @reader AND {MuteActive}
            UNION ALL SELECT -target_account_id, CAST(NULL AS BIGINT) FROM follows WHERE account_id = @reader AND show_reblogs = 0
            """, new { reader, now }, cancellationToken: ct)), ct)).ToList();
        var entries = rows.Select(r => r.AccountId).Distinct().ToArray();
        if (cached is null)
        {
            // Kept no longer than its soonest mute lasts, so an ended mute shows the account's posts again.
            var soonest = rows.Where(r => r.ExpiresAt is not null).Select(r => r.ExpiresAt!.Value).DefaultIfEmpty(long.MaxValue).Min();
            var keep = soonest == long.MaxValue ? Keep : TimeSpan.FromMilliseconds(Math.Clamp(soonest - now, 1, Keep.TotalMilliseconds));
            await cache.AddAsync(HiddenKey(reader), JsonSerializer.SerializeToUtf8Bytes(entries, GraphJson.Default.Int64Array), keep, ct);
        }
        return ReaderHidden.From(entries);
    }

    /// <summary>
    /// Whether <paramref name="author"/> blocks <paramref name="reader"/>: the reader's cached hidden set answers "no" for
    /// almost everyone without a query; only an account in it is looked up.
    /// </summary>
    public async Task<bool> BlockedByAsync(long reader, long author, CancellationToken ct)
    {
        if (!(await HiddenFromAsync(reader, ct)).Contains(author))
            return false;
        return await db.ReadAsync(c => c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM blocks WHERE account_id = @author AND target_account_id = @reader", new { author, reader }, cancellationToken: ct)), ct) is not null;
    }

    /// <summary>
    /// The accounts whose notifications <paramref name="reader"/> does not see: those muted with notifications (the
    /// mute's <c>notifications</c> option, true by default) and those blocked. One query.
    /// </summary>
    public async Task<IReadOnlySet<long>> NotificationsSilencedAsync(long reader, CancellationToken ct) =>
        (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition($"""
            SELECT target_account_id FROM mutes WHERE account_id = @reader AND notifications = 1 AND {MuteActive}
            UNION SELECT target_account_id FROM blocks WHERE account_id = @reader
            """, new { reader, now = Now }, cancellationToken: ct)), ct)).ToHashSet();

    /// <summary>
    /// Which of <paramref name="accounts"/> block <paramref name="author"/> or are blocked by them: whom a post of the author
    /// must not reach (a direct post's conversations and mentions). One query on the blocks' two indexes.
    /// </summary>
    public async Task<HashSet<long>> BlockedEitherWayAmongAsync(long author, IReadOnlyCollection<long> accounts, CancellationToken ct)
    {
        if (accounts.Count == 0)
            return [];
        return (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition($"""
            SELECT account_id FROM blocks WHERE target_account_id = @author AND account_id {Sql.In(db.Provider, "@accounts")}
            UNION SELECT target_account_id FROM blocks WHERE account_id = @author AND target_account_id {Sql.In(db.Provider, "@accounts")}
            """, new { author, accounts = Sql.List(db.Provider, accounts) }, cancellationToken: ct)), ct)).ToHashSet();
    }

    private async Task TargetAsync(long me, long targetId, CancellationToken ct)
    {
        if (await accounts.GetAsync(targetId, ct) is null)
            throw new ApiException(404, "Record not found");
        if (me == targetId)
            throw new ApiException(403, "This action is not allowed");
    }

    private void ChangedAfterCommit(DbWrite w, params long[] readers)
    {
        foreach (var reader in readers)
            HiddenChangedAfterCommit(cache, w, reader);
    }

    /// <summary>In a write that changes what <paramref name="reader"/>'s timelines hide: marks the cached sets changed after the commit.</summary>
    internal static void HiddenChangedAfterCommit(ICache cache, DbWrite w, long reader) =>
        w.AfterCommit(() => cache.SetAsync(HiddenKey(reader), Changed, ChangedFor).AsTask());
}

/// <summary>What a reader's home timeline leaves out (<see cref="BlocksAndMutes.HomeHiddenAsync"/>).</summary>
/// <param name="Accounts">accounts whose posts and boosts are left out everywhere</param>
/// <param name="Boosters">followed accounts whose boosts are left out of the home timeline</param>
public sealed record ReaderHidden(IReadOnlySet<long> Accounts, IReadOnlySet<long> Boosters)
{
    private static readonly ReaderHidden Nothing = new(new HashSet<long>(), new HashSet<long>());

    public bool IsEmpty => Accounts.Count == 0 && Boosters.Count == 0;

    /// <summary>Whether the home timeline leaves out a post of <paramref name="author"/>, or their boost of a post of <paramref name="originalAuthor"/>.</summary>
    public bool Hides(long author, bool boost, long? originalAuthor) => !IsEmpty
        && (Accounts.Contains(author)
            || (boost && Boosters.Contains(author))
            || (originalAuthor is { } original && Accounts.Contains(original)));

    /// <summary>From the cached entries: an account's id, or a booster's negated.</summary>
    public static ReaderHidden From(long[] entries)
    {
        if (entries.Length == 0)
            return Nothing;
        var accounts = new HashSet<long>();
        var boosters = new HashSet<long>();
        foreach (var e in entries)
        {
            if (e < 0)
                boosters.Add(-e);
            else
                accounts.Add(e);
        }
        return new ReaderHidden(accounts, boosters);
    }
}
