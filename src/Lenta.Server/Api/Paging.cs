using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;

namespace Lenta.Server.Api;

/// <summary>
/// Mastodon's cursor paging (docs.joinmastodon.org/api/guidelines/#pagination): <c>max_id</c> strictly below,
/// <c>since_id</c> strictly above (newest first), <c>min_id</c> strictly above and immediately after (beats
/// <c>since_id</c>); results are always newest first; <c>limit</c> is clamped to twice the default.
/// </summary>
public sealed record Page(long? MaxId, long? SinceId, long? MinId, int Limit)
{
    public static Page Parse(HttpRequest request, int defaultLimit)
    {
        var limit = defaultLimit;
        var text = request.Query["limit"].ToString();
        if (text.Length > 0)
        {
            // Mastodon takes the absolute value and clamps it (limit_param: [limit.to_i.abs, default * 2].min), whatever its size.
            var digits = text.AsSpan().TrimStart("+-");
            if (digits.Length == 0 || digits.Length < text.Length - 1 || digits.ContainsAnyExceptInRange('0', '9'))
                throw new ApiException(400, "Parameter limit must be an integer");
            limit = long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? (int)Math.Min(n, 2L * defaultLimit) : 2 * defaultLimit;
            if (limit == 0)
                limit = defaultLimit;
        }
        return new Page(Cursor(request, "max_id"), Cursor(request, "since_id"), Cursor(request, "min_id"), limit);
    }

    /// <summary>The lower exclusive bound to use and whether rows are read upward from it (min_id) rather than down from the top.</summary>
    public (long? Lower, bool Ascending) LowerBound => MinId is { } min ? (min, true) : (SinceId, false);

    private static long? Cursor(HttpRequest request, string name)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
            return null;
        // Clients send ids as strings; anything that is not a number cannot match a row, so it is "no cursor" in Mastodon too.
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }
}

/// <summary>A join row of a paged list: its id (the cursor clients see in Link) and the id it points at.</summary>
public readonly record struct CursorRow(long Id, long Value);

public static class CursorQuery
{
    /// <summary>
    /// One page of <c>{valueColumn}</c> from <c>{table}</c> where <c>{keyColumn} = key</c>, by the row id, newest first,
    /// with Mastodon's cursors; one index range scan on <c>({keyColumn}, id)</c>.
    /// </summary>
    public static Task<List<CursorRow>> PageAsync(Platform.Database.IDatabase db, string table, string keyColumn, string valueColumn, long key, Page page, CancellationToken ct) =>
        PageAsync(db, [new CursorSource(table)], keyColumn, valueColumn, key, page, ct);

    /// <summary>
    /// The same page over rows kept in several tables (each row in exactly one, read in one statement, so one
    /// snapshot): each is read as one page on its own index range, and the pages merged.
    /// </summary>
    public static Task<List<CursorRow>> PageAsync(Platform.Database.IDatabase db, IReadOnlyList<CursorSource> sources, string keyColumn, string valueColumn, long key, Page page, CancellationToken ct) =>
        db.ReadAsync(async c =>
        {
            var (lower, ascending) = page.LowerBound;
            var order = ascending ? "ASC" : "DESC";
            var members = sources.Select(s => $"""
                SELECT id AS Id, {valueColumn} AS Value FROM {s.Table} WHERE {s.Condition}{keyColumn} = @key
                {(page.MaxId is null ? "" : "AND id < @max")} {(lower is null ? "" : "AND id > @lower")}
                ORDER BY id {order} LIMIT @limit
                """).ToList();
            var sql = members.Count == 1
                ? members[0]
                : $"SELECT Id, Value FROM ({string.Join(" UNION ALL ", members.Select((m, i) => $"SELECT * FROM ({m}) AS p{i}"))}) AS u ORDER BY Id {order} LIMIT @limit";
            var rows = (await Dapper.SqlMapper.QueryAsync<CursorRow>(c, new Dapper.CommandDefinition(sql, new { key, max = page.MaxId, lower, limit = page.Limit }, cancellationToken: ct))).ToList();
            if (ascending)
                rows.Reverse();
            return rows;
        }, ct);
}

/// <summary>A table <see cref="CursorQuery"/> pages, and a condition its rows must meet (SQL ending in <c>AND </c>).</summary>
public sealed record CursorSource(string Table, string Condition = "");

/// <summary>Query-string flags the Mastodon way: absent or empty is false, <c>false 0 f off</c> are false, anything else true.</summary>
public static class QueryFlag
{
    public static bool IsTrue(Microsoft.Extensions.Primitives.StringValues v) =>
        v.Count > 0 && v.ToString() is { Length: > 0 } s && s.ToLowerInvariant() is not ("false" or "0" or "f" or "off");
}

/// <summary>Builds Mastodon's <c>Link</c> header: the original query with the cursor swapped, absolute URLs, quoted rels.</summary>
public static class LinkHeader
{
    /// <param name="next">the oldest cursor on the page (becomes <c>max_id</c>), or null for no next link</param>
    /// <param name="prev">the newest cursor on the page, or null for no prev link</param>
    /// <param name="prevParam"><c>min_id</c> for timelines, <c>since_id</c> for account lists</param>
    public static void Set(HttpContext context, PublicUrls urls, long? next, long? prev, string prevParam = "min_id")
    {
        if (next is null && prev is null)
            return;
        // The page's URL with its other parameters, once for both links; each link then adds its cursor last.
        var request = context.Request;
        var page = urls.Base(context) + request.PathBase + request.Path;
        if (request.QueryString.HasValue)
        {
            page = QueryHelpers.AddQueryString(page, request.Query
                .Where(q => q.Key is not ("max_id" or "min_id" or "since_id"))
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v))));
        }
        var separator = page.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        context.Response.Headers.Link = (next, prev) switch
        {
            ({ } n, { } p) => string.Create(CultureInfo.InvariantCulture, $"<{page}{separator}max_id={n}>; rel=\"next\", <{page}{separator}{prevParam}={p}>; rel=\"prev\""),
            ({ } n, null) => string.Create(CultureInfo.InvariantCulture, $"<{page}{separator}max_id={n}>; rel=\"next\""),
            (null, { } p) => string.Create(CultureInfo.InvariantCulture, $"<{page}{separator}{prevParam}={p}>; rel=\"prev\""),
            _ => throw new UnreachableException(),
        };
    }
}
