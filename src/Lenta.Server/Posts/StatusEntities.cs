using System.Text.Json;
using System.Text.Json.Serialization;
using Lenta.Server.Accounts;

using Lenta.Server.Media;

namespace Lenta.Server.Posts;

/// <summary>
/// Mastodon's Status entity (docs.joinmastodon.org/entities/Status). The fields that depend on the viewer or change
/// without the post changing (counts, flags, account, media) are ordered last: <see cref="StatusPresenter"/> caches the
/// JSON of everything before them per post and writes only these per request.
/// </summary>
public sealed class StatusEntity
{
    public string Id { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string? InReplyToId { get; set; }
    public string? InReplyToAccountId { get; set; }
    public bool Sensitive { get; set; }
    public string SpoilerText { get; set; } = "";
    public string Visibility { get; set; } = "public";
    public string? Language { get; set; }
    public string Uri { get; set; } = "";
    public string? Url { get; set; }
    public long RepliesCount { get; set; }
    public long ReblogsCount { get; set; }
    [JsonPropertyOrder(1)]
    public long FavouritesCount { get; set; }
    public string? EditedAt { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(2)]
    public bool? Favourited { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(3)]
    public bool? Reblogged { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(4)]
    public bool? Muted { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(5)]
    public bool? Bookmarked { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(6)]
    public bool? Pinned { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(7)]
    public object[]? Filtered { get; set; }

    /// <summary>HTML; absent in the DELETE answer, which carries <see cref="Text"/> instead.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; set; }

    /// <summary>The plain source, only in the DELETE answer (for delete and redraft).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Text { get; set; }

    /// <summary>A boost's original, rendered for the viewer; last, so the cached part of a status ends before it.</summary>
    [JsonPropertyOrder(11)]
    public StatusEntity? Reblog { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(8)]
    public StatusApplication? Application { get; set; }

    [JsonPropertyOrder(9)]
    public AccountEntity Account { get; set; } = null!;
    [JsonPropertyOrder(10)]
    public MediaAttachmentEntity[] MediaAttachments { get; set; } = [];
    public StatusMention[] Mentions { get; set; } = [];
    public StatusTag[] Tags { get; set; } = [];
    public CustomEmoji[] Emojis { get; set; } = [];
    public object? Card { get; set; }
    public object? Poll { get; set; }
}

public sealed record StatusApplication(string Name, string? Website);

public sealed record StatusMention(string Id, string Username, string Url, string Acct);

public sealed record StatusTag(string Name, string Url);

/// <summary>docs.joinmastodon.org/entities/StatusEdit: one version of an edited post.</summary>
public sealed class StatusEditEntity
{
    public string Content { get; set; } = "";
    public string SpoilerText { get; set; } = "";
    public bool Sensitive { get; set; }
    public string CreatedAt { get; set; } = "";
    public AccountEntity Account { get; set; } = null!;
    public object? Poll { get; set; }
    public MediaAttachmentEntity[] MediaAttachments { get; set; } = [];
    public CustomEmoji[] Emojis { get; set; } = [];
}

/// <summary>docs.joinmastodon.org/entities/StatusSource: what the author typed, for editing.</summary>
public sealed record StatusSourceEntity(string Id, string Text, string SpoilerText);

/// <summary>docs.joinmastodon.org/entities/Context.</summary>
public sealed record ContextEntity(List<StatusEntity> Ancestors, List<StatusEntity> Descendants);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StatusEntity))]
[JsonSerializable(typeof(List<StatusEntity>))]
[JsonSerializable(typeof(List<AccountEntity>))]
[JsonSerializable(typeof(ContextEntity))]
[JsonSerializable(typeof(List<StatusEditEntity>))]
[JsonSerializable(typeof(StatusSourceEntity))]
[JsonSerializable(typeof(StatusApplication))]
[JsonSerializable(typeof(MediaAttachmentEntity[]))]
[JsonSerializable(typeof(PostCore))]
[JsonSerializable(typeof(long[]))]
[JsonSerializable(typeof(string[]))]
public sealed partial class PostsJson : JsonSerializerContext
{
    /// <summary>
    /// The same contract with JSON's minimal escaping (only quotes, backslashes and control characters): for the status
    /// and account JSON that <see cref="StatusPresenter"/> renders once and keeps with the cached post and account. The
    /// default escaping writes every <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, quote and non-ASCII character of the HTML
    /// content as a six-byte <c>\uXXXX</c>; the answers are <c>application/json</c>, never inlined into a page, so
    /// nothing needs it, and it made a rendered Reed98 post a quarter larger (in memory and on the wire).
    /// </summary>
    public static PostsJson Compact { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
