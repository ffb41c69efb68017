namespace Lenta.Server.Feed;

/// <summary><c>Lenta__Feed__*</c>: the home feed's fan-out.</summary>
public sealed class FeedOptions
{
    public const string Section = "Lenta:Feed";

    /// <summary>Post ids kept per home timeline in the publication cache (trimmed on push).</summary>
    public int TimelineSize { get; set; } = 800;

    /// <summary>Authors with more followers than this are not pushed; their posts are merged in at read time.</summary>
    public long FanOutThreshold { get; set; } = 10_000;

    /// <summary>Followers who have not read their home feed for this many days are skipped by fan-out (rebuilt when they return).</summary>
    public int InactiveDays { get; set; } = 30;

    /// <summary>Followers read and pushed per round trip during fan-out.</summary>
    public int FanOutBatch { get; set; } = 1000;

    /// <summary>Most followed accounts a rebuild reads posts from.</summary>
    public int RebuildMaxFollowing { get; set; } = 5000;
}
