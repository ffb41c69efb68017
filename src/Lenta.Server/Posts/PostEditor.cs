using System.Text.Json;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Media;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;

namespace Lenta.Server.Posts;

/// <summary>What an edit asks for (docs.joinmastodon.org/methods/statuses/#edit), already read from the request.</summary>
public sealed record PostEdit(string? Text, string? SpoilerText, bool? Sensitive, string? Language, IReadOnlyList<string> MediaIds, IReadOnlyList<MediaAttributes> MediaAttributes);

/// <summary>One <c>media_attributes[]</c> entry: alt text and focus of a medium of the edited post.</summary>
public sealed record MediaAttributes(string Id, string? Description, string? Focus);

/// <summary>One version of a post as <c>status_edits</c> keeps it.</summary>
public sealed record PostVersion(string Content, string SpoilerText, bool Sensitive, long[] MediaIds, string?[] MediaDescriptions, long CreatedAt);

/// <summary>
/// Editing a post (Mastodon's UpdateStatusService): the edit replaces text, content warning, sensitivity and media as
/// sent (the language stays unless given) under compose's checks. One transaction locks the post's row (PostgreSQL;
/// SQLite has one writer), writes its first version into <c>status_edits</c> if it has none yet, updates the row, its
/// mention and tag rows and <c>edited_at</c>, attaches new media and sets alt texts, and writes the new version; after
/// the commit the post cache is marked changed, so every timeline, page and process reads the new version from then
/// on. Media taken out of a post stay attached to it (its history shows them) and go when the post is deleted.
/// </summary>
public sealed class PostEditor(IDatabase db, PostService service, PostCache posts, StatusMedia media, IdGenerator ids, TimeProvider time, IEnumerable<IPostObserver> observers)
{
    public async Task<PostCore> EditAsync(long me, long statusId, PostEdit edit, string baseUrl, CancellationToken ct)
    {
        var core = await service.GetVisibleAsync(statusId, me, ct) ?? throw new ApiException(404, "Record not found");
        if (core.AccountId != me)
            throw new ApiException(403, "This action is not allowed");
        if (core.ReblogOfId is not null)
            throw new ApiException(422, "Validation failed: A boost cannot be edited");
        var text = edit.Text ?? "";
        var spoiler = edit.SpoilerText ?? "";
        service.CheckLength(text, spoiler);
        service.CheckMediaCount(edit.MediaIds.Count);
        // Media already on the post stay; new ones must be the author's own, processed and unattached, as in compose.
        var parsed = edit.MediaIds.Select(MastodonFormat.ParseId).ToList();
        var added = edit.MediaIds.Where((_, i) => parsed[i] is not { } id || !core.MediaIds.Contains(id)).ToList();
        var addedIds = added.Count > 0 ? await media.ValidateAsync(me, added, ct) : [];
        var mediaIds = parsed.OfType<long>().Distinct().ToArray();
        await media.CheckCombinationAsync(mediaIds, ct);
        PostService.CheckNotBlank(text, mediaIds.Length);
        var language = PostService.CheckLanguage(edit.Language is { Length: > 0 } l ? l : core.Language);
        var attributes = new Dictionary<long, (string? Description, MediaFocus? Focus)>();
        foreach (var a in edit.MediaAttributes)
        {
            if (MastodonFormat.ParseId(a.Id) is { } id && mediaIds.Contains(id))
                attributes[id] = (MediaApi.CheckDescription(a.Description), MediaService.ParseFocus(a.Focus));
        }
        var formatted = await service.FormatAsync(text, baseUrl, ct);
        var before = await media.DescriptionsAsync([.. core.MediaIds, .. mediaIds], ct);
        var descriptions = mediaIds.Select(id => attributes.TryGetValue(id, out var a) && a.Description is not null ? a.Description : before.GetValueOrDefault(id)).ToArray();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var updated = new PostCore
        {
            Id = core.Id, AccountId = core.AccountId, Content = formatted.Html, SpoilerText = spoiler, Visibility = core.Visibility,
            Sensitive = (edit.Sensitive ?? false) || spoiler.Length > 0, Language = language, InReplyToId = core.InReplyToId, InReplyToAccountId = core.InReplyToAccountId,
            MentionIds = formatted.Mentions.Select(m => m.Id).ToArray(), TagNames = formatted.Tags.ToArray(),
            ApplicationName = core.ApplicationName, ApplicationWebsite = core.ApplicationWebsite, RepliesCount = core.RepliesCount, ReblogsCount = core.ReblogsCount,
            CreatedAt = core.CreatedAt, EditedAt = now, HasMedia = mediaIds.Length > 0, MediaIds = mediaIds,
        };

        await db.WriteAsync(async w =>
        {
            // The row lock orders concurrent edits of the post: each sees the versions the one before it wrote.
            var old = await w.QuerySingleOrDefaultAsync<VersionRow>($"""
                SELECT content, spoiler_text, sensitive, media, created_at FROM statuses WHERE id = @statusId AND account_id = @me
                {(w.Provider == DbProvider.Postgres ? "FOR UPDATE" : "")}
                """, new { statusId, me }) ?? throw new ApiException(404, "Record not found");
            if (await w.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_edits WHERE status_id = @statusId", new { statusId }) == 0)
            {
                var oldMedia = JsonSerializer.Deserialize(old.Media, PostsJson.Default.Int64Array) ?? [];
                await InsertVersionAsync(w, statusId, me, new PostVersion(old.Content, old.SpoilerText, old.Sensitive, oldMedia,
                    oldMedia.Select(id => before.GetValueOrDefault(id)).ToArray(), old.CreatedAt));
            }
            await w.ExecuteAsync("""
                UPDATE statuses SET text = @text, content = @Content, spoiler_text = @SpoilerText, sensitive = @sensitive, language = @Language,
                    mentions = @mentions, tags = @tags, has_media = @hasMedia, media = @media, edited_at = @now, version = version + 1
                WHERE id = @Id
                """, new
            {
                text, updated.Content, updated.SpoilerText, sensitive = updated.Sensitive ? 1 : 0, updated.Language, updated.Id, now,
                mentions = JsonSerializer.Serialize(updated.MentionIds, PostsJson.Default.Int64Array), tags = JsonSerializer.Serialize(updated.TagNames, PostsJson.Default.StringArray),
                hasMedia = updated.HasMedia ? 1 : 0, media = JsonSerializer.Serialize(updated.MediaIds, PostsJson.Default.Int64Array),
            });
            await w.ExecuteAsync("DELETE FROM status_mentions WHERE status_id = @statusId", new { statusId });
            await w.ExecuteAsync("DELETE FROM status_tags WHERE status_id = @statusId", new { statusId });
            await PostService.InsertLinksAsync(w, statusId, updated.MentionIds, updated.TagNames);
            if (addedIds.Count > 0)
                await media.AttachAsync(w, me, statusId, addedIds);
            foreach (var (id, (description, focus)) in attributes)
                await media.DescribeAsync(w, me, statusId, id, description, focus);
            await InsertVersionAsync(w, statusId, me, new PostVersion(updated.Content!, updated.SpoilerText, updated.Sensitive, updated.MediaIds, descriptions, now));
            await posts.ChangedAsync(w, statusId);
            // After the refresh above (after-commit actions run in order): an observer reading the post sees the edit.
            foreach (var observer in observers)
                await observer.PostEditedAsync(w, updated);
            return 0;
        }, ct);
        return updated;
    }

    private Task InsertVersionAsync(DbWrite w, long statusId, long accountId, PostVersion v) =>
        w.ExecuteAsync("""
            INSERT INTO status_edits (id, status_id, account_id, content, spoiler_text, sensitive, media, media_descriptions, created_at)
            VALUES (@id, @statusId, @accountId, @Content, @SpoilerText, @sensitive, @media, @descriptions, @CreatedAt)
            """, new
        {
            id = ids.Next(), statusId, accountId, v.Content, v.SpoilerText, sensitive = v.Sensitive ? 1 : 0, v.CreatedAt,
            media = JsonSerializer.Serialize(v.MediaIds, PostsJson.Default.Int64Array), descriptions = JsonSerializer.Serialize((string[])(object)v.MediaDescriptions, PostsJson.Default.StringArray),
        });

    /// <summary>The post's versions, oldest first, the original included; a post never edited has one, itself.</summary>
    public async Task<List<PostVersion>> HistoryAsync(PostCore post, CancellationToken ct)
    {
        var rows = await db.ReadAsync(c => c.QueryAsync<VersionRow>(new CommandDefinition(
            "SELECT content, spoiler_text, sensitive, media, media_descriptions, created_at FROM status_edits WHERE status_id = @id ORDER BY id", new { id = post.Id }, cancellationToken: ct)), ct);
        var versions = rows.Select(r => r.ToVersion()).ToList();
        if (versions.Count > 0)
            return versions;
        var current = await db.ReadAsync(c => c.QuerySingleOrDefaultAsync<VersionRow>(new CommandDefinition(
            "SELECT content, spoiler_text, sensitive, media, created_at FROM statuses WHERE id = @id", new { id = post.Id }, cancellationToken: ct)), ct);
        if (current is null)
            return [];
        var descriptions = await media.DescriptionsAsync(post.MediaIds, ct);
        return [current.ToVersion() with { MediaDescriptions = current.ToVersion().MediaIds.Select(id => descriptions.GetValueOrDefault(id)).ToArray() }];
    }

    /// <summary>The post's source (docs.joinmastodon.org/entities/StatusSource): its text and content warning as typed.</summary>
    public Task<(string Text, string SpoilerText)?> SourceAsync(long statusId, CancellationToken ct) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<(string Text, string SpoilerText)?>(new CommandDefinition(
            "SELECT text, spoiler_text FROM statuses WHERE id = @statusId", new { statusId }, cancellationToken: ct)), ct);

    /// <summary>Every medium the post ever showed (its edits' too), for purging with the post.</summary>
    internal static async Task<long[]> EverAttachedAsync(DbWrite w, PostCore post)
    {
        var all = new HashSet<long>(post.MediaIds);
        foreach (var json in await w.QueryAsync<string>("SELECT media FROM status_edits WHERE status_id = @id", new { id = post.Id }))
            all.UnionWith(JsonSerializer.Deserialize(json, PostsJson.Default.Int64Array) ?? []);
        return [.. all];
    }

    private sealed class VersionRow
    {
        public string Content { get; init; } = "";
        public string SpoilerText { get; init; } = "";
        public bool Sensitive { get; init; }
        public string Media { get; init; } = "[]";
        public string? MediaDescriptions { get; init; }
        public long CreatedAt { get; init; }

        public PostVersion ToVersion()
        {
            var media = JsonSerializer.Deserialize(Media, PostsJson.Default.Int64Array) ?? [];
            var descriptions = MediaDescriptions is null ? new string?[media.Length] : JsonSerializer.Deserialize(MediaDescriptions, PostsJson.Default.StringArray) ?? new string?[media.Length];
            return new PostVersion(Content, SpoilerText, Sensitive, media, descriptions, CreatedAt);
        }
    }
}
