namespace Lenta.Server.Notifications;

/// <summary>
/// docs.joinmastodon.org/entities/Notification: the types Lenta writes (<c>reblog</c> is grouped like favourites); the
/// filters accept any type name, as Mastodon's do.
/// </summary>
public static class NotificationTypes
{
    public const string Mention = "mention";
    public const string Status = "status";
    public const string Reblog = "reblog";
    public const string Follow = "follow";
    public const string FollowRequest = "follow_request";
    public const string Favourite = "favourite";

    /// <summary>Types whose notifications share a group (Mastodon's <c>GROUPABLE_NOTIFICATION_TYPES</c>); the rest are <c>ungrouped-&lt;id&gt;</c>.</summary>
    public static readonly IReadOnlySet<string> Groupable = new HashSet<string>(StringComparer.Ordinal) { Favourite, Reblog, Follow };

    /// <summary>Types that carry a status.</summary>
    public static bool HasStatus(string type) => type is Mention or Status or Reblog or Favourite;

    /// <summary>Mastodon keeps a group open while its notifications come less than 12 hours after the group's first hour bucket.</summary>
    public const long MaximumGroupSpanHours = 12;

    public const string UngroupedPrefix = "ungrouped-";
}
