using System.Text.Json;
using Dapper;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Media;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Posts;

/// <summary>What a person asked to post, already read from the request.</summary>
public sealed record NewPost(
    string? Text,
    string? Visibility,
    long? InReplyToId,
    bool? Sensitive,
    string? SpoilerText,
    string? Language,
    IReadOnlyList<string> MediaIds,
    string? IdempotencyKey,
    string? ApplicationName,
    string? ApplicationWebsite);

/// <summary>
/// The Post service: writes posts (text, mentions, tags, replies) and reads them with visibility applied.
/// A post, its mention and tag rows, the author's counters, the parent's reply count and the idempotency key
/// commit in one transaction; the response is sent only after that commit, so an acknowledged post survives a crash.
/// </summary>
public sealed class PostService(IDatabase db, PostCache posts, ProfileCache profiles, AccountService accounts, GraphService graph, IdGenerator ids, TimeProvider time,
    IOptions<InstanceOptions> instance, IEnumerable<IPostObserver> observers, StatusMedia media, StatusPins pins, BlocksAndMutes blocks, BoostFlags boostFlags)
{
    private static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(1);

    public PostCache Cache => posts;

    public async Task<PostCore> CreateAsync(long authorId, NewPost post, string baseUrl, CancellationToken ct)
    {
        var author = await accounts.GetAsync(authorId, ct) ?? throw new ApiException(401, "The access token is invalid");
        var text = post.Text ?? "";
        var spoiler = post.SpoilerText ?? "";
        // First, before any lookup: counting is linear in the text, and everything after it may assume a text within the limit.
        CheckLength(text, spoiler);
        if (post.IdempotencyKey is { Length: > 0 } key && await ExistingIdempotentAsync(authorId, key, ct) is { } earlier)
            return earlier;

        var visibility = post.Visibility is null ? Visibility.Parse(author.DefaultPrivacy) ?? Visibility.Public : Visibility.Parse(post.Visibility)
            ?? throw new ApiException(422, $"Validation failed: Visibility is not included in the list");
        CheckMediaCount(post.MediaIds.Count);
        var mediaIds = post.MediaIds.Count > 0 ? await media.ValidateAsync(authorId, post.MediaIds, ct) : [];
        CheckNotBlank(text, mediaIds.Count);
        var language = CheckLanguage(post.Language is { Length: > 0 } l ? l : author.DefaultLanguage);

        PostCore? parent = null;
        if (post.InReplyToId is { } parentId)
        {
            parent = await GetVisibleAsync(parentId, authorId, ct)
                ?? throw new ApiException(404, "The post you are trying to reply to does not appear to exist.");
        }

        var formatted = await FormatAsync(text, baseUrl, ct);

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        // The source text goes to the database only (its one reader, the delete answer, reads it back from there): the
        // post is cached as this object (PostCache.PrimeAsync), and it would be a kilobyte the cache's estimate does not count.
        var core = new PostCore
        {
            Id = ids.Next(), AccountId = authorId, Content = formatted.Html, SpoilerText = spoiler, Visibility = visibility,
            Sensitive = (post.Sensitive ?? author.DefaultSensitive) || spoiler.Length > 0, Language = language,
            InReplyToId = parent?.Id, InReplyToAccountId = parent?.AccountId,
            MentionIds = formatted.Mentions.Select(m => m.Id).ToArray(), TagNames = formatted.Tags.ToArray(),
            ApplicationName = post.ApplicationName, ApplicationWebsite = post.ApplicationWebsite, CreatedAt = now,
            HasMedia = mediaIds.Count > 0, MediaIds = mediaIds.ToArray(),
        };

        var resultId = await db.WriteAsync(async w =>
        {
            if (post.IdempotencyKey is { Length: > 0 } k)
            {
                await w.ExecuteAsync("DELETE FROM idempotency_keys WHERE account_id = @authorId AND idempotency_key = @k AND created_at < @cutoff",
                    new { authorId, k, cutoff = now - (long)IdempotencyWindow.TotalMilliseconds });
                var claimed = await w.QuerySingleOrDefaultAsync<long?>("""
                    INSERT INTO idempotency_keys (account_id, idempotency_key, status_id, created_at) VALUES (@authorId, @k, @id, @now)
                    ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING status_id
                    """, new { authorId, k, id = core.Id, now });
                if (claimed is null)
                    return await w.ExecuteScalarAsync<long>("SELECT status_id FROM idempotency_keys WHERE account_id = @authorId AND idempotency_key = @k", new { authorId, k });
            }
            await w.ExecuteAsync("""
                INSERT INTO statuses (id, account_id, text, content, spoiler_text, visibility, sensitive, language, in_reply_to_id, in_reply_to_account_id,
                                      mentions, tags, has_media, media, application_name, application_website, created_at)
                VALUES (@Id, @AccountId, @Text, @Content, @SpoilerText, @Visibility, @Sensitive, @Language, @InReplyToId, @InReplyToAccountId,
                        @mentions, @tags, @hasMedia, @media, @ApplicationName, @ApplicationWebsite, @CreatedAt)
                """, new
            {
                core.Id, core.AccountId, Text = text, core.Content, core.SpoilerText, core.Visibility, Sensitive = core.Sensitive ? 1 : 0, core.Language,
                core.InReplyToId, core.InReplyToAccountId, core.ApplicationName, core.ApplicationWebsite, core.CreatedAt,
                mentions = JsonSerializer.Serialize(core.MentionIds, PostsJson.Default.Int64Array), tags = JsonSerializer.Serialize(core.TagNames, PostsJson.Default.StringArray),
                hasMedia = core.HasMedia ? 1 : 0, media = JsonSerializer.Serialize(core.MediaIds, PostsJson.Default.Int64Array),
            });
            w.AfterCommit(() => posts.PrimeAsync(core));
            profiles.AddAfterCommit(w, core);
            if (core.MediaIds.Length > 0)
                await media.AttachAsync(w, authorId, core.Id, core.MediaIds);
            await InsertLinksAsync(w, core.Id, core.MentionIds, core.TagNames);
            await accounts.Store.AdjustCountsAsync(w, authorId, statuses: 1, lastStatusAt: now);
            if (core.InReplyToId is { } p)
            {
                await w.ExecuteAsync("UPDATE statuses SET replies_count = replies_count + 1, version = version + 1 WHERE id = @p", new { p });
                await posts.ChangedAsync(w, p);
            }
            foreach (var observer in observers)
                await observer.PostCreatedAsync(w, core);
            return core.Id;
        }, ct);

        if (resultId != core.Id)
            return await posts.GetAsync(resultId, ct) ?? throw new ApiException(404, "Record not found");
        return core;
    }

    /// <summary>The text's HTML, mentions and tags: mentions resolve to local accounts by username (or username@our-host); others stay text.</summary>
    internal async Task<FormattedText> FormatAsync(string text, string baseUrl, CancellationToken ct)
    {
        var host = new Uri(baseUrl).Authority;
        var names = TextFormatter.MentionedNames(text);
        var targets = new Dictionary<string, MentionTarget>(StringComparer.OrdinalIgnoreCase);
        var local = names.Take(50).Where(n => n.Domain is null || string.Equals(n.Domain, host, StringComparison.OrdinalIgnoreCase)).Select(n => n.Username).ToList();
        foreach (var (_, found) in await accounts.Store.FindByUsernamesAsync(local, ct))
            targets[found.Username] = new MentionTarget(found.Id, found.Username, $"{baseUrl}/@{found.Username}");
        return TextFormatter.Format(text, (u, d) => d is not null && !string.Equals(d, host, StringComparison.OrdinalIgnoreCase) ? null : targets.GetValueOrDefault(u), baseUrl);
    }

    /// <summary>Text and content warning within the instance's limit (Mastodon counts both); checked before anything else reads the text.</summary>
    internal void CheckLength(string text, string spoiler)
    {
        var max = instance.Value.MaxCharacters;
        if (TextFormatter.Length(spoiler, max) is var spoilerLength && (spoilerLength > max || TextFormatter.Length(text, max - spoilerLength) + spoilerLength > max))
            throw new ApiException(422, $"Validation failed: Text character limit of {max} exceeded");
    }

    internal void CheckMediaCount(int count)
    {
        if (count > instance.Value.MaxMediaAttachments)
            throw new ApiException(422, $"Cannot attach more than {instance.Value.MaxMediaAttachments} files");
    }

    internal static void CheckNotBlank(string text, int mediaCount)
    {
        if (text.Trim().Length == 0 && mediaCount == 0)
            throw new ApiException(422, "Validation failed: Text can't be blank");
    }

    internal static string? CheckLanguage(string? language) =>
        language is not null && (language.Length is < 2 or > 8 || !language.All(c => char.IsAsciiLetter(c) || c == '-'))
            ? throw new ApiException(422, "Validation failed: Language is not a valid ISO 639 code")
            : language;

    private async Task<PostCore?> ExistingIdempotentAsync(long authorId, string key, CancellationToken ct)
    {
        var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)IdempotencyWindow.TotalMilliseconds;
        var id = await db.ReadAsync(c => c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT status_id FROM idempotency_keys WHERE account_id = @authorId AND idempotency_key = @key AND created_at >= @cutoff", new { authorId, key, cutoff }, cancellationToken: ct)), ct);
        return id is { } found ? await posts.GetAsync(found, ct) : null;
    }

    /// <summary>
    /// Deletes the caller's own post and returns it as it was, with its source text (which the post cache does not
    /// keep); 404 when it is not theirs (or not there).
    /// </summary>
    public async Task<(PostCore Post, string Source)> DeleteAsync(long authorId, long statusId, CancellationToken ct)
    {
        var core = await posts.GetAsync(statusId, ct);
        if (core is null || core.AccountId != authorId)
            throw new ApiException(404, "Record not found");
        var source = await db.WriteAsync(async w =>
        {
            // A boost's original is held first, in the order a boost and an unboost take the two rows (PostBoosts).
            if (core.ReblogOfId is { } original)
                await HoldsPostAsync(w, original);
            var gone = await w.QuerySingleOrDefaultAsync<string?>("DELETE FROM statuses WHERE id = @statusId AND account_id = @authorId RETURNING text", new { statusId, authorId });
            if (gone is null)
                return null;
            await w.ExecuteAsync("DELETE FROM status_mentions WHERE status_id = @statusId", new { statusId });
            await w.ExecuteAsync("DELETE FROM status_tags WHERE status_id = @statusId", new { statusId });
            await accounts.Store.AdjustCountsAsync(w, authorId, statuses: -1);
            if (core.InReplyToId is { } p)
            {
                await w.ExecuteAsync("UPDATE statuses SET replies_count = replies_count - 1, version = version + 1 WHERE id = @p AND replies_count > 0", new { p });
                await posts.ChangedAsync(w, p);
            }
            await media.PurgeWithPostAsync(w, await PostEditor.EverAttachedAsync(w, core));
            await w.ExecuteAsync("DELETE FROM status_edits WHERE status_id = @statusId", new { statusId });
            await pins.DeleteForPostAsync(w, core);
            if (core.ReblogOfId is { } shared)
            {
                // A boost deleted as a post (DELETE /api/v1/statuses/:boost): its original counts one boost less.
                await w.ExecuteAsync("UPDATE statuses SET reblogs_count = reblogs_count - 1, version = version + 1 WHERE id = @shared AND reblogs_count > 0", new { shared });
                await posts.ChangedAsync(w, shared);
                boostFlags.ChangedAfterCommit(w, authorId, shared);
            }
            else
                await DeleteBoostsOfAsync(w, core);
            foreach (var observer in observers)
                await observer.PostDeletedAsync(w, core);
            w.AfterCommit(() => posts.MarkDeleted(statusId));
            profiles.RemoveAfterCommit(w, core);
            return gone;
        }, ct);
        return (core, source ?? throw new ApiException(404, "Record not found"));
    }

    /// <summary>
    /// The rest of a boost's removal inside the write that deleted its row (an unreblog, its original's delete): the
    /// booster's count, the observers (the feed's retract, the notification's undo, the live delete), the caches.
    /// </summary>
    internal async Task BoostRemovedAsync(DbWrite w, PostCore boost)
    {
        await accounts.Store.AdjustCountsAsync(w, boost.AccountId, statuses: -1);
        if (boost.ReblogOfId is { } original)
            boostFlags.ChangedAfterCommit(w, boost.AccountId, original);
        foreach (var observer in observers)
            await observer.PostDeletedAsync(w, boost);
        w.AfterCommit(() => posts.MarkDeleted(boost.Id));
        profiles.RemoveAfterCommit(w, boost);
    }

    /// <summary>Inside a post's delete: deletes its boosts (Mastodon's RemovalWorker does the same for each reblog).</summary>
    internal async Task DeleteBoostsOfAsync(DbWrite w, PostCore original)
    {
        var gone = (await w.QueryAsync<(long Id, long AccountId, long Visibility, long CreatedAt)>(
            "DELETE FROM statuses WHERE reblog_of_id = @id RETURNING id, account_id, visibility, created_at", new { id = original.Id })).ToList();
        foreach (var (id, accountId, visibility, createdAt) in gone)
        {
            await BoostRemovedAsync(w, new PostCore
            {
                Id = id, AccountId = accountId, Content = "", Visibility = (int)visibility, CreatedAt = createdAt, ReblogOfId = original.Id, ReblogOfAccountId = original.AccountId,
            });
        }
    }

    /// <summary>
    /// Inside another module's write: whether the post still exists, its row locked until that write ends on PostgreSQL,
    /// so a delete racing the write waits for it and then sees what it wrote. SQLite has one writer.
    /// </summary>
    public static async Task<bool> HoldsPostAsync(DbWrite w, long statusId) =>
        await w.ExecuteScalarAsync<long?>($"SELECT id FROM statuses WHERE id = @statusId{(w.Provider == DbProvider.Postgres ? " FOR UPDATE" : "")}", new { statusId }) is not null;

    /// <summary>The post if <paramref name="viewer"/> may see it, else null (callers answer 404 either way: no existence leak).</summary>
    public async Task<PostCore?> GetVisibleAsync(long id, long? viewer, CancellationToken ct)
    {
        var core = await posts.GetAsync(id, ct);
        if (core is null)
            return null;
        var follows = core.Visibility == Visibility.Private && viewer is { } v && v != core.AccountId && await graph.FollowsAsync(v, core.AccountId, ct);
        if (!core.VisibleTo(viewer, follows))
            return null;
        // An author who blocks the viewer hides even public posts (Mastodon's StatusPolicy#show?).
        if (viewer is { } reader && reader != core.AccountId && await blocks.BlockedByAsync(reader, core.AccountId, ct))
            return null;
        if (core.ReblogOfId is { } shared && await GetVisibleAsync(shared, viewer, ct) is null)
            return null;
        return core;
    }

    /// <summary>
    /// What a like or a bookmark of <paramref name="id"/> acts on, beside the post asked for: a boost's original, as
    /// Mastodon's <c>Favourite</c> and <c>Bookmark</c> do; null when the viewer may not see it (a boost is visible only
    /// with its original, so the original needs no second check).
    /// </summary>
    public async Task<(PostCore Asked, PostCore Target)?> GetActionTargetAsync(long id, long viewer, CancellationToken ct)
    {
        if (await GetVisibleAsync(id, viewer, ct) is not { } asked)
            return null;
        if (asked.ReblogOfId is not { } original)
            return (asked, asked);
        return await posts.GetAsync(original, ct) is { } target ? (asked, target) : null;
    }

    /// <summary>A post's mention and tag rows, each kind in one statement (a round trip, on PostgreSQL, per kind rather than per row).</summary>
    internal static async Task InsertLinksAsync(DbWrite w, long statusId, IReadOnlyCollection<long> mentionIds, IReadOnlyCollection<string> tagNames)
    {
        if (mentionIds.Count > 0)
            await w.ExecuteAsync($"INSERT INTO status_mentions (status_id, account_id) SELECT @statusId, value FROM {Sql.Rows(w.Provider, "@mentionIds")}",
                new { statusId, mentionIds = Sql.List(w.Provider, mentionIds) });
        if (tagNames.Count > 0)
            await w.ExecuteAsync($"INSERT INTO status_tags (status_id, tag) SELECT @statusId, value FROM {Sql.Rows(w.Provider, "@tagNames")}",
                new { statusId, tagNames = Sql.List(w.Provider, tagNames) });
    }

    /// <summary>The visible ones of <paramref name="cores"/>, in order; one query for the viewer's follows among private posts' authors.</summary>
    /// <param name="originalsRead">when given, takes the originals of boosts read from the post cache on the way</param>
    public async Task<List<PostCore>> FilterVisibleAsync(List<PostCore> cores, long? viewer, CancellationToken ct, Dictionary<long, PostCore>? originalsRead = null)
    {
        // Private posts of others need the follow; public and unlisted ones (most of a page) need nothing: then the list is returned as it is.
        HashSet<long>? authors = null;
        var hidden = false;
        foreach (var c in cores)
        {
            if (c.Visibility == Visibility.Private && viewer is { } v && v != c.AccountId)
                (authors ??= []).Add(c.AccountId);
            else if (!c.VisibleTo(viewer, false))
                hidden = true;
        }
        if (authors is null && !hidden)
            return await OriginalsVisibleAsync(cores, viewer, ct, originalsRead);
        var followed = viewer is { } me && authors is not null ? await graph.FollowedAmongAsync(me, authors, ct) : [];
        return await OriginalsVisibleAsync(cores.FindAll(c => c.VisibleTo(viewer, followed.Contains(c.AccountId))), viewer, ct, originalsRead);
    }

    /// <summary>
    /// <paramref name="cores"/> without the boosts whose original is gone or hidden from <paramref name="viewer"/>; the list
    /// itself (nothing read) when it holds no boost. The originals come from the post cache, where the page's rendering
    /// finds them again.
    /// </summary>
    private async Task<List<PostCore>> OriginalsVisibleAsync(List<PostCore> cores, long? viewer, CancellationToken ct, Dictionary<long, PostCore>? originalsRead = null)
    {
        List<long>? originalIds = null;
        foreach (var c in cores)
        {
            if (c.ReblogOfId is { } o)
                (originalIds ??= []).Add(o);
        }
        if (originalIds is null)
            return cores;
        var originals = await posts.GetOrderedAsync(originalIds, ct);
        if (originalsRead is not null)
        {
            foreach (var o in originals)
                originalsRead[o.Id] = o;
        }
        var visible = (await FilterVisibleAsync(originals, viewer, ct)).Select(o => o.Id).ToHashSet();
        return cores.FindAll(c => c.ReblogOfId is not { } o || visible.Contains(o));
    }

    /// <summary>
    /// The account's pinned posts that <paramref name="viewer"/> may see, newest pin first, within the page's cursors
    /// (status ids) and limit: at most <see cref="StatusPins.MaxPins"/>, so one page.
    /// </summary>
    public async Task<List<PostCore>> PinnedPageAsync(long accountId, long? viewer, Page page, CancellationToken ct)
    {
        var (lower, _) = page.LowerBound;
        var pinned = (await pins.PinnedAsync(accountId, ct)).Where(id => (page.MaxId is not { } max || id < max) && (lower is not { } min || id > min)).Take(page.Limit).ToList();
        return await FilterVisibleAsync(await posts.GetOrderedAsync(pinned, ct), viewer, ct);
    }

    public sealed record PageFilter(bool ExcludeReplies, bool OnlyMedia, string? Tagged, bool ExcludeReblogs = false);

    /// <summary>A page of an account's posts that <paramref name="viewer"/> may see, newest first (a profile's posts, one's own or another's).</summary>
    /// <param name="originalsRead">when given, takes the originals of the page's boosts, read from the post cache on the way</param>
    public async Task<List<PostCore>> AccountPageAsync(long accountId, long? viewer, Page page, PageFilter filter, CancellationToken ct,
        Dictionary<long, PostCore>? originalsRead = null)
    {
        // An account that blocks the viewer shows them no posts (Mastodon's AccountStatusesFilter: an empty page). The
        // common request (someone else's profile, newest first or paging down, no filter) is read from the profile's
        // cached ids, beside that check (one round trip's wait on Redis); the rest, and what the cached ids cannot
        // answer, from the database.
        var blockedRead = viewer is { } reader && reader != accountId ? blocks.BlockedByAsync(reader, accountId, ct) : null;
        var cachedRead = viewer != accountId && page.LowerBound.Lower is null && filter is { ExcludeReplies: false, OnlyMedia: false, Tagged: null, ExcludeReblogs: false }
            ? CachedAccountPageAsync(accountId, viewer, page, originalsRead, ct)
            : null;
        if (blockedRead is not null && await blockedRead)
            return [];
        if (cachedRead is not null && await cachedRead is { } cached)
            return cached;
        var owner = viewer == accountId;
        var follower = !owner && viewer is { } v && await graph.FollowsAsync(v, accountId, ct);
        // Direct posts are on their author's own page only (the mentioned have them in their home and conversations), as the profile cache lists them.
        var visible = owner ? "visibility <= 3" : follower ? "visibility <= 2" : "(visibility <= 1 OR (visibility = 2 AND id IN (SELECT status_id FROM status_mentions WHERE account_id = @viewer)))";
        var (lower, ascending) = page.LowerBound;
        var sql = $"""
            SELECT id FROM statuses
            WHERE account_id = @accountId AND {visible}
            {(page.MaxId is null ? "" : "AND id < @max")} {(lower is null ? "" : "AND id > @lower")}
            {(filter.ExcludeReplies ? "AND (in_reply_to_id IS NULL OR in_reply_to_account_id = account_id)" : "")}
            {(filter.OnlyMedia ? "AND has_media = 1" : "")} {(filter.ExcludeReblogs ? "AND reblog_of_id IS NULL" : "")}
            {(filter.Tagged is null ? "" : "AND id IN (SELECT status_id FROM status_tags WHERE tag = @tag)")}
            ORDER BY id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """;
        var pageIds = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql,
            new { accountId, viewer = viewer ?? 0, max = page.MaxId, lower, limit = page.Limit, tag = filter.Tagged is { } tagged ? Hashtags.Normalize(tagged) ?? tagged : null }, cancellationToken: ct)), ct)).ToList();
        if (ascending)
            pageIds.Reverse();
        return await OriginalsVisibleAsync(await posts.GetOrderedAsync(pageIds, ct), viewer, ct, originalsRead);
    }

    /// <summary>
    /// A page of another's profile from <see cref="ProfileCache"/>: the posts below the cursor, visibility applied as
    /// the database query would (private ones only to followers and the mentioned), reading on while some were hidden
    /// or deleted; null to fall back to the database.
    /// </summary>
    private async Task<List<PostCore>?> CachedAccountPageAsync(long accountId, long? viewer, Page page, Dictionary<long, PostCore>? originalsRead, CancellationToken ct)
    {
        var result = new List<PostCore>(page.Limit);
        var max = page.MaxId;
        for (var round = 0; round < 4; round++)
        {
            if (await profiles.RangeAsync(accountId, max, page.Limit - result.Count, ct) is not { } range)
                return null;
            var (ids, end) = range;
            if (ids.Length > 0)
            {
                result.AddRange(await FilterVisibleAsync(await posts.GetOrderedAsync(ids, ct), viewer, ct, originalsRead));
                max = ids[^1];
            }
            if (end || result.Count >= page.Limit)
                return result;
        }
        return null;
    }

    /// <summary>
    /// Newest post ids of <paramref name="authors"/> that their followers see in a home feed (public, unlisted,
    /// private; not direct), strictly between the bounds; for feed rebuilds and the pull side of hybrid fan-out.
    /// One query on (account_id, id).
    /// </summary>
    public async Task<List<long>> RecentForFollowersAsync(IReadOnlyCollection<long> authors, long? maxExclusive, long? minExclusive, int limit, bool ascending, CancellationToken ct)
    {
        if (authors.Count == 0 || limit <= 0)
            return [];
        var sql = $"""
            SELECT id FROM statuses WHERE account_id {Sql.In(db.Provider, "@authors")} AND visibility <= 2
            {(maxExclusive is null ? "" : "AND id < @max")} {(minExclusive is null ? "" : "AND id > @min")}
            ORDER BY id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """;
        return (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql,
            new { authors = Sql.List(db.Provider, authors), max = maxExclusive, min = minExclusive, limit }, cancellationToken: ct)), ct)).ToList();
    }

    /// <summary>
    /// Newest ids of the direct posts <paramref name="me"/> wrote or is mentioned in, strictly between the bounds: the
    /// part of a home feed that no follow brings (feed rebuilds). Two index range scans, on (account_id, id) and the mentions' (account_id, status_id).
    /// </summary>
    public async Task<List<long>> RecentDirectAsync(long me, long? maxExclusive, long? minExclusive, int limit, bool ascending, CancellationToken ct)
    {
        if (limit <= 0)
            return [];
        var order = ascending ? "ASC" : "DESC";
        var sql = $"""
            SELECT id FROM (
                SELECT * FROM (SELECT id FROM statuses WHERE account_id = @me AND visibility = 3
                    {(maxExclusive is null ? "" : "AND id < @max")} {(minExclusive is null ? "" : "AND id > @min")} ORDER BY id {order} LIMIT @limit) AS own
                UNION
                SELECT * FROM (SELECT m.status_id AS id FROM status_mentions m JOIN statuses s ON s.id = m.status_id WHERE m.account_id = @me AND s.visibility = 3
                    {(maxExclusive is null ? "" : "AND m.status_id < @max")} {(minExclusive is null ? "" : "AND m.status_id > @min")} ORDER BY m.status_id {order} LIMIT @limit) AS mentioned
            ) AS u ORDER BY id {order} LIMIT @limit
            """;
        return (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql,
            new { me, max = maxExclusive, min = minExclusive, limit }, cancellationToken: ct)), ct)).ToList();
    }

    /// <summary>The local public timeline: public posts, no replies to others, newest first.</summary>
    public async Task<List<PostCore>> PublicPageAsync(Page page, bool onlyMedia, CancellationToken ct)
    {
        var (lower, ascending) = page.LowerBound;
        var sql = $"""
            SELECT id FROM statuses WHERE visibility = 0 AND (in_reply_to_id IS NULL OR in_reply_to_account_id = account_id) AND reblog_of_id IS NULL
            {(page.MaxId is null ? "" : "AND id < @max")} {(lower is null ? "" : "AND id > @lower")} {(onlyMedia ? "AND has_media = 1" : "")}
            ORDER BY id {(ascending ? "ASC" : "DESC")} LIMIT @limit
            """;
        var pageIds = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(sql, new { max = page.MaxId, lower, limit = page.Limit }, cancellationToken: ct)), ct)).ToList();
        if (ascending)
            pageIds.Reverse();
        return await posts.GetOrderedAsync(pageIds, ct);
    }

    /// <summary>A thread around a post: its visible ancestors (root first) and descendants (depth first, in reply order), bounded like Mastodon.</summary>
    public async Task<(List<PostCore> Ancestors, List<PostCore> Descendants)> ContextAsync(PostCore post, long? viewer, CancellationToken ct)
    {
        var ancestorLimit = viewer is null ? 40 : 4096;
        var descendantLimit = viewer is null ? 60 : 4096;
        var ancestors = new List<PostCore>();
        var next = post.InReplyToId;
        while (next is { } id && ancestors.Count < ancestorLimit)
        {
            var parent = await posts.GetAsync(id, ct);
            if (parent is null)
                break;
            ancestors.Add(parent);
            next = parent.InReplyToId;
        }
        ancestors.Reverse();

        var children = new Dictionary<long, List<long>>();
        var frontier = new List<long> { post.Id };
        var total = 0;
        for (var depth = 0; depth < 20 && frontier.Count > 0 && total < descendantLimit; depth++)
        {
            var level = (await db.ReadAsync(c => c.QueryAsync<(long Id, long Parent)>(new CommandDefinition(
                $"SELECT id, in_reply_to_id FROM statuses WHERE in_reply_to_id {Sql.In(db.Provider, "@frontier")} ORDER BY id LIMIT @limit",
                new { frontier = Sql.List(db.Provider, frontier), limit = descendantLimit - total }, cancellationToken: ct)), ct)).ToList();
            foreach (var (id, parentId) in level)
            {
                if (!children.TryGetValue(parentId, out var list))
                    children[parentId] = list = [];
                list.Add(id);
            }
            total += level.Count;
            frontier = level.Select(l => l.Id).ToList();
        }
        var order = new List<long>();
        void Walk(long id)
        {
            foreach (var child in children.GetValueOrDefault(id) ?? [])
            {
                order.Add(child);
                Walk(child);
            }
        }
        Walk(post.Id);
        var descendants = await posts.GetOrderedAsync(order, ct);
        return (await FilterVisibleAsync(ancestors, viewer, ct), await FilterVisibleAsync(descendants, viewer, ct));
    }
}

/// <summary>Modules that react to posts (the feed's fan-out, likes' cleanup) write their part in the post's own transaction.</summary>
public interface IPostObserver
{
    Task PostCreatedAsync(DbWrite write, PostCore post);

    Task PostDeletedAsync(DbWrite write, PostCore post);

    /// <summary>An edit of <paramref name="post"/> (its new version) is being written in <paramref name="write"/>.</summary>
    Task PostEditedAsync(DbWrite write, PostCore post) => Task.CompletedTask;
}
