using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>What a statuses search asks for (docs.joinmastodon.org/methods/search/#v2), already read from the request.</summary>
public sealed record PostSearchQuery(string Text, long Viewer, long? AccountId, bool Following, IReadOnlySet<long> Hidden, int Limit, int Offset);

/// <summary>
/// Full-text search of posts: SQLite's FTS5 index <c>statuses_fts</c> or PostgreSQL's <c>statuses.search</c> tsvector (GIN),
/// both kept by the database in the statement that writes, edits or deletes the post (PostsMigrations). Every word of the
/// query must occur (in the text or the content warning), newest first. Only posts the viewer may read are found: public
/// ones, their own, private ones of accounts they follow and posts that mention them — never someone else's unlisted post
/// (Mastodon's public index holds public posts only) and never a private post of someone they do not follow.
/// </summary>
public sealed partial class PostSearch(IDatabase db, PostService service, GraphService graph)
{
    private const int MaxWords = 16;
    private const int MaxFollowed = 10_000;

    public async Task<List<PostCore>> SearchAsync(PostSearchQuery q, CancellationToken ct)
    {
        var words = Words().Matches(q.Text).Select(m => m.Value).Distinct().Take(MaxWords).ToList();
        if (words.Count == 0 || q.Limit <= 0)
            return [];
        var followed = await graph.FollowingIdsAsync(q.Viewer, MaxFollowed, ct);
        var match = db.Provider == DbProvider.Postgres
            ? "s.search @@ plainto_tsquery('simple', @match)"
            : "s.id IN (SELECT rowid FROM statuses_fts WHERE statuses_fts MATCH @match)";
        var sql = $"""
            SELECT s.id FROM statuses s
            WHERE {match}
            AND (s.visibility = 0 OR s.account_id = @viewer
                 OR (s.visibility = 2 AND s.account_id {Sql.In(db.Provider, "@followed")})
                 OR (s.visibility >= 2 AND s.id IN (SELECT status_id FROM status_mentions WHERE account_id = @viewer)))
            {(q.AccountId is null ? "" : "AND s.account_id = @author")}
            {(q.Following ? $"AND s.account_id {Sql.In(db.Provider, "@followed")}" : "")}
            {(q.Hidden.Count == 0 ? "" : $"AND NOT (s.account_id {Sql.In(db.Provider, "@hidden")})")}
            ORDER BY s.id DESC LIMIT @limit OFFSET @offset
            """;
        var ids = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql, new
        {
            match = db.Provider == DbProvider.Postgres ? string.Join(' ', words) : MatchExpression(words),
            viewer = q.Viewer, followed = Sql.List(db.Provider, followed), author = q.AccountId, hidden = Sql.List(db.Provider, q.Hidden),
            limit = q.Limit, offset = q.Offset,
        }, cancellationToken: ct)), ct)).ToList();
        // The query applied visibility already; the check here is the one every read path makes on the posts it shows.
        return await service.FilterVisibleAsync(await service.Cache.GetOrderedAsync(ids, ct), q.Viewer, ct);
    }

    /// <summary>FTS5's query syntax with each word a quoted string, so nothing typed is read as an operator.</summary>
    private static string MatchExpression(List<string> words)
    {
        var s = new StringBuilder();
        foreach (var w in words)
            s.Append(s.Length > 0 ? " " : "").Append('"').Append(w.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        return s.ToString();
    }

    /// <summary>The words both indexes make of text: runs of letters, marks and digits.</summary>
    [GeneratedRegex(@"[\p{L}\p{M}\p{N}]+")]
    private static partial Regex Words();
}
