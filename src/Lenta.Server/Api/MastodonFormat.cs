using System.Globalization;

namespace Lenta.Server.Api;

/// <summary>Mastodon's wire formats for dates and ids.</summary>
public static class MastodonFormat
{
    /// <summary>RFC 3339 UTC with milliseconds: <c>2025-03-01T10:15:30.123Z</c>.</summary>
    public static string DateTime(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Account.created_at is truncated to midnight.</summary>
    public static string Midnight(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.Date.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Account.last_status_at is a date: <c>YYYY-MM-DD</c>.</summary>
    public static string? Date(long? unixMs) =>
        unixMs is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null;

    public static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses an id from a path or parameter; null when it is not a positive 64-bit integer.</summary>
    public static long? ParseId(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0 ? id : null;
}
