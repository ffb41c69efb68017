using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Accounts;

/// <summary>
/// The Accounts module's tables: <c>accounts</c> and <c>users</c>. Account rows are read through the cache
/// (<c>acct:{id}</c>, decoded once per cache entry). Every write to a row bumps its <c>version</c>, and after the
/// commit the writer reads the row back and stores it with <see cref="ICache.SetManyIfNewerAsync"/>, as readers do
/// when they fill a miss: whichever comes last, the newest version stays, so a reader that read the row before a
/// change can never put the old one back, and busy authors (whose counts move with every post) stay cached.
/// </summary>
public sealed class AccountStore(IDatabase db, ICache cache)
{
    private const string AccountColumns = "id, username, display_name, note, locked, bot, discoverable, indexable, hide_collections, fields, default_privacy, default_sensitive, default_language, followers_count, following_count, statuses_count, last_status_at, created_at, updated_at, version, avatar_key, header_key";
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(10);

    private const string KeyPrefix = "acct:";

    private static string Key(long id) => KeyPrefix + id;

    public async Task<AccountRow?> GetAsync(long id, CancellationToken ct = default) =>
        (await GetManyAsync([id], ct)).GetValueOrDefault(id);

    /// <summary>The accounts that exist among <paramref name="ids"/>: one cache round trip, and one query for the misses.</summary>
    public async Task<Dictionary<long, AccountRow>> GetManyAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default)
    {
        var result = new Dictionary<long, AccountRow>(ids.Count);
        if (ids.Count == 0)
            return result;
        var distinct = ids as IReadOnlyList<long> is { } list && IsDistinct(list) ? list : ids.Distinct().ToList();
        var cached = await cache.GetManyDecodedAsync(KeyPrefix, distinct, Decode, ct);
        List<long>? misses = null;
        for (var i = 0; i < distinct.Count; i++)
        {
            if (cached[i] is { } row)
                result[distinct[i]] = row;
            else
                (misses ??= []).Add(distinct[i]);
        }
        if (misses is null)
            return result;
        foreach (var row in await LoadAsync(misses, ct))
            result[row.Id] = row;
        return result;
    }

    /// <summary>Whether a short list (a page's authors) holds no id twice, checked without allocating.</summary>
    private static bool IsDistinct(IReadOnlyList<long> ids)
    {
        if (ids.Count > 64)
            return false;
        for (var i = 1; i < ids.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (ids[i] == ids[j])
                    return false;
            }
        }
        return true;
    }

    /// <summary>Reads rows from the database and offers them to the cache (kept unless a newer version is there).</summary>
    private async Task<List<AccountRow>> LoadAsync(IReadOnlyCollection<long> ids, CancellationToken ct)
    {
        var rows = (await db.ReadAsync(c => c.QueryAsync<AccountRow>(new CommandDefinition(
            $"SELECT {AccountColumns} FROM accounts WHERE id {Sql.In(db.Provider, "@ids")}", new { ids = Sql.List(db.Provider, ids) }, cancellationToken: ct)), ct)).ToList();
        if (rows.Count > 0)
            await cache.SetManyIfNewerAsync(rows.Select(Versioned).ToList(), Keep, ct);
        return rows;
    }

    private static VersionedValue Versioned(AccountRow row) =>
        new(Key(row.Id), JsonSerializer.SerializeToUtf8Bytes(row, AccountsJson.Default.AccountRow), row.Version);

    private static AccountRow Decode(byte[] bytes) => JsonSerializer.Deserialize(bytes, AccountsJson.Default.AccountRow)!;

    /// <summary>Called in every write that changes an account row (which bumps its version): after the commit, the cache gets the new row.</summary>
    private void Refresh(DbWrite w, long id) =>
        w.AfterCommit(() => LoadAsync([id], CancellationToken.None));

    /// <summary>
    /// The local accounts among <paramref name="usernames"/> (case-insensitive), keyed by lower-cased username. A username
    /// never changes owner, so its id is cached (<c>uname:{name}</c>) for an hour; rows come through the row cache.
    /// </summary>
    public async Task<Dictionary<string, AccountRow>> FindByUsernamesAsync(IReadOnlyCollection<string> usernames, CancellationToken ct = default)
    {
        var lower = usernames.Select(u => u.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        var result = new Dictionary<string, AccountRow>(StringComparer.Ordinal);
        if (lower.Count == 0)
            return result;
        var cached = await cache.GetManyAsync(lower.Select(u => "uname:" + u).ToList(), ct);
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        var misses = new List<string>();
        for (var i = 0; i < lower.Count; i++)
        {
            if (cached[i] is { } bytes && long.TryParse(System.Text.Encoding.UTF8.GetString(bytes), System.Globalization.CultureInfo.InvariantCulture, out var id))
                ids[lower[i]] = id;
            else
                misses.Add(lower[i]);
        }
        if (misses.Count > 0)
        {
            var found = await db.ReadAsync(c => c.QueryAsync<(long Id, string UsernameLower)>(new CommandDefinition(
                $"SELECT id, username_lower FROM accounts WHERE username_lower {Sql.In(db.Provider, "@misses")}", new { misses = Sql.List(db.Provider, misses) }, cancellationToken: ct)), ct);
            var fill = new List<KeyValuePair<string, byte[]>>();
            foreach (var (id, name) in found)
            {
                ids[name] = id;
                fill.Add(new("uname:" + name, System.Text.Encoding.UTF8.GetBytes(id.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            }
            if (fill.Count > 0)
                await cache.AddManyAsync(fill, TimeSpan.FromHours(1), ct);
        }
        var rows = await GetManyAsync(ids.Values.ToList(), ct);
        foreach (var (name, id) in ids)
            if (rows.TryGetValue(id, out var row))
                result[name] = row;
        return result;
    }

    public Task<AccountRow?> FindByUsernameAsync(string username, CancellationToken ct = default) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<AccountRow>(new CommandDefinition(
            $"SELECT {AccountColumns} FROM accounts WHERE username_lower = @u", new { u = username.ToLowerInvariant() }, cancellationToken: ct)), ct);

    /// <summary>
    /// Accounts whose username or display name starts with <paramref name="query"/> (case-insensitive): exact
    /// username first, then by followers. Usernames are matched on their lower-cased index.
    /// </summary>
    public async Task<List<AccountRow>> SearchAsync(string query, int limit, int offset, IReadOnlyCollection<long>? within, CancellationToken ct = default)
    {
        var q = query.Trim().TrimStart('@').ToLowerInvariant();
        if (q.Length == 0)
            return [];
        var like = q.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        if (within is { Count: 0 })
            return [];
        var sql = $"""
            SELECT {AccountColumns} FROM accounts
            WHERE (username_lower LIKE @like ESCAPE '\' OR LOWER(display_name) LIKE @like ESCAPE '\') {(within is null ? "" : $"AND id {Sql.In(db.Provider, "@within")}")}
            ORDER BY CASE WHEN username_lower = @q THEN 0 ELSE 1 END, followers_count DESC, id
            LIMIT @limit OFFSET @offset
            """;
        return (await db.ReadAsync(c => c.QueryAsync<AccountRow>(new CommandDefinition(sql, new { like, q, limit, offset, within = within is null ? null : Sql.List(db.Provider, within) }, cancellationToken: ct)), ct)).ToList();
    }

    public Task<UserRow?> FindUserByEmailAsync(string email, CancellationToken ct = default) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT account_id, email, password_hash, locale FROM users WHERE email_lower = @e", new { e = email.Trim().ToLowerInvariant() }, cancellationToken: ct)), ct);

    public Task<UserRow?> GetUserAsync(long accountId, CancellationToken ct = default) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<UserRow>(new CommandDefinition(
            "SELECT account_id, email, password_hash, locale FROM users WHERE account_id = @accountId", new { accountId }, cancellationToken: ct)), ct);

    public Task<(bool UsernameTaken, bool EmailTaken)> TakenAsync(string username, string email, CancellationToken ct = default) =>
        db.ReadAsync(async c =>
        {
            var u = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM accounts WHERE username_lower = @u", new { u = username.ToLowerInvariant() }, cancellationToken: ct));
            var e = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM users WHERE email_lower = @e", new { e = email.Trim().ToLowerInvariant() }, cancellationToken: ct));
            return (u > 0, e > 0);
        }, ct);

    /// <summary>Inserts the account and its user in the caller's transaction: both rows or neither.</summary>
    public static async Task InsertAsync(DbWrite w, long id, string username, string email, string passwordHash, string locale, string? clientId, long now)
    {
        await w.ExecuteAsync("""
            INSERT INTO accounts (id, username, username_lower, created_at, updated_at) VALUES (@id, @username, @lower, @now, @now)
            """, new { id, username, lower = username.ToLowerInvariant(), now });
        await w.ExecuteAsync("""
            INSERT INTO users (account_id, email, email_lower, password_hash, locale, created_by_client, created_at)
            VALUES (@id, @email, @emailLower, @passwordHash, @locale, @clientId, @now)
            """, new { id, email = email.Trim(), emailLower = email.Trim().ToLowerInvariant(), passwordHash, locale, clientId, now });
    }

    /// <summary>Changes the given fields in one write; returns the avatar and header keys that new ones replaced (to delete after the commit).</summary>
    public Task<(string? OldAvatar, string? OldHeader)> UpdateProfileAsync(long id, ProfileUpdate u, long now) =>
        db.WriteAsync(async w =>
        {
            Refresh(w, id);
            var old = u.AvatarKey is null && u.HeaderKey is null
                ? default
                : await w.QuerySingleOrDefaultAsync<(string?, string?)>(
                    $"SELECT avatar_key, header_key FROM accounts WHERE id = @id{(w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "")}", new { id });
            await w.ExecuteAsync("""
            UPDATE accounts SET
                display_name = COALESCE(@DisplayName, display_name),
                note = COALESCE(@Note, note),
                locked = COALESCE(@Locked, locked),
                bot = COALESCE(@Bot, bot),
                discoverable = COALESCE(@Discoverable, discoverable),
                indexable = COALESCE(@Indexable, indexable),
                hide_collections = COALESCE(@HideCollections, hide_collections),
                fields = COALESCE(@Fields, fields),
                default_privacy = COALESCE(@Privacy, default_privacy),
                default_sensitive = COALESCE(@Sensitive, default_sensitive),
                default_language = COALESCE(@Language, default_language),
                avatar_key = COALESCE(@AvatarKey, avatar_key),
                header_key = COALESCE(@HeaderKey, header_key),
                updated_at = @now,
                version = version + 1
            WHERE id = @id
            """, new
        {
            id, now, u.DisplayName, u.Note, Locked = Flag(u.Locked), Bot = Flag(u.Bot), Discoverable = Flag(u.Discoverable),
            Indexable = Flag(u.Indexable), HideCollections = Flag(u.HideCollections), u.Fields, u.Privacy, Sensitive = Flag(u.Sensitive), u.Language,
            u.AvatarKey, u.HeaderKey,
        });
            return (u.AvatarKey is null ? null : old.Item1, u.HeaderKey is null ? null : old.Item2);
        });

    /// <summary>
    /// Sets (or, with null, clears) the account's avatar or header key and returns the key it replaces. The old key is read
    /// under the row's lock (PostgreSQL: FOR UPDATE; SQLite: one writer), so of two racing replacements each gets back the
    /// key the other did not, and every replaced object is deleted exactly once by the caller after the commit.
    /// </summary>
    public Task<string?> SetImageAsync(long id, ProfileImage kind, string? key, long now)
    {
        var column = kind == ProfileImage.Avatar ? "avatar_key" : "header_key";
        return db.WriteAsync(async w =>
        {
            var old = await w.QuerySingleOrDefaultAsync<string?>(
                $"SELECT {column} FROM accounts WHERE id = @id{(w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "")}", new { id });
            await w.ExecuteAsync($"UPDATE accounts SET {column} = @key, updated_at = @now, version = version + 1 WHERE id = @id", new { id, key, now });
            Refresh(w, id);
            return old;
        });
    }

    public Task TouchSignInAsync(long accountId, long now) =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE users SET last_sign_in_at = @now WHERE account_id = @accountId", new { accountId, now }));

    /// <summary>Moves an account's counters in the caller's transaction (the Graph and Posts modules call this).</summary>
    /// <remarks>The changed row comes back from the UPDATE itself (RETURNING) and goes to the cache after the commit: no read.</remarks>
    public async Task AdjustCountsAsync(DbWrite w, long accountId, long followers = 0, long following = 0, long statuses = 0, long? lastStatusAt = null)
    {
        var row = await w.QuerySingleOrDefaultAsync<AccountRow>($"""
            UPDATE accounts SET followers_count = followers_count + @followers, following_count = following_count + @following,
                statuses_count = statuses_count + @statuses, last_status_at = COALESCE(@lastStatusAt, last_status_at), version = version + 1
            WHERE id = @accountId
            RETURNING {AccountColumns}
            """, new { accountId, followers, following, statuses, lastStatusAt });
        if (row is not null)
            w.AfterCommit(() => cache.SetManyIfNewerAsync([Versioned(row)], Keep).AsTask());
    }

    private static int? Flag(bool? b) => b is null ? null : b.Value ? 1 : 0;
}

/// <summary>Fields to change; null leaves a field as it is.</summary>
public sealed record ProfileUpdate(
    string? DisplayName = null,
    string? Note = null,
    bool? Locked = null,
    bool? Bot = null,
    bool? Discoverable = null,
    bool? Indexable = null,
    bool? HideCollections = null,
    string? Fields = null,
    string? Privacy = null,
    bool? Sensitive = null,
    string? Language = null,
    string? AvatarKey = null,
    string? HeaderKey = null);
