using Dapper;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Graph;

/// <summary>docs.joinmastodon.org/entities/Relationship.</summary>
public sealed record RelationshipEntity(
    string Id,
    bool Following,
    bool ShowingReblogs,
    bool Notifying,
    string[]? Languages,
    bool FollowedBy,
    bool Blocking,
    bool BlockedBy,
    bool Muting,
    bool MutingNotifications,
    string? MutingExpiresAt,
    bool Requested,
    bool RequestedBy,
    bool DomainBlocking,
    bool Endorsed,
    string Note);

/// <summary>One row of a paged account list: the join row's id (the cursor clients see in Link) and the account.</summary>
public readonly record struct GraphEdge(long Id, long AccountId);

/// <summary>
/// The User Graph service: who follows whom (<c>follows</c>), pending requests to locked accounts
/// (<c>follow_requests</c>). Every change is one transaction whose inserts and deletes decide whether the
/// denormalized counts move, so concurrent follow/unfollow of a pair can never leave counts and rows apart.
/// </summary>
public sealed class GraphService(IDatabase db, ICache cache, AccountService accounts, FollowingCache following, IdGenerator ids, TimeProvider time, IEnumerable<IFollowObserver> observers,
    IEnumerable<IFollowActivityObserver> activity) : IFollowRequestCount
{
    public sealed record FollowOptions(bool? Reblogs, bool? Notify, string[]? Languages);

    /// <summary>Follows (or requests to follow a locked account); repeating it updates the options. 404 unknown, 403 self.</summary>
    public async Task<RelationshipEntity> FollowAsync(long me, long targetId, FollowOptions options, CancellationToken ct)
    {
        if (me == targetId)
            throw new ApiException(403, "Following your own account is not allowed");
        var target = await accounts.GetAsync(targetId, ct) ?? throw new ApiException(404, "Record not found");
        var languages = options.Languages is { Length: > 0 } l ? string.Join(',', l) : null;
        await db.WriteAsync(async w =>
        {
            // Mastodon's FollowService: no follow either way between an account and one it blocks or is blocked by.
            if (await w.ExecuteScalarAsync<long>("""
                SELECT COUNT(*) FROM blocks WHERE (account_id = @me AND target_account_id = @targetId) OR (account_id = @targetId AND target_account_id = @me)
                """, new { me, targetId }) > 0)
                throw new ApiException(403, "This action is not allowed");
            var updated = await w.ExecuteAsync("""
                UPDATE follows SET show_reblogs = COALESCE(@reblogs, show_reblogs), notify = COALESCE(@notify, notify), languages = COALESCE(@languages, languages)
                WHERE account_id = @me AND target_account_id = @targetId
                """, new { me, targetId, reblogs = Flag(options.Reblogs), notify = Flag(options.Notify), languages });
            if (updated > 0)
            {
                if (options.Reblogs is not null)
                    BlocksAndMutes.HiddenChangedAfterCommit(cache, w, me);   // whose boosts the home timeline hides
                return;
            }
            var args = new { id = ids.Next(), me, targetId, reblogs = Flag(options.Reblogs) ?? 1, notify = Flag(options.Notify) ?? 0, languages, now = Now };
            if (target.Locked)
            {
                await w.ExecuteAsync("""
                    INSERT INTO follow_requests (id, account_id, target_account_id, show_reblogs, notify, languages, created_at)
                    VALUES (@id, @me, @targetId, @reblogs, @notify, @languages, @now)
                    ON CONFLICT (account_id, target_account_id) DO UPDATE SET show_reblogs = excluded.show_reblogs, notify = excluded.notify, languages = excluded.languages
                    """, args);
                foreach (var observer in activity)
                    await observer.RequestedAsync(w, me, targetId);
                return;
            }
            if (await InsertFollowAsync(w, args.id, me, targetId, args.reblogs, args.notify, languages, args.now))
            {
                foreach (var observer in activity)
                    await observer.FollowedAsync(w, me, targetId);
            }
        }, ct);
        return (await RelationshipsAsync(me, [targetId], ct))[0];
    }

    /// <summary>Stops following, and withdraws a pending request; idempotent. 404 for an unknown account.</summary>
    public async Task<RelationshipEntity> UnfollowAsync(long me, long targetId, CancellationToken ct)
    {
        if (await accounts.GetAsync(targetId, ct) is null)
            throw new ApiException(404, "Record not found");
        await db.WriteAsync(w => RemoveFollowAsync(w, me, targetId), ct);
        return (await RelationshipsAsync(me, [targetId], ct))[0];
    }

    /// <summary>Ends <paramref name="follower"/>'s follow of (or request to follow) <paramref name="target"/> in the caller's transaction, counts moved only for a row deleted.</summary>
    internal async Task RemoveFollowAsync(DbWrite w, long follower, long target)
    {
        var withdrawn = await w.ExecuteAsync("DELETE FROM follow_requests WHERE account_id = @follower AND target_account_id = @target", new { follower, target });
        var deleted = await w.QuerySingleOrDefaultAsync<int?>("DELETE FROM follows WHERE account_id = @follower AND target_account_id = @target RETURNING show_reblogs", new { follower, target });
        if (deleted == 0)
            BlocksAndMutes.HiddenChangedAfterCommit(cache, w, follower);   // a follow whose boosts the home timeline hid
        if (withdrawn > 0 || deleted is not null)
        {
            foreach (var observer in activity)
                await observer.EndedAsync(w, follower, target);
        }
        if (deleted is not null)
        {
            following.ChangedAfterCommit(w, follower);
            await accounts.Store.AdjustCountsAsync(w, follower, following: -1);
            await accounts.Store.AdjustCountsAsync(w, target, followers: -1);
            foreach (var observer in observers)
                await observer.UnfollowedAsync(w, follower, target);
        }
    }

    /// <summary>Accepts <paramref name="requesterId"/>'s pending request to follow <paramref name="me"/>; 404 when there is none.</summary>
    public async Task<RelationshipEntity> AuthorizeAsync(long me, long requesterId, CancellationToken ct)
    {
        var found = await db.WriteAsync(async w =>
        {
            var request = await w.QuerySingleOrDefaultAsync<RequestRow>("""
                DELETE FROM follow_requests WHERE account_id = @requesterId AND target_account_id = @me RETURNING show_reblogs, notify, languages
                """, new { requesterId, me });
            if (request is null)
                return false;
            foreach (var observer in activity)
                await observer.EndedAsync(w, requesterId, me);
            await InsertFollowAsync(w, ids.Next(), requesterId, me, request.ShowReblogs, request.Notify, request.Languages, Now);
            return true;
        }, ct);
        if (!found)
            throw new ApiException(404, "Record not found");
        return (await RelationshipsAsync(me, [requesterId], ct))[0];
    }

    public async Task<RelationshipEntity> RejectAsync(long me, long requesterId, CancellationToken ct)
    {
        var deleted = await db.WriteAsync(async w =>
        {
            var n = await w.ExecuteAsync("DELETE FROM follow_requests WHERE account_id = @requesterId AND target_account_id = @me", new { requesterId, me });
            if (n > 0)
            {
                foreach (var observer in activity)
                    await observer.EndedAsync(w, requesterId, me);
            }
            return n;
        }, ct);
        if (deleted == 0)
            throw new ApiException(404, "Record not found");
        return (await RelationshipsAsync(me, [requesterId], ct))[0];
    }

    /// <summary>The follow row, with the counts moved only when the row is new (a concurrent duplicate inserts nothing).</summary>
    private async Task<bool> InsertFollowAsync(DbWrite w, long id, long follower, long target, int reblogs, int notify, string? languages, long now)
    {
        var inserted = await w.QuerySingleOrDefaultAsync<long?>("""
            INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, languages, created_at)
            VALUES (@id, @follower, @target, @reblogs, @notify, @languages, @now)
            ON CONFLICT (account_id, target_account_id) DO NOTHING RETURNING id
            """, new { id, follower, target, reblogs, notify, languages, now });
        if (inserted is not null)
        {
            following.ChangedAfterCommit(w, follower);
            if (reblogs == 0)
                BlocksAndMutes.HiddenChangedAfterCommit(cache, w, follower);   // its boosts are hidden from the follower's home
            await accounts.Store.AdjustCountsAsync(w, follower, following: 1);
            await accounts.Store.AdjustCountsAsync(w, target, followers: 1);
            foreach (var observer in observers)
                await observer.FollowedAsync(w, follower, target);
        }
        return inserted is not null;
    }

    /// <summary>Relationships from <paramref name="me"/> to each of <paramref name="targets"/>, in order; seven indexed queries whatever the count.</summary>
    public Task<List<RelationshipEntity>> RelationshipsAsync(long me, IReadOnlyCollection<long> targets, CancellationToken ct) =>
        db.ReadAsync(async c =>
        {
            var ids = targets.Distinct().ToArray();
            var inList = Sql.In(db.Provider, "@list");
            var args = new { me, list = Sql.List(db.Provider, ids), now = Now };
            var following = (await c.QueryAsync<FollowRow>(new CommandDefinition(
                $"SELECT target_account_id AS account_id, show_reblogs, notify, languages FROM follows WHERE account_id = @me AND target_account_id {inList}", args, cancellationToken: ct)))
                .ToDictionary(r => r.AccountId);
            var followedBy = (await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT account_id FROM follows WHERE target_account_id = @me AND account_id {inList}", args, cancellationToken: ct))).ToHashSet();
            var requested = (await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT target_account_id FROM follow_requests WHERE account_id = @me AND target_account_id {inList}", args, cancellationToken: ct))).ToHashSet();
            var requestedBy = (await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT account_id FROM follow_requests WHERE target_account_id = @me AND account_id {inList}", args, cancellationToken: ct))).ToHashSet();
            var blocks = (await c.QueryAsync<(long AccountId, long TargetId)>(new CommandDefinition($"""
                SELECT account_id, target_account_id FROM blocks WHERE account_id = @me AND target_account_id {inList}
                UNION ALL SELECT account_id, target_account_id FROM blocks WHERE target_account_id = @me AND account_id {inList}
                """, args, cancellationToken: ct))).ToList();
            var notes = (await c.QueryAsync<(long TargetId, string Comment)>(new CommandDefinition(
                $"SELECT target_account_id, comment FROM account_notes WHERE account_id = @me AND target_account_id {inList}", args, cancellationToken: ct)))
                .ToDictionary(n => n.TargetId, n => n.Comment);
            var mutes = (await c.QueryAsync<(long TargetId, int Notifications, long? ExpiresAt)>(new CommandDefinition(
                $"SELECT target_account_id, notifications, expires_at FROM mutes WHERE account_id = @me AND target_account_id {inList} AND {BlocksAndMutes.MuteActive}",
                args, cancellationToken: ct))).ToDictionary(m => m.TargetId);
            return ids.Select(id =>
            {
                var f = following.GetValueOrDefault(id);
                (long TargetId, int Notifications, long? ExpiresAt)? mute = mutes.TryGetValue(id, out var m) ? m : null;
                return new RelationshipEntity(MastodonFormat.Id(id), f is not null, f?.ShowReblogs == 1, f?.Notify == 1, f?.Languages?.Split(','),
                    followedBy.Contains(id), blocks.Contains((me, id)), blocks.Contains((id, me)), mute is not null, mute?.Notifications == 1,
                    mute?.ExpiresAt is { } expires ? MastodonFormat.DateTime(expires) : null, requested.Contains(id) && f is null, requestedBy.Contains(id), false, false, notes.GetValueOrDefault(id, ""));
            }).ToList();
        }, ct);

    /// <summary>Mastodon's AccountNote limit on <c>comment</c>.</summary>
    public const int NoteMaxLength = 2000;

    /// <summary>
    /// Sets <paramref name="me"/>'s private note on <paramref name="targetId"/> (an empty comment removes it) and answers
    /// the relationship carrying it. 404 for an unknown account, 422 past <see cref="NoteMaxLength"/> characters.
    /// </summary>
    public async Task<RelationshipEntity> SetNoteAsync(long me, long targetId, string comment, CancellationToken ct)
    {
        if (await accounts.GetAsync(targetId, ct) is null)
            throw new ApiException(404, "Record not found");
        if (comment.Length > NoteMaxLength)
            throw new ApiException(422, $"Validation failed: Comment is too long (maximum is {NoteMaxLength} characters)");
        await db.WriteAsync(w => comment.Length == 0
            ? w.ExecuteAsync("DELETE FROM account_notes WHERE account_id = @me AND target_account_id = @targetId", new { me, targetId })
            : w.ExecuteAsync("""
                INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES (@me, @targetId, @comment, @now)
                ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at
                """, new { me, targetId, comment, now = Now }), ct);
        return (await RelationshipsAsync(me, [targetId], ct))[0];
    }

    /// <summary>Who follows <paramref name="accountId"/>, newest follow first, paged by the follow's id.</summary>
    public Task<List<GraphEdge>> FollowersAsync(long accountId, Page page, CancellationToken ct) =>
        PagedAsync("follows", "target_account_id", "account_id", accountId, page, ct);

    /// <summary>Whom <paramref name="accountId"/> follows, newest follow first.</summary>
    public Task<List<GraphEdge>> FollowingAsync(long accountId, Page page, CancellationToken ct) =>
        PagedAsync("follows", "account_id", "target_account_id", accountId, page, ct);

    /// <summary>Pending requests to follow <paramref name="accountId"/>, newest first.</summary>
    public Task<List<GraphEdge>> FollowRequestsAsync(long accountId, Page page, CancellationToken ct) =>
        PagedAsync("follow_requests", "target_account_id", "account_id", accountId, page, ct);

    public Task<long> FollowRequestCountAsync(long accountId, CancellationToken ct) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM follow_requests WHERE target_account_id = @accountId", new { accountId }, cancellationToken: ct)), ct);

    /// <summary>
    /// For fan-out: the next <paramref name="limit"/> followers of <paramref name="accountId"/> after the follow id
    /// <paramref name="after"/>, oldest first; an index range scan on (target_account_id, id), never a count or a scan.
    /// </summary>
    public Task<List<GraphEdge>> FollowersAfterAsync(long accountId, long after, int limit, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<GraphEdge>(new CommandDefinition(
            "SELECT id AS Id, account_id AS AccountId FROM follows WHERE target_account_id = @accountId AND id > @after ORDER BY id LIMIT @limit",
            new { accountId, after, limit }, cancellationToken: ct))).ToList(), ct);

    /// <summary>An account's follower count, kept on its row (no counting of follows).</summary>
    public async Task<long> FollowerCountAsync(long accountId, CancellationToken ct) =>
        (await accounts.GetAsync(accountId, ct))?.FollowersCount ?? 0;

    /// <summary>Everyone <paramref name="accountId"/> follows (for a feed rebuild), at most <paramref name="limit"/>.</summary>
    public Task<List<long>> FollowingIdsAsync(long accountId, int limit, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<long>(new CommandDefinition(
            "SELECT target_account_id FROM follows WHERE account_id = @accountId ORDER BY id DESC LIMIT @limit", new { accountId, limit }, cancellationToken: ct))).ToList(), ct);

    /// <summary>Which of <paramref name="targets"/> <paramref name="follower"/> follows (<see cref="FollowingCache"/>).</summary>
    public Task<HashSet<long>> FollowedAmongAsync(long follower, IReadOnlyCollection<long> targets, CancellationToken ct) =>
        following.FollowedAmongAsync(follower, targets, ct);

    /// <summary>Whether <paramref name="follower"/> follows <paramref name="target"/>, for reads (<see cref="FollowingCache"/>).</summary>
    public Task<bool> FollowsAsync(long follower, long target, CancellationToken ct) => following.IsFollowingAsync(follower, target, ct);

    /// <summary>Which of <paramref name="accounts"/> follow <paramref name="target"/> (one query per 1,000 of them).</summary>
    public async Task<HashSet<long>> FollowersAmongAsync(long target, IReadOnlyCollection<long> accounts, CancellationToken ct)
    {
        var found = new HashSet<long>();
        foreach (var chunk in accounts.Chunk(1_000))
        {
            found.UnionWith(await db.ReadAsync(async c => await c.QueryAsync<long>(new CommandDefinition(
                $"SELECT account_id FROM follows WHERE target_account_id = @target AND account_id {Sql.In(db.Provider, "@accounts")}",
                new { target, accounts = Sql.List(db.Provider, chunk) }, cancellationToken: ct)), ct));
        }
        return found;
    }

    /// <summary>
    /// The next <paramref name="limit"/> followers of <paramref name="accountId"/> who asked to be notified of their posts
    /// (<c>notify</c>), after the follow id <paramref name="after"/>, oldest first; a range scan of a partial index.
    /// </summary>
    public Task<List<GraphEdge>> NotifiedFollowersAfterAsync(long accountId, long after, int limit, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<GraphEdge>(new CommandDefinition(
            "SELECT id AS Id, account_id AS AccountId FROM follows WHERE target_account_id = @accountId AND notify = 1 AND id > @after ORDER BY id LIMIT @limit",
            new { accountId, after, limit }, cancellationToken: ct))).ToList(), ct);

    /// <summary>Inside another module's write: whether any follower of <paramref name="accountId"/> asked to be told of their posts.</summary>
    public static async Task<bool> HasNotifiedFollowersAsync(DbWrite w, long accountId) =>
        await w.ExecuteScalarAsync<long?>("SELECT id FROM follows WHERE target_account_id = @accountId AND notify = 1 LIMIT 1", new { accountId }) is not null;

    /// <summary>
    /// Inside another module's write: whether <paramref name="follower"/> follows <paramref name="target"/> (with
    /// <paramref name="notifying"/>, and asked to be notified), the row locked until that write ends on PostgreSQL, so an
    /// unfollow racing the write waits for it and then sees what it wrote. SQLite has one writer.
    /// </summary>
    public static async Task<bool> HoldsFollowAsync(DbWrite w, long follower, long target, bool notifying = false) =>
        await w.ExecuteScalarAsync<long?>(
            $"SELECT id FROM follows WHERE account_id = @follower AND target_account_id = @target{(notifying ? " AND notify = 1" : "")}{ForUpdate(w)}",
            new { follower, target }) is not null;

    /// <summary>As <see cref="HoldsFollowAsync"/>, for a pending follow request.</summary>
    public static async Task<bool> HoldsRequestAsync(DbWrite w, long requester, long target) =>
        await w.ExecuteScalarAsync<long?>($"SELECT id FROM follow_requests WHERE account_id = @requester AND target_account_id = @target{ForUpdate(w)}",
            new { requester, target }) is not null;

    private static string ForUpdate(DbWrite w) => w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "";

    /// <summary>Whether <paramref name="follower"/> follows <paramref name="target"/>, asked of the database (the feed's jobs, which may run before a follow's cache mark).</summary>
    public Task<bool> IsFollowingAsync(long follower, long target, CancellationToken ct) =>
        db.ReadAsync(async c => await c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM follows WHERE account_id = @follower AND target_account_id = @target", new { follower, target }, cancellationToken: ct)) > 0, ct);

    private async Task<List<GraphEdge>> PagedAsync(string table, string keyColumn, string valueColumn, long key, Page page, CancellationToken ct) =>
        (await CursorQuery.PageAsync(db, table, keyColumn, valueColumn, key, page, ct)).Select(r => new GraphEdge(r.Id, r.Value)).ToList();

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private static int? Flag(bool? b) => b is null ? null : b.Value ? 1 : 0;

    private sealed class RequestRow
    {
        public int ShowReblogs { get; init; }
        public int Notify { get; init; }
        public string? Languages { get; init; }
    }

    private sealed class FollowRow
    {
        public long AccountId { get; init; }
        public int ShowReblogs { get; init; }
        public int Notify { get; init; }
        public string? Languages { get; init; }
    }
}

/// <summary>
/// What the people concerned are told about (notifications), in the change's own transaction: a follow made at once (not
/// an accepted request: Mastodon tells nobody then), a request made, and the end of a follow or request (unfollowed,
/// withdrawn, rejected or authorized), which takes back what was told.
/// </summary>
public interface IFollowActivityObserver
{
    Task FollowedAsync(DbWrite write, long follower, long target);

    Task RequestedAsync(DbWrite write, long requester, long target);

    Task EndedAsync(DbWrite write, long follower, long target);
}

/// <summary>Modules that react to follows (the feed merges and removes posts) write their part in the follow's own transaction.</summary>
public interface IFollowObserver
{
    Task FollowedAsync(DbWrite write, long follower, long target);

    Task UnfollowedAsync(DbWrite write, long follower, long target);
}
