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
/// which the Likes module keeps. A change of any field here bumps the row's version and goes through <see cref="PostCache.ChangedAsync"/>.
/// </summary>
public sealed class PostCore
{
    public long Id { get; init; }
    public long AccountId { get; init; }
    private string? _content = "";

    /// <summary>
    /// The HTML content. A post lets it go once its viewer-independent JSON is rendered (<see cref="ForgetContent"/>): the
    /// rendering holds it, and it was the largest part of a cached post. Null then; a renderer that still needs it (a
    /// second host name, a thread's entities) reads it back (<see cref="PostCache.ContentsAsync"/>).
    /// </summary>
    public string? Content { get => Volatile.Read(ref _content); init => _content = value; }

    /// <summary>Drops <see cref="Content"/> (see there); only <see cref="StatusPresenter"/> calls it, after rendering.</summary>
    internal void ForgetContent() => Volatile.Write(ref _content, null);
    public string SpoilerText { get; init; } = "";
    public int Visibility { get; init; }
    public bool Sensitive { get; init; }
    public string? Language { get; init; }
    public long? InReplyToId { get; init; }
    public long? InReplyToAccountId { get; init; }
    public long[] MentionIds { get; init; } = [];
    public string[] TagNames { get; init; } = [];
    public bool HasMedia { get; init; }
    public long[] MediaIds { get; init; } = [];
    public string? ApplicationName { get; init; }
    public string? ApplicationWebsite { get; init; }
    public long RepliesCount { get; init; }
    public long ReblogsCount { get; init; }
    public long CreatedAt { get; init; }
    public long? EditedAt { get; init; }

    /// <summary>For a boost: the post it shares (rendered as its <c>reblog</c>) and that post's author.</summary>
    public long? ReblogOfId { get; init; }

    public long? ReblogOfAccountId { get; init; }

    /// <summary>The row's <c>version</c>, bumped by every change of it: the post cache keeps the newest.</summary>
    public long Version { get; init; }

    /// <summary>This post's viewer-independent Status JSON, rendered once (<see cref="StatusPresenter"/>); never stored.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Platform.Cache.RenderSlot Json { get; } = new();

    /// <summary>Who may see it (docs.joinmastodon.org/entities/Status/#visibility): public and unlisted everyone; private the author, accepted followers and the mentioned; direct the author and the mentioned.</summary>
    public bool VisibleTo(long? viewer, bool viewerFollowsAuthor) => Visibility switch
    {
        Posts.Visibility.Public or Posts.Visibility.Unlisted => true,
        Posts.Visibility.Private => viewer is { } v && (v == AccountId || viewerFollowsAuthor || MentionIds.Contains(v)),
        _ => viewer is { } d && (d == AccountId || MentionIds.Contains(d)),
    };
}
