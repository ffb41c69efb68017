using System.Text.Json.Serialization;

namespace Lenta.Server.Accounts;

/// <summary>Mastodon's Account entity (docs.joinmastodon.org/entities/Account).</summary>
public class AccountEntity
{
    public string Id { get; set; } = "";
    public string Username { get; set; } = "";
    public string Acct { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public bool Locked { get; set; }
    public bool Bot { get; set; }
    public bool Discoverable { get; set; }
    public bool Indexable { get; set; }
    public bool Group { get; set; }
    public string CreatedAt { get; set; } = "";
    public string Note { get; set; } = "";
    public string Url { get; set; } = "";
    public string Uri { get; set; } = "";
    public string Avatar { get; set; } = "";
    public string AvatarStatic { get; set; } = "";
    public string Header { get; set; } = "";
    public string HeaderStatic { get; set; } = "";
    public long FollowersCount { get; set; }
    public long FollowingCount { get; set; }
    public long StatusesCount { get; set; }
    public string? LastStatusAt { get; set; }
    public bool HideCollections { get; set; }
    public bool Noindex { get; set; }
    public CustomEmoji[] Emojis { get; set; } = [];
    public AccountRole[] Roles { get; set; } = [];
    public AccountField[] Fields { get; set; } = [];
}

/// <summary>The signed-in user's own account, with <c>source</c> (docs.joinmastodon.org/entities/Account/#CredentialAccount).</summary>
public sealed class CredentialAccountEntity : AccountEntity
{
    public AccountSource Source { get; set; } = null!;
    public AccountRole Role { get; set; } = null!;
}

public sealed record AccountSource(
    string Privacy,
    bool Sensitive,
    string? Language,
    string Note,
    AccountField[] Fields,
    long FollowRequestsCount,
    bool HideCollections,
    bool Discoverable,
    bool Indexable);

public sealed record AccountField(string Name, string Value, string? VerifiedAt);

public sealed record AccountRole(string Id, string Name, string Permissions, string Color, bool Highlighted);

public sealed record CustomEmoji(string Shortcode, string Url, string StaticUrl, bool VisibleInPicker, string? Category);

/// <summary>Stored profile field (plain text).</summary>
public sealed record StoredField(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value);
