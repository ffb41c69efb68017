using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Posts;

/// <summary>What a hashtag timeline asks for (docs.joinmastodon.org/methods/timelines/#tag): the tag or any of <see cref="Any"/>, all of <see cref="All"/>, none of <see cref="None"/>.</summary>
public sealed record TagQuery(IReadOnlyList<string> Any, IReadOnlyList<string> All, IReadOnlyList<string> None, bool OnlyMedia);

/// <summary>One day of a tag's use (docs.joinmastodon.org/entities/Tag/#history): its UTC midnight, posts, distinct authors.</summary>
public sealed record TagDay(DateTimeOffset Day, int Uses, int Accounts);

/// <summary>
/// Posts by their tags (<c>status_tags</c>, written with the post, replaced by an edit, deleted with the post): the hashtag
/// timeline, the tagged posts a home timeline rebuild adds for followed tags, and a tag's daily use.
/// </summary>
public sealed class TaggedPosts(IDatabase db, PostCache posts, TimeProvider time)
{
    /// <summary>
    /// A page of public posts carrying any of the query's tags (and all of <see cref="TagQuery.All"/>, none of
    /// <see cref="TagQuery.None"/>), newest first. Unlisted and private posts never show here (Mastodon's tag timeline is
    /// public posts only). One query driven by the <c>(tag, status_id)</c> index.
    /// </summary>
    public async Task<List<PostCore>> PageAsync(TagQuery query, Page page, CancellationToken ct)
    {
        if (query.Any.Count == 0)
            return [];
        var (lower, ascending) = page.LowerBound;
        var all = query.All.Select((_, i) => $"AND t.status_id IN (SELECT status_id FROM status_tags WHERE tag = @all{i})");
        var sql = $"""
            SELECT DISTINCT t.status_id FROM status_tags t JOIN statuses s ON s.id = t.status_id
            WHERE t.tag {Sql.In(db.Provider, "@any")} AND s.visibility = 0
            {(page.MaxId is null ? "" : "AND t.status_id < @max")} {(lower is null ? "" : "AND t.status_id > @lower")}
            {(query.OnlyMedia ? "AND s.has_media = 1" : "")}
            {string.Join("\n", all)}
            {(query.None.Count == 0 ? "" : $"AND t.status_id NOT IN (SELECT status_id FROM status_tags WHERE tag {Sql.In(db.Provider, "@none")})")}
            ORDER BY t.status_id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """;
        var args = new DynamicParameters(new { any = Sql.List(db.Provider, query.Any), none = Sql.List(db.Provider, query.None), max = page.MaxId, lower, limit = page.Limit });
        for (var i = 0; i < query.All.Count; i++)
            args.Add($"all{i}", query.All[i]);
        var ids = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql, args, cancellationToken: ct)), ct)).ToList();
        if (ascending)
            ids.Reverse();
        return await posts.GetOrderedAsync(ids, ct);
    }

    /// <summary>
    /// Newest ids of public posts carrying any of <paramref name="tags"/>, strictly between the bounds: what a home timeline
    /// holds for the tags its reader follows, read when it is rebuilt.
    /// </summary>
    public async Task<List<long>> RecentPublicAsync(IReadOnlyCollection<string> tags, long? maxExclusive, long? minExclusive, int limit, bool ascending, CancellationToken ct)
    {
        if (tags.Count == 0 || limit <= 0)
            return [];
        var sql = $"""
            SELECT DISTINCT t.status_id FROM status_tags t JOIN statuses s ON s.id = t.status_id
            WHERE t.tag {Sql.In(db.Provider, "@tags")} AND s.visibility = 0
            {(maxExclusive is null ? "" : "AND t.status_id < @max")} {(minExclusive is null ? "" : "AND t.status_id > @min")}
            ORDER BY t.status_id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """;
        return (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql,
            new { tags = Sql.List(db.Provider, tags), max = maxExclusive, min = minExclusive, limit }, cancellationToken: ct)), ct)).ToList();
    }

    /// <summary>
    /// Each tag's use over the last <paramref name="days"/> UTC days, today first (Mastodon's tag history: posts that
    /// everyone may see — public and unlisted — and their distinct authors per day). One query over the tags' index ranges
    /// from the first day's smallest id on.
    /// </summary>
    public async Task<Dictionary<string, TagDay[]>> HistoryAsync(IReadOnlyCollection<string> tags, int days, CancellationToken ct)
    {
        var today = new DateTimeOffset(time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        var first = today.AddDays(-(days - 1));
        var result = tags.Distinct().ToDictionary(t => t, _ => Enumerable.Range(0, days).Select(i => new TagDay(today.AddDays(-i), 0, 0)).ToArray());
        if (result.Count == 0)
            return result;
        var rows = await db.ReadAsync(c => c.QueryAsync<(string Tag, long Id, long AccountId)>(new CommandDefinition($"""
            SELECT t.tag, t.status_id, s.account_id FROM status_tags t JOIN statuses s ON s.id = t.status_id
            WHERE t.tag {Sql.In(db.Provider, "@tags")} AND t.status_id >= @from AND s.visibility <= 1
            """, new { tags = Sql.List(db.Provider, result.Keys), from = IdGenerator.MinIdAt(first) }, cancellationToken: ct)), ct);
        foreach (var byTag in rows.GroupBy(r => r.Tag))
        {
            var history = result[byTag.Key];
            foreach (var byDay in byTag.GroupBy(r => (int)(today - new DateTimeOffset(IdGenerator.TimeOf(r.Id).UtcDateTime.Date, TimeSpan.Zero)).TotalDays))
            {
                if (byDay.Key is >= 0 and var i && i < days)
                    history[i] = history[i] with { Uses = byDay.Count(), Accounts = byDay.Select(r => r.AccountId).Distinct().Count() };
            }
        }
        return result;
    }
}
