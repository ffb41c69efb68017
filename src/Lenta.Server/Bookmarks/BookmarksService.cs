using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Posts;

namespace Lenta.Server.Bookmarks;

/// <summary>
/// Bookmarks (docs.joinmastodon.org/methods/bookmarks): one row per account and post, unique per pair, so bookmarking
/// twice keeps one. The database is the only truth; the cache holds one mark per viewer, <c>bmn:{viewer}</c> = "has no
/// bookmarks", so the pages of the many who never bookmark cost one cache read and no query. Any change writes the
/// mark as changed (<c>~</c>) after its commit, and a reader only adds a "none" it read when no mark is there: one that
/// read before a bookmark committed finds the change mark (or has its "none" overwritten by it) and never hides that
/// bookmark. A post's bookmarks go with it, in its delete transaction.
/// </summary>
public sealed class BookmarksService(IDatabase db, ICache cache, IdGenerator ids, TimeProvider time, PostService posts) : IStatusBookmarks
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] None = "0"u8.ToArray();
    private static readonly byte[] Changed = "~"u8.ToArray();

    private static string NoneKey(long viewer) => "bmn:" + viewer;

    /// <summary>
    /// Bookmarks (or, with <paramref name="bookmark"/> false, removes the bookmark of) a post the caller can see;
    /// idempotent; 404 when invisible. A boost's id bookmarks the post it shares, as Mastodon's <c>Bookmark</c> does; the
    /// answer is then the boost.
    /// </summary>
    public async Task<PostCore> SetAsync(long me, long statusId, bool bookmark, CancellationToken ct)
    {
        var (asked, post) = await posts.GetActionTargetAsync(statusId, me, ct) ?? throw new ApiException(404, "Record not found");
        statusId = post.Id;
        await db.WriteAsync(async w =>
        {
            var changed = bookmark
                ? await w.ExecuteAsync("""
                    INSERT INTO bookmarks (id, account_id, status_id, created_at) VALUES (@id, @me, @statusId, @now)
                    ON CONFLICT (account_id, status_id) DO NOTHING
                    """, new { id = ids.Next(), me, statusId, now = time.GetUtcNow().ToUnixTimeMilliseconds() })
                : await w.ExecuteAsync("DELETE FROM bookmarks WHERE account_id = @me AND status_id = @statusId", new { me, statusId });
            if (changed > 0)
                w.AfterCommit(() => cache.SetAsync(NoneKey(me), Changed, ChangedFor).AsTask());
            return changed;
        }, ct);
        return asked;
    }

    public async Task<IReadOnlySet<long>> BookmarkedAsync(IReadOnlyList<long> statusIds, long viewer, CancellationToken ct)
    {
        if (statusIds.Count == 0)
            return NoIds;
        var mark = (await cache.GetManyAsync([NoneKey(viewer)], ct))[0];
        if (mark is not null && mark.AsSpan().SequenceEqual(None))
            return NoIds;
        // The page's bookmarked posts, and -1 when the viewer has none at all (post ids are positive): one query.
        var rows = await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition($"""
            SELECT status_id FROM bookmarks WHERE account_id = @viewer AND status_id {Sql.In(db.Provider, "@statusIds")}
            UNION ALL SELECT -1 WHERE NOT EXISTS (SELECT 1 FROM bookmarks WHERE account_id = @viewer)
            """, new { viewer, statusIds = Sql.List(db.Provider, statusIds) }, cancellationToken: ct)), ct);
        var result = rows.ToHashSet();
        if (result.Remove(-1))
        {
            if (mark is null)
                await cache.AddAsync(NoneKey(viewer), None, Keep, ct);
            return NoIds;
        }
        return result;
    }

    /// <summary>The caller's bookmarks, most recently bookmarked first, paged by the bookmark's id (Value = the post).</summary>
    public Task<List<CursorRow>> PageAsync(long accountId, Page page, CancellationToken ct) =>
        CursorQuery.PageAsync(db, "bookmarks", "account_id", "status_id", accountId, page, ct);

    private static readonly IReadOnlySet<long> NoIds = new HashSet<long>();
}

/// <summary>
/// A deleted post's bookmarks go in its delete transaction (their owners' "none" marks stay right: they had one). A
/// class of its own: the post service, which the bookmarks service uses, takes its observers at construction.
/// </summary>
public sealed class BookmarksPostObserver : IPostObserver
{
    public Task PostCreatedAsync(DbWrite write, PostCore post) => Task.CompletedTask;

    public Task PostDeletedAsync(DbWrite write, PostCore post) =>
        write.ExecuteAsync("DELETE FROM bookmarks WHERE status_id = @id", new { id = post.Id });
}
