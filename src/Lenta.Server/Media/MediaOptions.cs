namespace Lenta.Server.Media;

/// <summary><c>Lenta__Media__*</c>.</summary>
public sealed class MediaOptions
{
    public const string Section = "Lenta:Media";

    /// <summary>Largest photo upload in bytes (larger → 413).</summary>
    public long ImageSizeLimit { get; set; } = 16L * 1024 * 1024;

    /// <summary>Largest video upload in bytes (larger → 413).</summary>
    public long VideoSizeLimit { get; set; } = 99L * 1024 * 1024;

    /// <summary>Longest video accepted, in seconds.</summary>
    public double VideoMaxDurationSeconds { get; set; } = 600;

    /// <summary>How long one video's processing may take before it fails cleanly (its ffmpeg killed).</summary>
    public int VideoTimeoutSeconds { get; set; } = 600;

    /// <summary>Largest avatar or header upload in bytes (larger → 422), Mastodon's 8 MB.</summary>
    public long ProfileImageSizeLimit { get; set; } = 8L * 1024 * 1024;

    /// <summary>Photos with more pixels than this are refused before decoding.</summary>
    public long MaxPixels { get; set; } = 33_177_600;

    /// <summary>Base URL that processed media are served under (a CDN or an nginx edge); empty = this server's <c>/system</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Uploads never attached to a post are deleted after this many hours.</summary>
    public int UnattachedRetentionHours { get; set; } = 24;

    /// <summary>How long POST /api/v1/media waits for processing before answering.</summary>
    public int SyncWaitSeconds { get; set; } = 60;
}
