using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Accounts.OAuth;

/// <summary>
/// Mastodon-style access tokens: 256 random bits (43 characters), never expiring, revocable. Only a SHA-256 of
/// each token is stored (<c>access_tokens</c>), so the table leaks nothing usable. Validated tokens are kept in
/// the cache under their hash, so a request costs no database round trip; revoking removes that entry at once
/// (the cache is shared between nodes once it is Redis), and an entry also expires after a while.
/// </summary>
public sealed class AccessTokens(IDatabase db, ICache cache, IdGenerator ids, TimeProvider time) : ITokenAuthenticator
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);

    public sealed record Issued(string Token, long CreatedAtSeconds, IReadOnlyList<string> Scopes);

    public async Task<Issued> IssueAsync(string clientId, long? accountId, IReadOnlyList<string> scopes, CancellationToken ct = default)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow();
        await db.WriteAsync(w => w.ExecuteAsync("""
            INSERT INTO access_tokens (id, token_hash, client_id, account_id, scopes, created_at)
            VALUES (@id, @hash, @clientId, @accountId, @scopes, @now)
            """, new { id = ids.Next(), hash = Hash(token), clientId, accountId, scopes = string.Join(' ', scopes), now = now.ToUnixTimeMilliseconds() }), ct);
        return new Issued(token, now.ToUnixTimeSeconds(), scopes);
    }

    public async ValueTask<Caller?> AuthenticateAsync(string token, CancellationToken ct)
    {
        if (token.Length is < 20 or > 200)
            return null;
        var hash = Hash(token);
        var key = CacheKey(hash);
        // The decoded caller stays with its cache entry: no JSON or scope parsing per request.
        if ((await cache.GetManyDecodedAsync([key], Decode, ct))[0] is { } cached)
            return cached;
        var row = await db.ReadAsync(c => c.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(
            "SELECT client_id, account_id, scopes FROM access_tokens WHERE token_hash = @hash AND revoked_at IS NULL", new { hash }, cancellationToken: ct)), ct);
        if (row is null)
            return null;
        await cache.SetAsync(key, JsonSerializer.SerializeToUtf8Bytes(row, TokenJson.Default.TokenRow), CacheFor, ct);
        return ToCaller(row);
    }

    /// <summary>Revokes <paramref name="token"/> if <paramref name="clientId"/> owns it. Null: no such live token (a success for RFC 7009); false: another client's.</summary>
    public async Task<bool?> RevokeAsync(string token, string clientId, CancellationToken ct = default)
    {
        var hash = Hash(token);
        var result = await db.WriteAsync(async w =>
        {
            var owner = await w.ExecuteScalarAsync<string?>("SELECT client_id FROM access_tokens WHERE token_hash = @hash AND revoked_at IS NULL", new { hash });
            if (owner is null)
                return (bool?)null;
            if (owner != clientId)
                return false;
            await w.ExecuteAsync("UPDATE access_tokens SET revoked_at = @now WHERE token_hash = @hash", new { hash, now = time.GetUtcNow().ToUnixTimeMilliseconds() });
            return true;
        }, ct);
        // Removed after the commit: a reader that refills the cache in between reads the revoked row and caches nothing.
        await cache.RemoveAsync(CacheKey(hash), ct);
        return result;
    }

    private static string CacheKey(string hash) => "tok:" + hash;

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static Caller Decode(byte[] bytes) => ToCaller(JsonSerializer.Deserialize(bytes, TokenJson.Default.TokenRow)!);

    private static Caller ToCaller(TokenRow row)
    {
        var granted = Scopes.Parse(row.Scopes);
        return new Caller(row.AccountId, row.ClientId, Scopes.Expand(granted), granted);
    }

    internal sealed class TokenRow
    {
        public string ClientId { get; init; } = "";
        public long? AccountId { get; init; }
        public string Scopes { get; init; } = "";
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(AccessTokens.TokenRow))]
internal sealed partial class TokenJson : System.Text.Json.Serialization.JsonSerializerContext;
