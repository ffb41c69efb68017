namespace Lenta.Server.Platform.Objects;

/// <summary>
/// The media type of an object from its key's extension: what <c>/system</c> answers with and what the S3 adapter stores as
/// the object's Content-Type, so a CDN in front of the bucket serves the same headers.
/// </summary>
public static class ObjectContentTypes
{
    /// <summary>The type of a servable variant, or null for a key that is not one (an original in the raw store has no extension).</summary>
    public static string? Of(string key) => Path.GetExtension(key).ToLowerInvariant() switch
    {
        ".jpg" or ".jpeg" => "image/jpeg",
        ".png" => "image/png",
        ".webp" => "image/webp",
        ".gif" => "image/gif",
        ".mp4" => "video/mp4",
        ".m3u8" => "application/vnd.apple.mpegurl",
        ".ts" => "video/mp2t",
        ".m4s" => "video/iso.segment",
        _ => null,
    };

    /// <summary>Processed keys are never rewritten (a rerun writes under a fresh random prefix): a year, immutable.</summary>
    public const string Immutable = "public, max-age=31536000, immutable";
}
