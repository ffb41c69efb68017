using System.Globalization;
using Dapper;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Notifications;

/// <summary>A saved reading position (docs.joinmastodon.org/entities/Marker).</summary>
public sealed class MarkerRow
{
    public string Timeline { get; init; } = "";
    public string LastReadId { get; init; } = "";
    public long Version { get; init; }
    public long UpdatedAt { get; init; }
}

/// <summary>The <c>markers</c> table: one row per account and timeline (<c>home</c>, <c>notifications</c>).</summary>
public sealed class MarkerStore(IDatabase db, TimeProvider time)
{
    public static readonly string[] Timelines = ["home", "notifications"];

    public Task<List<MarkerRow>> GetAsync(long me, IReadOnlyCollection<string> timelines, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<MarkerRow>(new CommandDefinition($"""
            SELECT timeline AS Timeline, last_read_id AS LastReadId, version AS Version, updated_at AS UpdatedAt
            FROM markers WHERE account_id = @me AND timeline {Sql.In(db.Provider, "@timelines")}
            """, new { me, timelines = Sql.List(db.Provider, timelines) }, cancellationToken: ct))).ToList(), ct);

    /// <summary>
    /// Saves every given position in one transaction: a new marker starts at version 0 (Rails' lock_version), each
    /// later save adds one. Returns what was saved.
    /// </summary>
    public Task<List<MarkerRow>> SaveAsync(long me, IReadOnlyDictionary<string, string> lastReadIds, CancellationToken ct) =>
        db.WriteAsync(async w =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var saved = new List<MarkerRow>();
            foreach (var (timeline, lastReadId) in lastReadIds)
            {
                var version = await w.ExecuteScalarAsync<long>("""
                    INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES (@me, @timeline, @lastReadId, 0, @now)
                    ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, version = markers.version + 1, updated_at = excluded.updated_at
                    RETURNING version
                    """, new { me, timeline, lastReadId, now });
                saved.Add(new MarkerRow { Timeline = timeline, LastReadId = lastReadId, Version = version, UpdatedAt = now });
            }
            return saved;
        }, ct);

    /// <summary>The notifications marker's position as an id (0 when there is none, or it is not a number: everything is unread).</summary>
    public async Task<long> NotificationsReadUpToAsync(long me, CancellationToken ct)
    {
        var rows = await GetAsync(me, ["notifications"], ct);
        return rows.Count == 1 && long.TryParse(rows[0].LastReadId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0;
    }
}
