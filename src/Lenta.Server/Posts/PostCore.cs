namespace Lenta.Server.Posts;

public static class Visibility
{
    public const int Public = 0;
    public const int Unlisted = 1;
    public const int Private = 2;
    public const int Direct = 3;

    public static string Name(int v) => v switch
    {
        Public => "public",
        Unlisted => "unlisted",
        Private => "private",
        _ => "direct",
    };

    public static int? Parse(string? name) => name switch
    {
        "public" => Public,
        "unlisted" => Unlisted,
        "private" => Private,
        "direct" => Direct,
        _ => null,
    };
}

/// <summary>
/// A post as stored and cached by id (the post cache): everything but the viewer's flags and the like count,
/// which the Likes module keeps. Changing any field here goes through <see cref="PostCache.Invalidate"/>.
/// </summary>
public sealed class PostCore
{
    public long Id { get; set; }
    public long AccountId { get; set; }
    public string Text { get; set; } = "";
    public string Content { get; set; } = "";
    public string SpoilerText { get; set; } = "";
    public int Visibility { get; set; }
    public bool Sensitive { get; set; }
    public string? Language { get; set; }
    public long? InReplyToId { get; set; }
    public long? InReplyToAccountId { get; set; }
    public long[] MentionIds { get; set; } = [];
    public string[] TagNames { get; set; } = [];
    public bool HasMedia { get; set; }
    public long[] MediaIds { get; set; } = [];
    public string? ApplicationName { get; set; }
    public string? ApplicationWebsite { get; set; }
    public long RepliesCount { get; set; }
    public long ReblogsCount { get; set; }
    public long CreatedAt { get; set; }
    public long? EditedAt { get; set; }

    /// <summary>Who may see it (MASTODON-API.md §6): public and unlisted everyone; private the author, accepted followers and the mentioned; direct the author and the mentioned.</summary>
    public bool VisibleTo(long? viewer, bool viewerFollowsAuthor) => Visibility switch
    {
        Posts.Visibility.Public or Posts.Visibility.Unlisted => true,
        Posts.Visibility.Private => viewer is { } v && (v == AccountId || viewerFollowsAuthor || MentionIds.Contains(v)),
        _ => viewer is { } d && (d == AccountId || MentionIds.Contains(d)),
    };
}
