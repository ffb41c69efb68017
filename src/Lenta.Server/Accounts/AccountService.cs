using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Microsoft.AspNetCore.Identity;

namespace Lenta.Server.Accounts;

public sealed record SignUp(string? Username, string? Email, string? Password, bool? Agreement, string? Locale);

/// <summary>The User service: sign-up, profiles, passwords. Other modules read accounts through it.</summary>
public sealed partial class AccountService(IDatabase db, AccountStore store, IdGenerator ids, TimeProvider time, IProfileImages images)
{
    public const int MaxUsername = 30;
    public const int MaxDisplayName = 30;
    public const int MaxNote = 500;
    public const int MaxFields = 4;
    public const int MaxFieldLength = 255;

    private static readonly PasswordHasher<object> Hasher = new();

    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "admin", "administrator", "root", "support", "help", "mod", "moderator", "webmaster", "postmaster", "abuse", "security", "lenta", "api", "oauth", "www",
    };

    public AccountStore Store => store;

    public Task<AccountRow?> GetAsync(long id, CancellationToken ct = default) => store.GetAsync(id, ct);

    /// <summary>The instance's totals for <c>/api/v1/instance</c> and NodeInfo: accounts, and posts by all of them.</summary>
    public Task<(long Users, long Statuses)> CountAsync(CancellationToken ct = default) =>
        db.ReadAsync(async c => (
            await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM accounts", cancellationToken: ct)),
            await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COALESCE(SUM(statuses_count), 0) FROM accounts", cancellationToken: ct))), ct);

    /// <summary>Validates and creates an account with its user; 422 with per-field details on any problem. Both rows or none.</summary>
    public async Task<AccountRow> SignUpAsync(SignUp s, string? clientId, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var username = s.Username?.Trim() ?? "";
        var email = s.Email?.Trim() ?? "";
        if (username.Length == 0)
            errors.Add("username", "ERR_BLANK", "can't be blank");
        else if (username.Length > MaxUsername)
            errors.Add("username", "ERR_TOO_LONG", $"is too long (maximum is {MaxUsername} characters)");
        else if (!UsernamePattern().IsMatch(username))
            errors.Add("username", "ERR_INVALID", "must contain only letters, numbers and underscores");
        else if (Reserved.Contains(username))
            errors.Add("username", "ERR_RESERVED", "is reserved");

        if (email.Length == 0)
            errors.Add("email", "ERR_BLANK", "can't be blank");
        else if (email.Length > 254 || !EmailPattern().IsMatch(email))
            errors.Add("email", "ERR_INVALID", "is invalid");

        var password = s.Password ?? "";
        if (password.Length == 0)
            errors.Add("password", "ERR_BLANK", "can't be blank");
        else if (password.Length < 8)
            errors.Add("password", "ERR_TOO_SHORT", "is too short (minimum is 8 characters)");
        else if (password.Length > 72)
            errors.Add("password", "ERR_TOO_LONG", "is too long (maximum is 72 characters)");

        if (s.Agreement != true)
            errors.Add("agreement", "ERR_ACCEPTED", "must be accepted");

        var locale = s.Locale?.Trim() ?? "";
        if (locale.Length == 0)
            errors.Add("locale", "ERR_BLANK", "can't be blank");
        else if (!LocalePattern().IsMatch(locale))
            errors.Add("locale", "ERR_INCLUSION", "is not included in the list");

        if (!errors.Has("username") || !errors.Has("email"))
        {
            var (usernameTaken, emailTaken) = await store.TakenAsync(username, email, ct);
            if (usernameTaken && !errors.Has("username"))
                errors.Add("username", "ERR_TAKEN", "has already been taken");
            if (emailTaken && !errors.Has("email"))
                errors.Add("email", "ERR_TAKEN", "has already been taken");
        }
        errors.ThrowIfAny();

        var hash = await Task.Run(() => Hasher.HashPassword(null!, password), ct);
        var id = ids.Next();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            await db.WriteAsync(w => AccountStore.InsertAsync(w, id, username, email, hash, locale, clientId, now), ct);
        }
        catch (Exception e) when (DbErrors.IsUniqueViolation(e))
        {
            // A concurrent sign-up took the name or address between our check and our insert.
            var (usernameTaken, emailTaken) = await store.TakenAsync(username, email, ct);
            var taken = new ValidationErrors();
            if (usernameTaken)
                taken.Add("username", "ERR_TAKEN", "has already been taken");
            if (emailTaken || !usernameTaken)
                taken.Add("email", "ERR_TAKEN", "has already been taken");
            taken.ThrowIfAny();
            throw;
        }
        return (await store.GetAsync(id, ct))!;
    }

    /// <summary>The account whose e-mail and password these are, or null. Always spends the hashing time, so a miss is not faster than a wrong password.</summary>
    public async Task<long?> CheckPasswordAsync(string email, string password, CancellationToken ct)
    {
        var user = await store.FindUserByEmailAsync(email, ct);
        var hash = user?.PasswordHash ?? DummyHash.Value;
        var result = await Task.Run(() => Hasher.VerifyHashedPassword(null!, hash, password), ct);
        if (user is null || result == PasswordVerificationResult.Failed)
            return null;
        await store.TouchSignInAsync(user.AccountId, time.GetUtcNow().ToUnixTimeMilliseconds());
        return user.AccountId;
    }

    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(null!, Guid.NewGuid().ToString()));

    /// <summary>
    /// PATCH update_credentials: validates every given field, processes and stores a new avatar or header (synchronously:
    /// one small image each, well under a second), then changes everything in one write. The images they replace are
    /// deleted after the commit; if that write fails, the new ones are deleted instead.
    /// </summary>
    public async Task<AccountRow> UpdateAsync(long id, ApiParams p, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var displayName = p.String("display_name");
        if (displayName is not null && displayName.Length > MaxDisplayName)
            errors.Add("display_name", "ERR_TOO_LONG", $"is too long (maximum is {MaxDisplayName} characters)");
        var note = p.String("note");
        if (note is not null && note.Length > MaxNote)
            errors.Add("note", "ERR_TOO_LONG", $"is too long (maximum is {MaxNote} characters)");

        string? fieldsJson = null;
        if (p.Has("fields_attributes"))
        {
            var fields = p.Objects("fields_attributes")
                .Select(f => new StoredField(f.String("name")?.Trim() ?? "", f.String("value")?.Trim() ?? ""))
                .Where(f => f.Name.Length > 0 || f.Value.Length > 0)
                .ToList();
            if (fields.Count > MaxFields)
                errors.Add("fields", "ERR_TOO_LONG", $"is too long (maximum is {MaxFields} fields)");
            if (fields.Any(f => f.Name.Length > MaxFieldLength || f.Value.Length > MaxFieldLength))
                errors.Add("fields", "ERR_TOO_LONG", $"names and values are at most {MaxFieldLength} characters");
            fieldsJson = JsonSerializer.Serialize(fields, AccountsJson.Default.ListStoredField);
        }

        var source = p.Object("source");
        var privacy = source?.String("privacy");
        if (privacy is not null && privacy is not ("public" or "unlisted" or "private" or "direct"))
            errors.Add("source.privacy", "ERR_INCLUSION", "is not included in the list");
        var language = source?.String("language");
        if (language is { Length: > 0 } && !LocalePattern().IsMatch(language))
            errors.Add("source.language", "ERR_INCLUSION", "is not included in the list");
        errors.ThrowIfAny();

        var avatar = p.Files?.GetFile("avatar");
        var header = p.Files?.GetFile("header");
        string? avatarKey = null, headerKey = null;
        try
        {
            if (avatar is not null)
                avatarKey = await images.StoreAsync(id, ProfileImage.Avatar, avatar, ct);
            if (header is not null)
                headerKey = await images.StoreAsync(id, ProfileImage.Header, header, ct);
            var update = new ProfileUpdate(
            DisplayName: displayName, Note: note, Locked: p.Bool("locked"), Bot: p.Bool("bot"), Discoverable: p.Bool("discoverable"),
            Indexable: p.Bool("indexable"), HideCollections: p.Bool("hide_collections"), Fields: fieldsJson,
            Privacy: privacy, Sensitive: source?.Bool("sensitive"), Language: language is { Length: > 0 } ? language : null,
            AvatarKey: avatarKey, HeaderKey: headerKey);
            var (oldAvatar, oldHeader) = await store.UpdateProfileAsync(id, update, time.GetUtcNow().ToUnixTimeMilliseconds());
            await DeleteQuietlyAsync(oldAvatar);
            await DeleteQuietlyAsync(oldHeader);
        }
        catch
        {
            await DeleteQuietlyAsync(avatarKey);
            await DeleteQuietlyAsync(headerKey);
            throw;
        }
        return (await store.GetAsync(id, ct))!;
    }

    /// <summary>DELETE /api/v1/profile/{avatar,header}: back to the default image; the old object is deleted after the commit.</summary>
    public async Task<AccountRow> RemoveImageAsync(long id, ProfileImage kind, CancellationToken ct)
    {
        var old = await store.SetImageAsync(id, kind, null, time.GetUtcNow().ToUnixTimeMilliseconds());
        await DeleteQuietlyAsync(old);
        return (await store.GetAsync(id, ct))!;
    }

    /// <summary>
    /// A replaced or abandoned image is garbage: its key is in no row, so a failed delete (or a crash before it) leaves an
    /// unreachable object, never a broken profile. Not tied to the request, which may be gone by now.
    /// </summary>
    private Task DeleteQuietlyAsync(string? key) => key is null ? Task.CompletedTask : images.DeleteAsync(key, CancellationToken.None);

    [GeneratedRegex("^[A-Za-z0-9_]+$")]
    private static partial Regex UsernamePattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")]
    private static partial Regex LocalePattern();
}

/// <summary>Collects per-field problems and throws them as Mastodon's 422 with <c>details</c>.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<ApiErrorDetail>> _errors = new(StringComparer.Ordinal);

    public void Add(string field, string code, string description)
    {
        if (!_errors.TryGetValue(field, out var list))
            _errors[field] = list = [];
        list.Add(new ApiErrorDetail(code, description));
    }

    public bool Has(string field) => _errors.ContainsKey(field);

    public void ThrowIfAny()
    {
        if (_errors.Count == 0)
            return;
        var text = string.Join(", ", _errors.SelectMany(kv => kv.Value.Select(d => $"{Humanize(kv.Key)} {d.Description}")));
        throw new ApiException(422, $"Validation failed: {text}", _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
    }

    private static string Humanize(string field)
    {
        var words = field.Replace('_', ' ').Replace('.', ' ');
        return char.ToUpperInvariant(words[0]) + words[1..];
    }
}
