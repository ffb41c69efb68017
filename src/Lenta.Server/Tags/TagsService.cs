using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Tags;

/// <summary>A tag as <c>tags</c> holds it.</summary>
public sealed record TagRow(long Id, string Name);

/// <summary>A followed tag with the <c>tag_follows</c> row id (the cursor of the followed tags list).</summary>
public sealed record FollowedTag(long FollowId, string Name, long? TagId);

/// <summary>
/// Tags (<c>tags</c>: every tag used or followed, by folded name) and who follows them (<c>tag_follows</c>). Following a
/// tag puts its public posts into the follower's home timeline (the Feed module, told through <see cref="ITagFollowObserver"/>).
/// </summary>
public sealed class TagsService(IDatabase db, IdGenerator ids, TimeProvider time, IEnumerable<ITagFollowObserver> observers)
{
    /// <summary>Inside a post's write: the rows of tags not seen before.</summary>
    public async Task EnsureAsync(DbWrite w, IReadOnlyCollection<string> names)
    {
        foreach (var name in names)
        {
            await w.ExecuteAsync("INSERT INTO tags (id, name, created_at) VALUES (@id, @name, @now) ON CONFLICT (name) DO NOTHING",
                new { id = ids.Next(), name, now = time.GetUtcNow().ToUnixTimeMilliseconds() });
        }
    }

    public async Task<Dictionary<string, long>> IdsAsync(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        if (names.Count == 0)
            return [];
        var rows = await db.ReadAsync(c => c.QueryAsync<TagRow>(new CommandDefinition(
            $"SELECT id AS Id, name AS Name FROM tags WHERE name {Sql.In(db.Provider, "@names")}", new { names = Sql.List(db.Provider, names) }, cancellationToken: ct)), ct);
        return rows.ToDictionary(r => r.Name, r => r.Id);
    }

    /// <summary>Follows (or stops following) the tag; following twice keeps one row. The tag's row is made if it was never used.</summary>
    public Task SetFollowAsync(long account, string name, bool follow, CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            int changed;
            if (follow)
            {
                await EnsureAsync(w, [name]);
                changed = await w.ExecuteAsync("""
                    INSERT INTO tag_follows (id, account_id, tag, created_at) VALUES (@id, @account, @name, @now)
                    ON CONFLICT (account_id, tag) DO NOTHING
                    """, new { id = ids.Next(), account, name, now = time.GetUtcNow().ToUnixTimeMilliseconds() });
            }
            else
            {
                changed = await w.ExecuteAsync("DELETE FROM tag_follows WHERE account_id = @account AND tag = @name", new { account, name });
            }
            if (changed > 0)
            {
                foreach (var observer in observers)
                    await observer.TagFollowChangedAsync(w, account, name, follow);
            }
            return changed;
        }, ct);

    /// <summary>Which of <paramref name="names"/> <paramref name="account"/> follows.</summary>
    public async Task<HashSet<string>> FollowedAmongAsync(long account, IReadOnlyCollection<string> names, CancellationToken ct)
    {
        if (names.Count == 0)
            return [];
        return (await db.ReadAsync(c => c.QueryAsync<string>(new CommandDefinition(
            $"SELECT tag FROM tag_follows WHERE account_id = @account AND tag {Sql.In(db.Provider, "@names")}",
            new { account, names = Sql.List(db.Provider, names) }, cancellationToken: ct)), ct)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every tag <paramref name="account"/> follows (at most <paramref name="limit"/>, the latest followed), for a home timeline's rebuild.</summary>
    public async Task<List<string>> FollowedNamesAsync(long account, int limit, CancellationToken ct) =>
        (await db.ReadAsync(c => c.QueryAsync<string>(new CommandDefinition(
            "SELECT tag FROM tag_follows WHERE account_id = @account ORDER BY id DESC LIMIT @limit", new { account, limit }, cancellationToken: ct)), ct)).ToList();

    /// <summary>A page of the tags <paramref name="account"/> follows, by the follow's row id, newest first.</summary>
    public async Task<List<FollowedTag>> FollowedAsync(long account, Page page, CancellationToken ct)
    {
        var (lower, ascending) = page.LowerBound;
        var rows = (await db.ReadAsync(c => c.QueryAsync<FollowedTag>(new CommandDefinition($"""
            SELECT f.id AS FollowId, f.tag AS Name, t.id AS TagId FROM tag_follows f LEFT JOIN tags t ON t.name = f.tag
            WHERE f.account_id = @account {(page.MaxId is null ? "" : "AND f.id < @max")} {(lower is null ? "" : "AND f.id > @lower")}
            ORDER BY f.id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """, new { account, max = page.MaxId, lower, limit = page.Limit }, cancellationToken: ct)), ct)).ToList();
        if (ascending)
            rows.Reverse();
        return rows;
    }

    /// <summary>The next <paramref name="limit"/> follows of any of <paramref name="names"/> after the row <paramref name="after"/>, by row id (fan-out's paging, as the Graph module pages an author's followers).</summary>
    public async Task<List<GraphEdge>> FollowersAfterAsync(IReadOnlyCollection<string> names, long after, int limit, CancellationToken ct) =>
        (await db.ReadAsync(c => c.QueryAsync<GraphEdge>(new CommandDefinition(
            $"SELECT id AS Id, account_id AS AccountId FROM tag_follows WHERE tag {Sql.In(db.Provider, "@names")} AND id > @after ORDER BY id LIMIT @limit",
            new { names = Sql.List(db.Provider, names), after, limit }, cancellationToken: ct)), ct)).ToList();

    /// <summary>
    /// Tags whose name starts with <paramref name="prefix"/> (folded), shortest first, then by name (Mastodon's
    /// <c>Tag.search_for</c>). Names compare byte by byte, so the prefix is one index range.
    /// </summary>
    public async Task<List<TagRow>> SearchAsync(string prefix, int limit, int offset, CancellationToken ct) =>
        (await db.ReadAsync(c => c.QueryAsync<TagRow>(new CommandDefinition("""
            SELECT id AS Id, name AS Name FROM tags WHERE name >= @prefix AND name < @end
            ORDER BY length(name), name LIMIT @limit OFFSET @offset
            """, new { prefix, end = prefix + "\U0010FFFF", limit, offset }, cancellationToken: ct)), ct)).ToList();
}
