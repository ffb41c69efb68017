using Lenta.Server.Api;

namespace Lenta.Server.Notifications;

/// <summary>One notification group of a page: its key, and its notifications within the page, newest first.</summary>
public sealed record NotificationGroup(string Key, List<NotificationRow> Rows)
{
    public NotificationRow Latest => Rows[0];

    public bool IsUngrouped => Key.StartsWith(NotificationTypes.UngroupedPrefix, StringComparison.Ordinal);
}

/// <summary>
/// Groups rows into a page of groups the way Mastodon's grouped notifications do: notifications of a groupable type
/// (one of <c>grouped_types[]</c>) that share a group key are one group, every other one is <c>ungrouped-&lt;id&gt;</c>. The page is
/// the run of notifications, walked from the cursor, that holds the first <c>limit</c> groups: it stops at the first
/// notification of a group beyond them. So the page covers one unbroken id range, its Link cursors are that range's
/// ends, and no notification is skipped or shown twice; a group whose older notifications lie beyond the range shows
/// again on the next page with them (clients merge groups by key, as they do with Mastodon's).
/// </summary>
public static class NotificationGroups
{
    /// <summary>Notifications read at most per page: bounds a page's work when one group holds thousands (the page then ends inside it).</summary>
    public const int Window = 1000;

    public static string KeyOf(NotificationRow row, IReadOnlySet<string> groupedTypes) =>
        groupedTypes.Contains(row.Type) && !row.GroupKey.StartsWith(NotificationTypes.UngroupedPrefix, StringComparison.Ordinal)
            ? row.GroupKey
            : NotificationTypes.UngroupedPrefix + MastodonFormat.Id(row.Id);

    /// <summary>
    /// The groups of <paramref name="rows"/> (in the order they were read: newest first, or oldest first for <c>min_id</c>),
    /// at most <paramref name="limit"/>, newest group first, and the id range the page covers (null when empty).
    /// </summary>
    public static (List<NotificationGroup> Groups, long Low, long High)? Build(IReadOnlyList<NotificationRow> rows, int limit, IReadOnlySet<string> groupedTypes)
    {
        var groups = new Dictionary<string, NotificationGroup>(StringComparer.Ordinal);
        long low = long.MaxValue, high = long.MinValue;
        foreach (var row in rows)
        {
            var key = KeyOf(row, groupedTypes);
            if (!groups.TryGetValue(key, out var group))
            {
                if (groups.Count == limit)
                    break;
                groups[key] = group = new NotificationGroup(key, []);
            }
            group.Rows.Add(row);
            low = Math.Min(low, row.Id);
            high = Math.Max(high, row.Id);
        }
        if (groups.Count == 0)
            return null;
        var ordered = groups.Values.ToList();
        foreach (var g in ordered)
            g.Rows.Sort((a, b) => b.Id.CompareTo(a.Id));
        ordered.Sort((a, b) => b.Latest.Id.CompareTo(a.Latest.Id));
        return (ordered, low, high);
    }
}
