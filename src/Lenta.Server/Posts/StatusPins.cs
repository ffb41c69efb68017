using System.Text.Json;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Posts;

/// <summary>
/// Pinned posts (docs.joinmastodon.org/methods/statuses/#pin): rows of <c>status_pins</c>, at most
/// <see cref="MaxPins"/> per account, checked and inserted in one transaction that holds the account's pin lock on
/// PostgreSQL (SQLite has one writer), so concurrent pins cannot pass the limit. An account's pinned ids, newest pin
/// first, are cached as <c>pins:{account}</c> (read for the author's <c>pinned</c> flags and for
/// <c>?pinned=true</c>); a change writes the key as changed (<c>~</c>) after its commit, and a reader adds what it read
/// only where no key is, so a read from before a change cannot put the old list back.
/// </summary>
public sealed class StatusPins(IDatabase db, ICache cache, IdGenerator ids, TimeProvider time)
{
    /// <summary>Mastodon's StatusPinValidator::PIN_LIMIT, published as <c>accounts.max_pinned_statuses</c>.</summary>
    public const int MaxPins = 5;

    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan ChangedFor = TimeSpan.FromSeconds(10);
    private static readonly byte[] Changed = "~"u8.ToArray();

    /// <summary>The first key of PostgreSQL's two-key advisory locks for pins (its own key space, apart from the one-bigint locks).</summary>
    private const int PinLockClass = 0x50494E53; // "PINS"

    private static string Key(long accountId) => "pins:" + accountId;

    /// <summary>Pins (or unpins) <paramref name="post"/>, which the caller may see; 422 in Mastodon's words when it may not be pinned.</summary>
    public async Task SetAsync(long me, PostCore post, bool pin, CancellationToken ct)
    {
        if (pin && post.AccountId != me)
            throw new ApiException(422, "Validation failed: Someone else's post cannot be pinned");
        if (pin && post.ReblogOfId is not null)
            throw new ApiException(422, "Validation failed: A boost cannot be pinned");
        if (pin && post.Visibility == Visibility.Direct)
            throw new ApiException(422, "Validation failed: Posts that are only visible to mentioned users cannot be pinned");
        var statusId = post.Id;
        await db.WriteAsync(async w =>
        {
            int changed;
            if (pin)
            {
                if (w.Provider == DbProvider.Postgres)
                    await w.ExecuteAsync("SELECT pg_advisory_xact_lock(@cls, @key)", new { cls = PinLockClass, key = (int)(me ^ (me >> 32)) });
                if (await w.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_pins WHERE account_id = @me AND status_id = @statusId", new { me, statusId }) > 0)
                    return 0;
                if (await w.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_pins WHERE account_id = @me", new { me }) >= MaxPins)
                    throw new ApiException(422, "Validation failed: You have already pinned the maximum number of posts");
                changed = await w.ExecuteAsync("INSERT INTO status_pins (id, account_id, status_id, created_at) VALUES (@id, @me, @statusId, @now)",
                    new { id = ids.Next(), me, statusId, now = time.GetUtcNow().ToUnixTimeMilliseconds() });
            }
            else
                changed = await w.ExecuteAsync("DELETE FROM status_pins WHERE account_id = @me AND status_id = @statusId", new { me, statusId });
            if (changed > 0)
                ChangedAfterCommit(w, me);
            return changed;
        }, ct);
    }

    /// <summary>The account's pinned post ids, newest pin first.</summary>
    public async Task<long[]> PinnedAsync(long accountId, CancellationToken ct)
    {
        var cached = (await cache.GetManyAsync([Key(accountId)], ct))[0];
        if (cached is not null && !cached.AsSpan().SequenceEqual(Changed))
            return JsonSerializer.Deserialize(cached, PostsJson.Default.Int64Array) ?? [];
        var pinned = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(
            "SELECT status_id FROM status_pins WHERE account_id = @accountId ORDER BY id DESC", new { accountId }, cancellationToken: ct)), ct)).ToArray();
        if (cached is null)
            await cache.AddAsync(Key(accountId), JsonSerializer.SerializeToUtf8Bytes(pinned, PostsJson.Default.Int64Array), Keep, ct);
        return pinned;
    }

    /// <summary>A deleted post's pin goes in its delete transaction.</summary>
    public async Task DeleteForPostAsync(DbWrite w, PostCore post)
    {
        if (await w.ExecuteAsync("DELETE FROM status_pins WHERE status_id = @id", new { id = post.Id }) > 0)
            ChangedAfterCommit(w, post.AccountId);
    }

    private void ChangedAfterCommit(DbWrite w, long accountId) => w.AfterCommit(() => cache.SetAsync(Key(accountId), Changed, ChangedFor).AsTask());
}
