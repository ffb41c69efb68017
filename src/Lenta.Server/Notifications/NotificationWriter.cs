using System.Globalization;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Notifications;

/// <summary>Writes notification rows inside a handler's transaction: idempotent per cause, with Mastodon's group key.</summary>
public sealed class NotificationWriter(IdGenerator ids, IEnumerable<INotificationObserver> observers)
{
    /// <summary>Inserts the notification unless its cause already has one; true when it was new.</summary>
    /// <param name="groups">the group keys this transaction wrote, by recipient and prefix, so a batch of likes of one
    /// post looks its group up once</param>
    public async Task<bool> InsertAsync(DbWrite w, string type, long recipient, long from, long statusId, long at, Dictionary<(long, string), string>? groups = null)
    {
        if (recipient == from)
            return false;
        var id = ids.Next();
        var groupKey = await GroupKeyAsync(w, type, recipient, statusId, at, id, groups);
        var written = await w.ExecuteAsync("""
            INSERT INTO notifications (id, account_id, type, from_account_id, status_id, group_key, created_at)
            VALUES (@id, @recipient, @type, @from, @statusId, @groupKey, @at)
            ON CONFLICT (account_id, type, from_account_id, status_id) DO NOTHING
            """, new { id, recipient, type, from, statusId, groupKey, at }) > 0;
        if (written)
        {
            foreach (var observer in observers)
                observer.NotificationWritten(w, recipient, id);
        }
        return written;
    }

    /// <summary>
    /// Mastodon's NotifyService#set_group_key!: <c>&lt;type&gt;-&lt;status id or empty&gt;-&lt;hour bucket&gt;</c>, where the bucket is
    /// the hours since the epoch, or the bucket of the recipient's latest group of the same type and post while this one
    /// comes less than <see cref="NotificationTypes.MaximumGroupSpanHours"/> after it. Mastodon keeps that latest bucket
    /// in Redis; here it is the greatest such key in the table (buckets have the same number of digits for centuries, so
    /// text order is number order), one seek on (account_id, group_key).
    /// </summary>
    private static async Task<string> GroupKeyAsync(DbWrite w, string type, long recipient, long statusId, long at, long id, Dictionary<(long, string), string>? groups)
    {
        if (!NotificationTypes.Groupable.Contains(type))
            return NotificationTypes.UngroupedPrefix + id.ToString(CultureInfo.InvariantCulture);
        var prefix = type + "-" + (statusId == 0 ? "" : statusId.ToString(CultureInfo.InvariantCulture)) + "-";
        var bucket = at / 1000 / 3600;
        if (groups is null || !groups.TryGetValue((recipient, prefix), out var latest))
        {
            latest = await w.ExecuteScalarAsync<string?>(
                "SELECT MAX(group_key) FROM notifications WHERE account_id = @recipient AND group_key > @low AND group_key < @high",
                new { recipient, low = prefix, high = prefix[..^1] + "." });
        }
        if (latest is not null && long.TryParse(latest.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var previous)
            && bucket >= previous && bucket < previous + NotificationTypes.MaximumGroupSpanHours)
            bucket = previous;
        var key = prefix + bucket.ToString(CultureInfo.InvariantCulture);
        if (groups is not null && (latest is null || string.CompareOrdinal(key, latest) >= 0))
            groups[(recipient, prefix)] = key;
        return key;
    }
}
