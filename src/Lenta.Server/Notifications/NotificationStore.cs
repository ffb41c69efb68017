using System.Globalization;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Notifications;

/// <summary>A notification as stored; <see cref="StatusId"/> is 0 for types without a status.</summary>
public sealed class NotificationRow
{
    public long Id { get; init; }
    public long AccountId { get; init; }
    public string Type { get; init; } = "";
    public long FromAccountId { get; init; }
    public long StatusId { get; init; }
    public string GroupKey { get; init; } = "";
    public long CreatedAt { get; init; }
}

/// <summary>The list filters of GET /api/v1 and /api/v2/notifications: <c>types[]</c>, <c>exclude_types[]</c>, <c>account_id</c>.</summary>
public sealed record NotificationFilter(IReadOnlyList<string> Types, IReadOnlyList<string> ExcludeTypes, long? FromAccountId)
{
    public static readonly NotificationFilter None = new([], [], null);
}

/// <summary>Reads and deletes of the <c>notifications</c> table for the API; rows are written by <see cref="NotificationWriter"/>.</summary>
public sealed class NotificationStore(IDatabase db)
{
    private const string Columns = "id AS Id, account_id AS AccountId, type AS Type, from_account_id AS FromAccountId, status_id AS StatusId, group_key AS GroupKey, created_at AS CreatedAt";

    /// <summary>One page of <paramref name="me"/>'s notifications, newest first, with Mastodon's cursors; a range scan of (account_id, id).</summary>
    public Task<List<NotificationRow>> PageAsync(long me, Page page, NotificationFilter filter, CancellationToken ct) =>
        db.ReadAsync(async c =>
        {
            var (lower, ascending) = page.LowerBound;
            var sql = $"""
                SELECT {Columns} FROM notifications WHERE account_id = @me {Conditions(filter)}
                {(page.MaxId is null ? "" : "AND id < @max")} {(lower is null ? "" : "AND id > @lower")}
                ORDER BY id {(ascending ? "ASC" : "DESC")} LIMIT @limit
                """;
            var rows = (await c.QueryAsync<NotificationRow>(new CommandDefinition(sql, Args(me, filter, new { max = page.MaxId, lower, limit = page.Limit }), cancellationToken: ct))).ToList();
            if (ascending)
                rows.Reverse();
            return rows;
        }, ct);

    /// <summary>How many of <paramref name="me"/>'s notifications are newer than <paramref name="above"/>, counted up to <paramref name="limit"/>.</summary>
    public Task<long> CountAboveAsync(long me, long above, int limit, NotificationFilter filter, CancellationToken ct) =>
        db.ReadAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition($"""
            SELECT COUNT(*) FROM (SELECT id FROM notifications WHERE account_id = @me AND id > @above {Conditions(filter)} ORDER BY id DESC LIMIT @limit) AS t
            """, Args(me, filter, new { above, limit }), cancellationToken: ct)), ct);

    /// <summary>The group keys of the unread notifications (newer than <paramref name="above"/>), newest first, at most <paramref name="limit"/> rows read.</summary>
    public Task<List<NotificationRow>> UnreadRowsAsync(long me, long above, int limit, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM notifications WHERE account_id = @me AND id > @above ORDER BY id DESC LIMIT @limit", new { me, above, limit }, cancellationToken: ct))).ToList(), ct);

    public Task<NotificationRow?> GetAsync(long me, long id, CancellationToken ct) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM notifications WHERE account_id = @me AND id = @id", new { me, id }, cancellationToken: ct)), ct);

    /// <summary>The notifications of one group up to <paramref name="upTo"/> (all when null), newest first, at most <paramref name="limit"/>.</summary>
    public Task<List<NotificationRow>> GroupAsync(long me, string groupKey, long? upTo, int limit, CancellationToken ct) =>
        db.ReadAsync(async c =>
        {
            if (UngroupedId(groupKey) is { } single)
            {
                var row = await c.QuerySingleOrDefaultAsync<NotificationRow>(new CommandDefinition(
                    $"SELECT {Columns} FROM notifications WHERE account_id = @me AND id = @single", new { me, single }, cancellationToken: ct));
                return row is null || (upTo is { } u && row.Id > u) ? [] : [row];
            }
            return (await c.QueryAsync<NotificationRow>(new CommandDefinition($"""
                SELECT {Columns} FROM notifications WHERE account_id = @me AND group_key = @groupKey {(upTo is null ? "" : "AND id <= @upTo")}
                ORDER BY id DESC LIMIT @limit
                """, new { me, groupKey, upTo, limit }, cancellationToken: ct))).ToList();
        }, ct);

    /// <summary>How many notifications each of <paramref name="groupKeys"/> holds up to <paramref name="upTo"/>; one query on (account_id, group_key, id).</summary>
    public Task<Dictionary<string, long>> GroupCountsAsync(long me, IReadOnlyCollection<string> groupKeys, long upTo, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<(string Key, long Count)>(new CommandDefinition($"""
            SELECT group_key, COUNT(*) FROM notifications WHERE account_id = @me AND group_key {Sql.In(db.Provider, "@keys")} AND id <= @upTo GROUP BY group_key
            """, new { me, keys = Sql.List(db.Provider, groupKeys), upTo }, cancellationToken: ct))).ToDictionary(r => r.Key, r => r.Count), ct);

    public Task<int> DismissAsync(long me, long id, CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("DELETE FROM notifications WHERE account_id = @me AND id = @id", new { me, id }), ct);

    public Task<int> DismissGroupAsync(long me, string groupKey, CancellationToken ct) =>
        UngroupedId(groupKey) is { } single
            ? DismissAsync(me, single, ct)
            : db.WriteAsync(w => w.ExecuteAsync("DELETE FROM notifications WHERE account_id = @me AND group_key = @groupKey", new { me, groupKey }), ct);

    public Task<int> ClearAsync(long me, CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("DELETE FROM notifications WHERE account_id = @me", new { me }), ct);

    /// <summary>The notification id of an <c>ungrouped-&lt;id&gt;</c> key (such a group is that one notification, whatever key its row holds).</summary>
    public static long? UngroupedId(string groupKey) =>
        groupKey.StartsWith(NotificationTypes.UngroupedPrefix, StringComparison.Ordinal)
        && long.TryParse(groupKey.AsSpan(NotificationTypes.UngroupedPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    private string Conditions(NotificationFilter filter) =>
        (filter.Types.Count > 0 ? $"AND type {Sql.In(db.Provider, "@types")} " : "")
        + (filter.ExcludeTypes.Count > 0 ? $"AND NOT (type {Sql.In(db.Provider, "@excludeTypes")}) " : "")
        + (filter.FromAccountId is null ? "" : "AND from_account_id = @from ");

    private DynamicParameters Args(long me, NotificationFilter filter, object more)
    {
        var args = new DynamicParameters(more);
        args.Add("me", me);
        if (filter.Types.Count > 0)
            args.Add("types", Sql.List(db.Provider, filter.Types));
        if (filter.ExcludeTypes.Count > 0)
            args.Add("excludeTypes", Sql.List(db.Provider, filter.ExcludeTypes));
        if (filter.FromAccountId is { } from)
            args.Add("from", from);
        return args;
    }
}
