using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Notifications;

/// <summary>One notification to write: who gets it, who caused it, about which post (0: none), when (Unix ms).</summary>
public readonly record struct Notice(long Recipient, long From, long StatusId, long At);

/// <summary>Writes notification rows inside a handler's transaction: idempotent per cause, with Mastodon's group key.</summary>
public sealed class NotificationWriter(IdGenerator ids, IEnumerable<INotificationObserver> observers)
{
    /// <summary>Inserts the notification unless its cause already has one; true when it was new.</summary>
    public async Task<bool> InsertAsync(DbWrite w, string type, long recipient, long from, long statusId, long at) =>
        await InsertManyAsync(w, type, [new Notice(recipient, from, statusId, at)]) > 0;

    /// <summary>The group key of a notification in hour <paramref name="bucket"/> after the recipient's <paramref name="latest"/> key of that prefix.</summary>
    private static string KeyAfter(string prefix, long bucket, string? latest)
    {
        if (latest is not null && long.TryParse(latest.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var previous)
            && bucket >= previous && bucket < previous + NotificationTypes.MaximumGroupSpanHours)
            bucket = previous;
        return prefix + bucket.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The group keys' prefix of a type and post: <c>favourite-&lt;post&gt;-</c> (the hour bucket follows).</summary>
    public static string PrefixOf(string type, long statusId) =>
        type + "-" + (statusId == 0 ? "" : statusId.ToString(CultureInfo.InvariantCulture)) + "-";

    /// <summary>
    /// Writes notifications of one type in two statements whatever their number (a batch of likes, a post's subscribers:
    /// hundreds), each unless its cause has one already. One query reads the latest group key of every recipient and
    /// prefix, the keys are worked out here in the notices' order (a batch's likes of one post share their group), and
    /// one INSERT writes the rows and returns those that were new. Returns how many.
    /// </summary>
    public async Task<int> InsertManyAsync(DbWrite w, string type, IReadOnlyList<Notice> notices)
    {
        var causes = new HashSet<(long, long, long)>();
        var todo = new List<Notice>(notices.Count);
        foreach (var n in notices)
        {
            if (n.Recipient != n.From && causes.Add((n.Recipient, n.From, n.StatusId)))
                todo.Add(n);
        }
        if (todo.Count == 0)
            return 0;

        var rows = new List<(long Id, Notice Notice, string GroupKey)>(todo.Count);
        if (NotificationTypes.Groupable.Contains(type))
        {
            var latest = await LatestKeysAsync(w, todo.Select(n => (n.Recipient, PrefixOf(type, n.StatusId))).Distinct().ToList());
            foreach (var n in todo)
            {
                var prefix = PrefixOf(type, n.StatusId);
                var before = latest.GetValueOrDefault((n.Recipient, prefix));
                var key = KeyAfter(prefix, n.At / 1000 / 3600, before);
                if (before is null || string.CompareOrdinal(key, before) >= 0)
                    latest[(n.Recipient, prefix)] = key;
                rows.Add((ids.Next(), n, key));
            }
        }
        else
        {
            foreach (var n in todo)
            {
                var id = ids.Next();
                rows.Add((id, n, NotificationTypes.UngroupedPrefix + id.ToString(CultureInfo.InvariantCulture)));
            }
        }

        // In the recipients' order: the three indexes keyed by recipient are then written page after page.
        rows.Sort((a, b) => a.Notice.Recipient != b.Notice.Recipient ? a.Notice.Recipient.CompareTo(b.Notice.Recipient) : a.Id.CompareTo(b.Id));
        const string Columns = "id, account_id, type, from_account_id, status_id, group_key, created_at";
        const string Tail = "ON CONFLICT (account_id, type, from_account_id, status_id) DO NOTHING RETURNING id, account_id";
        IEnumerable<(long Id, long Recipient)> written;
        if (w.Provider == DbProvider.Postgres)
        {
            written = await w.Connection.QueryAsync<(long, long)>($"""
                INSERT INTO notifications ({Columns})
                SELECT r.id, r.account_id, @type, r.from_account_id, r.status_id, r.group_key, r.created_at
                FROM unnest(@id, @recipient, @from, @status, @key, @at) AS r(id, account_id, from_account_id, status_id, group_key, created_at)
                {Tail}
                """, new
            {
                type,
                id = rows.Select(r => r.Id).ToArray(),
                recipient = rows.Select(r => r.Notice.Recipient).ToArray(),
                from = rows.Select(r => r.Notice.From).ToArray(),
                status = rows.Select(r => r.Notice.StatusId).ToArray(),
                key = rows.Select(r => r.GroupKey).ToArray(),
                at = rows.Select(r => r.Notice.At).ToArray(),
            }, w.Transaction);
        }
        else
        {
            // WHERE true: without it SQLite would read ON CONFLICT as part of the SELECT's join.
            written = await w.Connection.QueryAsync<(long, long)>($"""
                INSERT INTO notifications ({Columns})
                SELECT value ->> 0, value ->> 1, @type, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(@rows) WHERE true
                {Tail}
                """, new { type, rows = Json(rows.Select(r => new object[] { r.Id, r.Notice.Recipient, r.Notice.From, r.Notice.StatusId, r.GroupKey, r.Notice.At })) }, w.Transaction);
        }
        var count = 0;
        foreach (var (id, recipient) in written)
        {
            count++;
            foreach (var observer in observers)
                observer.NotificationWritten(w, recipient, id);
        }
        return count;
    }

    /// <summary>
    /// For Mastodon's NotifyService#set_group_key! (<c>&lt;type&gt;-&lt;status id or empty&gt;-&lt;hour bucket&gt;</c>, where the
    /// bucket is the hours since the epoch, or the bucket of the recipient's latest group of the same type and post while
    /// this one comes less than <see cref="NotificationTypes.MaximumGroupSpanHours"/> after it): the latest group key of
    /// each recipient and prefix (null: none), one query for all. Mastodon keeps that latest bucket in Redis; here it is
    /// the greatest such key in the table (buckets have the same number of digits for centuries, so text order is
    /// number order), one seek on (account_id, group_key) each.
    /// </summary>
    private static async Task<Dictionary<(long, string), string?>> LatestKeysAsync(DbWrite w, IReadOnlyList<(long Recipient, string Prefix)> pairs)
    {
        const string Latest = "(SELECT MAX(n.group_key) FROM notifications n WHERE n.account_id = p.r AND n.group_key > p.lo AND n.group_key < p.hi)";
        var found = w.Provider == DbProvider.Postgres
            ? await w.Connection.QueryAsync<(long, string, string?)>($"SELECT p.r, p.lo, {Latest} FROM unnest(@r, @lo, @hi) AS p(r, lo, hi)", new
            {
                r = pairs.Select(p => p.Recipient).ToArray(),
                lo = pairs.Select(p => p.Prefix).ToArray(),
                hi = pairs.Select(p => p.Prefix[..^1] + ".").ToArray(),
            }, w.Transaction)
            : await w.Connection.QueryAsync<(long, string, string?)>(
                $"SELECT p.r, p.lo, {Latest} FROM (SELECT value ->> 0 AS r, value ->> 1 AS lo, value ->> 2 AS hi FROM json_each(@pairs)) AS p",
                new { pairs = Json(pairs.Select(p => new object[] { p.Recipient, p.Prefix, p.Prefix[..^1] + "." })) }, w.Transaction);
        var latest = new Dictionary<(long, string), string?>(pairs.Count);
        foreach (var (recipient, prefix, key) in found)
            latest[(recipient, prefix)] = key;
        return latest;
    }

    /// <summary>Rows as a JSON array of arrays of numbers and strings, for SQLite's <c>json_each</c>.</summary>
    private static string Json(IEnumerable<object[]> rows)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartArray();
                foreach (var v in row)
                {
                    if (v is long l)
                        json.WriteNumberValue(l);
                    else
                        json.WriteStringValue((string)v);
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
