namespace Lenta.Server.Accounts;

/// <summary>One row of <c>accounts</c> (Dapper maps snake_case columns).</summary>
public sealed class AccountRow
{
    public long Id { get; init; }
    public string Username { get; init; } = "";
    public string DisplayName { get; init; } = "";
    public string Note { get; init; } = "";
    public bool Locked { get; init; }
    public bool Bot { get; init; }
    public bool Discoverable { get; init; }
    public bool Indexable { get; init; }
    public bool HideCollections { get; init; }
    public string Fields { get; init; } = "[]";
    public string DefaultPrivacy { get; init; } = "public";
    public bool DefaultSensitive { get; init; }
    public string? DefaultLanguage { get; init; }
    public long FollowersCount { get; init; }
    public long FollowingCount { get; init; }
    public long StatusesCount { get; init; }
    public long? LastStatusAt { get; init; }
    public long CreatedAt { get; init; }
    public long UpdatedAt { get; init; }

    /// <summary>The avatar's key in the processed store; null shows the default image.</summary>
    public string? AvatarKey { get; init; }

    public string? HeaderKey { get; init; }

    /// <summary>Bumped by every write to the row; the cache keeps the newest (<see cref="Platform.Cache.ICache.SetManyIfNewerAsync"/>).</summary>
    public long Version { get; init; }

    /// <summary>This row's Account JSON, rendered once per base URL (statuses embed it); never stored.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Platform.Cache.RenderSlot Json { get; } = new();
}

public sealed class UserRow
{
    public long AccountId { get; init; }
    public string Email { get; init; } = "";
    public string PasswordHash { get; init; } = "";
    public string Locale { get; init; } = "";
}
