using Dapper;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Posts;

/// <summary>
/// Boosts (docs.joinmastodon.org/methods/statuses/#boost, #unreblog, #reblogged_by): a boost is a status of the booster
/// with empty text whose <c>reblog_of_id</c> names the post it shares, so it travels every path a post does (fan-out,
/// profile pages, streaming, deletes). One boost per account and post (a unique partial index): boosting again returns
/// the boost there is. The original's <c>reblogs_count</c> moves in the boost's own transaction, only when a row was
/// really inserted or deleted, so counts and rows never disagree under any concurrency; the count is served with the
/// post from the post cache, which each commit refreshes with the row's new version (as a reply count does). The viewer's
/// <c>reblogged</c> flag is cached per viewer and post (<see cref="BoostFlags"/>), and looked at only for posts somebody boosted.
/// </summary>
public sealed class PostBoosts(IDatabase db, PostService service, PostCache posts, BoostFlags flags, ProfileCache profiles, AccountService accounts, IdGenerator ids, TimeProvider time,
    IEnumerable<IPostObserver> observers)
{
    /// <summary>
    /// Boosts <paramref name="statusId"/> (a boost's original when given a boost) for <paramref name="me"/> and returns the
    /// boost. 404 when the caller cannot see the post; 403 for someone else's private post and for a direct one (Mastodon's
    /// StatusPolicy#reblog?); 422 for a visibility other than public, unlisted or private. The author's own private post is
    /// boosted privately, whatever was asked.
    /// </summary>
    public async Task<PostCore> ReblogAsync(long me, long statusId, string? visibilityName, CancellationToken ct)
    {
        var original = await service.GetVisibleAsync(statusId, me, ct) ?? throw new ApiException(404, "Record not found");
        if (original.ReblogOfId is { } shared)
            original = await service.GetVisibleAsync(shared, me, ct) ?? throw new ApiException(404, "Record not found");
        if (original.Visibility == Visibility.Direct || (original.Visibility == Visibility.Private && original.AccountId != me))
            throw new ApiException(403, "This action is not allowed");
        int visibility;
        if (original.Visibility == Visibility.Private)
            visibility = Visibility.Private;
        else if (visibilityName is null)
            visibility = Visibility.Parse((await accounts.GetAsync(me, ct))?.DefaultPrivacy) is { } d and <= Visibility.Private ? d : Visibility.Public;
        else
            visibility = Visibility.Parse(visibilityName) is { } v and <= Visibility.Private ? v : throw new ApiException(422, "Validation failed: Visibility is not included in the list");

        // A boost that conflicted with one committed meanwhile answers that one; if an unreblog took it away before it
        // could be read, boosting starts over (a few times at most: only a caller racing themselves gets there).
        for (var attempt = 0; ; attempt++)
        {
            if (await ExistingAsync(me, original.Id, ct) is { } existing)
                return existing;
            if (await InsertAsync(me, original, visibility, ct) is { } boost)
                return boost;
            if (attempt == 3)
                throw new ApiException(409, "The boost changed concurrently, please try again");
        }
    }

    /// <summary>Writes a new boost and returns it; null when the caller has one already; 404 when the original is gone.</summary>
    private async Task<PostCore?> InsertAsync(long me, PostCore original, int visibility, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var boost = new PostCore
        {
            Id = ids.Next(), AccountId = me, Content = "", Visibility = visibility, CreatedAt = now, ReblogOfId = original.Id, ReblogOfAccountId = original.AccountId,
        };
        var inserted = await db.WriteAsync(async w =>
        {
            // The original's row is held (PostgreSQL) so its delete, which takes its boosts along, waits for this and sees it.
            if (!await PostService.HoldsPostAsync(w, original.Id))
                return (bool?)null;
            var id = await w.QuerySingleOrDefaultAsync<long?>("""
                INSERT INTO statuses (id, account_id, text, content, visibility, created_at, reblog_of_id, reblog_of_account_id)
                VALUES (@Id, @AccountId, '', '', @Visibility, @CreatedAt, @ReblogOfId, @ReblogOfAccountId)
                ON CONFLICT (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL DO NOTHING RETURNING id
                """, new { boost.Id, boost.AccountId, boost.Visibility, boost.CreatedAt, boost.ReblogOfId, boost.ReblogOfAccountId });
            if (id is null)
                return false;
            await w.ExecuteAsync("UPDATE statuses SET reblogs_count = reblogs_count + 1, version = version + 1 WHERE id = @id", new { id = original.Id });
            await posts.ChangedAsync(w, original.Id);
            flags.ChangedAfterCommit(w, me, original.Id);
            await accounts.Store.AdjustCountsAsync(w, me, statuses: 1, lastStatusAt: now);
            w.AfterCommit(() => posts.PrimeAsync(boost));
            profiles.AddAfterCommit(w, boost);
            foreach (var observer in observers)
                await observer.PostCreatedAsync(w, boost);
            return true;
        }, ct);
        return inserted switch
        {
            null => throw new ApiException(404, "Record not found"),
            true => boost,
            false => null,
        };
    }

    /// <summary>
    /// Takes back <paramref name="me"/>'s boost of <paramref name="statusId"/> (if any) and returns the original, fresh from
    /// the database (its count moved). A boost is taken back even when its author has blocked the booster since, as
    /// Mastodon does; otherwise a post the caller cannot see is a 404.
    /// </summary>
    public async Task<PostCore> UnreblogAsync(long me, long statusId, CancellationToken ct)
    {
        var original = await posts.GetAsync(statusId, ct) ?? throw new ApiException(404, "Record not found");
        var removed = await db.WriteAsync(async w =>
        {
            // The original's row first, as a boost and a delete take it (PostgreSQL): a boost and an unboost of one pair
            // then wait for each other instead of deadlocking on the boost's unique key and the original's count.
            await PostService.HoldsPostAsync(w, statusId);
            var row = await w.QuerySingleOrDefaultAsync<(long Id, long Visibility, long CreatedAt)>(
                "DELETE FROM statuses WHERE account_id = @me AND reblog_of_id = @statusId RETURNING id, visibility, created_at", new { me, statusId });
            if (row.Id == 0)
                return false;
            await w.ExecuteAsync("UPDATE statuses SET reblogs_count = reblogs_count - 1, version = version + 1 WHERE id = @statusId AND reblogs_count > 0", new { statusId });
            await posts.ChangedAsync(w, statusId);
            var boost = new PostCore
            {
                Id = row.Id, AccountId = me, Content = "", Visibility = (int)row.Visibility, CreatedAt = row.CreatedAt, ReblogOfId = statusId, ReblogOfAccountId = original.AccountId,
            };
            await service.BoostRemovedAsync(w, boost);
            return true;
        }, ct);
        if (!removed && await service.GetVisibleAsync(statusId, me, ct) is null)
            throw new ApiException(404, "Record not found");
        return await posts.GetAsync(statusId, ct) ?? throw new ApiException(404, "Record not found");
    }

    private async Task<PostCore?> ExistingAsync(long me, long originalId, CancellationToken ct)
    {
        var id = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM statuses WHERE account_id = @me AND reblog_of_id = @originalId", new { me, originalId }, cancellationToken: ct)), ct);
        return id is { } found ? await posts.GetAsync(found, ct) : null;
    }

    /// <summary>Which of <paramref name="originals"/> <paramref name="viewer"/> boosted (<see cref="BoostFlags"/>).</summary>
    public Task<IReadOnlySet<long>> RebloggedAsync(long viewer, IReadOnlyList<long> originals, CancellationToken ct) => flags.RebloggedAsync(viewer, originals, ct);

    /// <summary>Who boosted a post publicly (public and unlisted boosts, as Mastodon lists them), newest boost first, paged by the boost's id.</summary>
    public Task<List<CursorRow>> RebloggersAsync(long statusId, Page page, CancellationToken ct) =>
        CursorQuery.PageAsync(db, [new CursorSource("statuses", "visibility <= 1 AND ")], "reblog_of_id", "account_id", statusId, page, ct);

    /// <summary>
    /// Inside another module's write: whether <paramref name="booster"/> still boosts <paramref name="statusId"/>, the
    /// boost's row locked until that write ends on PostgreSQL (an unreblog racing it waits, then sees what it wrote).
    /// </summary>
    public static async Task<bool> HoldsBoostAsync(DbWrite w, long booster, long statusId) =>
        await w.ExecuteScalarAsync<long?>(
            $"SELECT id FROM statuses WHERE account_id = @booster AND reblog_of_id = @statusId{(w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "")}",
            new { booster, statusId }) is not null;

    /// <summary>
    /// For home timelines (one entry per original): the boosts of <paramref name="originals"/> older than
    /// <paramref name="belowId"/> as (original, booster, boost id), oldest first; one query on (reblog_of_id, id), capped
    /// at 2,000 rows (a post boosted more often than that may show twice in a home far enough down).
    /// </summary>
    public async Task<List<(long Original, long Booster, long Id)>> EarlierBoostsAsync(IReadOnlyCollection<long> originals, long belowId, CancellationToken ct)
    {
        if (originals.Count == 0)
            return [];
        return (await db.ReadAsync(c => c.QueryAsync<(long, long, long)>(new CommandDefinition(
            $"SELECT reblog_of_id, account_id, id FROM statuses WHERE reblog_of_id {Sql.In(db.Provider, "@originals")} AND id < @belowId ORDER BY id LIMIT 2000",
            new { originals = Sql.List(db.Provider, originals), belowId }, cancellationToken: ct)), ct)).ToList();
    }
}
