using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>
/// The post cache: <c>post:{id}</c> holds a post's <see cref="PostCore"/> with the row's <c>version</c>, which every
/// change of the row bumps (a reply or boost counted, an edit). Readers fill misses and writers refresh after their
/// commit the same way, with <see cref="ICache.SetManyIfNewerAsync"/>: whichever comes last, the newest version stays,
/// so a reader that read the row before a change can never put the old one back, and a post that keeps changing (a
/// popular post counting boosts and replies) stays cached instead of sending every reader to the database. A deleted
/// post is a tombstone at the highest version, which answers "gone" without a query and which no fill replaces.
/// </summary>
public sealed class PostCache(ICache cache, IDatabase db)
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private static readonly TimeSpan DeletedFor = TimeSpan.FromHours(1);
    /// <summary>The tombstone processes of earlier versions wrote after a change (they read the database meanwhile); a miss.</summary>
    private static readonly byte[] Changed = "~changed"u8.ToArray();
    private static readonly byte[] Deleted = "~deleted"u8.ToArray();

    private const string KeyPrefix = "post:";

    private static string Key(long id) => KeyPrefix + id;

    private static readonly object ChangedMark = new();

    private const string Columns = """
        id, account_id, content, spoiler_text, visibility, sensitive, language, in_reply_to_id, in_reply_to_account_id, mentions, tags, has_media,
        media, application_name, application_website, replies_count, reblogs_count, created_at, edited_at, reblog_of_id, reblog_of_account_id, version
        """;
    private static readonly object DeletedMark = new();

    public async Task<PostCore?> GetAsync(long id, CancellationToken ct = default) =>
        (await GetManyAsync([id], ct)).GetValueOrDefault(id);

    /// <summary>The posts that exist among <paramref name="ids"/>: one cache round trip, and one query for the misses.</summary>
    public async Task<Dictionary<long, PostCore>> GetManyAsync(IReadOnlyList<long> ids, CancellationToken ct = default)
    {
        var result = new Dictionary<long, PostCore>(ids.Count);
        if (ids.Count == 0)
            return result;
        var cached = await cache.GetManyDecodedAsync(KeyPrefix, ids, Decode, ct);
        List<long>? misses = null;
        for (var i = 0; i < ids.Count; i++)
        {
            if (cached[i] is PostCore core)
                result[ids[i]] = core;
            else if (cached[i] is null || ReferenceEquals(cached[i], ChangedMark))
                (misses ??= []).Add(ids[i]);
            // else deleted
        }
        if (misses is null)
            return result;
        var loaded = await LoadAsync(misses, ct);
        foreach (var core in loaded)
            result[core.Id] = core;
        if (loaded.Count > 0)
            await cache.SetManyIfNewerAsync(loaded.ConvertAll(Versioned), Keep, ct);
        return result;
    }

    /// <summary>
    /// <see cref="GetManyAsync(IReadOnlyList{long}, CancellationToken)"/>, answered from <paramref name="readBefore"/> (what
    /// this request already read from the cache) when it holds every one of <paramref name="ids"/>.
    /// </summary>
    public async Task<Dictionary<long, PostCore>> GetManyAsync(IReadOnlyList<long> ids, IReadOnlyDictionary<long, PostCore>? readBefore, CancellationToken ct)
    {
        if (readBefore is null || !ids.All(readBefore.ContainsKey))
            return await GetManyAsync(ids, ct);
        var result = new Dictionary<long, PostCore>(ids.Count);
        foreach (var id in ids)
            result[id] = readBefore[id];
        return result;
    }

    /// <summary>The posts that exist among <paramref name="ids"/>, in the order of <paramref name="ids"/>.</summary>
    public async Task<List<PostCore>> GetOrderedAsync(IReadOnlyList<long> ids, CancellationToken ct = default)
    {
        var found = await GetManyAsync(ids, ct);
        var result = new List<PostCore>(found.Count);
        foreach (var id in ids)
        {
            if (found.TryGetValue(id, out var core))
                result.Add(core);
        }
        return result;
    }

    /// <summary>A cached post, or the mark of a tombstone.</summary>
    private static object Decode(byte[] bytes) =>
        bytes.AsSpan().SequenceEqual(Changed) ? ChangedMark
        : bytes.AsSpan().SequenceEqual(Deleted) ? DeletedMark
        : JsonSerializer.Deserialize(bytes, PostsJson.Default.PostCore)!;

    /// <summary>
    /// A post just committed: cached as written, so its followers' first reads find it (add-if-absent: a reply or a
    /// delete that raced ahead left its tombstone, which stays). The in-process cache keeps this very object, so the
    /// rendering its author's answer makes next is the one its readers use: no decoding and no second rendering.
    /// </summary>
    public Task PrimeAsync(PostCore core) =>
        cache.AddDecodedAsync(Key(core.Id), JsonSerializer.SerializeToUtf8Bytes(core, PostsJson.Default.PostCore), core, Keep).AsTask();

    /// <summary>
    /// In the write that changed the post's row (and bumped its <c>version</c>): reads the row back in the transaction and,
    /// after the commit, caches it unless a newer version is there. Every reader sees the change from then on.
    /// </summary>
    public async Task ChangedAsync(DbWrite w, long id)
    {
        if (await w.QuerySingleOrDefaultAsync<PostRow>($"SELECT {Columns} FROM statuses WHERE id = @id", new { id }) is not { } row)
            return;
        var core = row.ToCore();
        w.AfterCommit(() => cache.SetManyIfNewerAsync([Versioned(core)], Keep).AsTask());
    }

    /// <summary>After a post was deleted: readers see it gone at once, without asking the database (no fill replaces the highest version).</summary>
    public Task MarkDeleted(long id) => cache.SetManyIfNewerAsync([new VersionedValue(Key(id), Deleted, long.MaxValue)], DeletedFor).AsTask();

    private static VersionedValue Versioned(PostCore core) =>
        new(Key(core.Id), JsonSerializer.SerializeToUtf8Bytes(core, PostsJson.Default.PostCore), core.Version);

    /// <summary>The stored HTML content of posts whose cached copy let it go after rendering (<see cref="PostCore.Content"/>).</summary>
    public Task<Dictionary<long, string>> ContentsAsync(IReadOnlyCollection<long> ids, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<(long Id, string Content)>(new CommandDefinition(
            $"SELECT id, content FROM statuses WHERE id {Sql.In(db.Provider, "@ids")}", new { ids = Sql.List(db.Provider, ids) }, cancellationToken: ct)))
            .ToDictionary(r => r.Id, r => r.Content), ct);

    private Task<List<PostCore>> LoadAsync(List<long> ids, CancellationToken ct) =>
        db.ReadAsync(async c => (await c.QueryAsync<PostRow>(new CommandDefinition(
            $"SELECT {Columns} FROM statuses WHERE id {Sql.In(db.Provider, "@ids")}", new { ids = Sql.List(db.Provider, ids) }, cancellationToken: ct))).Select(r => r.ToCore()).ToList(), ct);

    private sealed class PostRow
    {
        public long Id { get; init; }
        public long AccountId { get; init; }
        public string Content { get; init; } = "";
        public string SpoilerText { get; init; } = "";
        public int Visibility { get; init; }
        public bool Sensitive { get; init; }
        public string? Language { get; init; }
        public long? InReplyToId { get; init; }
        public long? InReplyToAccountId { get; init; }
        public string Mentions { get; init; } = "[]";
        public string Tags { get; init; } = "[]";
        public bool HasMedia { get; init; }
        public string Media { get; init; } = "[]";
        public string? ApplicationName { get; init; }
        public string? ApplicationWebsite { get; init; }
        public long RepliesCount { get; init; }
        public long ReblogsCount { get; init; }
        public long CreatedAt { get; init; }
        public long? EditedAt { get; init; }
        public long? ReblogOfId { get; init; }
        public long? ReblogOfAccountId { get; init; }
        public long Version { get; init; }

        public PostCore ToCore() => new()
        {
            Id = Id, AccountId = AccountId, Content = Content, SpoilerText = SpoilerText, Visibility = Visibility, Sensitive = Sensitive,
            Language = Language, InReplyToId = InReplyToId, InReplyToAccountId = InReplyToAccountId,
            MentionIds = JsonSerializer.Deserialize(Mentions, PostsJson.Default.Int64Array) ?? [],
            TagNames = JsonSerializer.Deserialize(Tags, PostsJson.Default.StringArray) ?? [],
            HasMedia = HasMedia, MediaIds = JsonSerializer.Deserialize(Media, PostsJson.Default.Int64Array) ?? [], ApplicationName = ApplicationName, ApplicationWebsite = ApplicationWebsite,
            RepliesCount = RepliesCount, ReblogsCount = ReblogsCount, CreatedAt = CreatedAt, EditedAt = EditedAt,
            ReblogOfId = ReblogOfId, ReblogOfAccountId = ReblogOfAccountId, Version = Version,
        };
    }
}
