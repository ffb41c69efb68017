using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Media;

namespace Lenta.Server.Posts;

/// <summary>Viewer-specific facts about posts that other modules own (likes).</summary>
public interface IStatusViewerFacts
{
    /// <summary>Like counts for <paramref name="statusIds"/>, and which of them <paramref name="viewer"/> liked.</summary>
    Task<(IReadOnlyDictionary<long, long> Counts, IReadOnlySet<long> Liked)> LikesAsync(IReadOnlyList<long> statusIds, long? viewer, CancellationToken ct);
}

/// <summary>Which posts a viewer bookmarked (the Bookmarks module), one call per page.</summary>
public interface IStatusBookmarks
{
    Task<IReadOnlySet<long>> BookmarkedAsync(IReadOnlyList<long> statusIds, long viewer, CancellationToken ct);
}

/// <summary>
/// Builds Status entities for a page of posts with a fixed number of store round trips whatever the page size:
/// one for the authors and mentioned accounts, one for like counts and the viewer's likes, one for media.
/// <see cref="WriteJsonAsync"/> writes the same JSON without building entities: each post's viewer-independent part
/// is rendered once and kept with the cached post (<see cref="PostCore.Json"/>), each author's Account JSON once per
/// cached account row (<see cref="AccountRow.Json"/>); per request only counts, flags and media are written.
/// </summary>
public sealed class StatusPresenter(AccountService accounts, AccountPresenter accountPresenter, PublicUrls urls, IEnumerable<IStatusViewerFacts> facts,
    IEnumerable<IStatusBookmarks> bookmarks, StatusMedia media, PostCache posts, StatusPins pins, PostBoosts boosts)
{
    private static readonly byte[] TailStart = ",\"favourites_count\":"u8.ToArray();

    public async Task<List<StatusEntity>> PresentAsync(IReadOnlyList<PostCore> shown, HttpContext context, CancellationToken ct)
    {
        var (cores, originals) = await WithOriginalsAsync(shown, ct);
        var page = await LoadAsync(cores, context, ct);
        var contents = await ForgottenContentsAsync(cores, null, ct);
        var presentedAccounts = new Dictionary<long, AccountEntity>();
        var result = new List<StatusEntity>(cores.Count);
        var byId = new Dictionary<long, StatusEntity>();
        foreach (var c in cores)
        {
            if (!page.Accounts.TryGetValue(c.AccountId, out var author))
                continue; // the author is gone: the post goes with them
            if (!presentedAccounts.TryGetValue(c.AccountId, out var account))
                presentedAccounts[c.AccountId] = account = accountPresenter.Present(author, context);
            var entity = Invariant(c, await ContentAsync(c, contents, ct), author, page);
            var own = page.Viewer == c.AccountId;
            entity.FavouritesCount = page.LikeCounts.GetValueOrDefault(c.Id);
            entity.Favourited = page.Viewer is null ? null : page.Liked.Contains(c.Id);
            entity.Reblogged = page.Viewer is null ? null : page.Reblogged.Contains(c.Id);
            entity.Muted = page.Viewer is null ? null : false;
            entity.Bookmarked = page.Viewer is null ? null : page.Bookmarked.Contains(c.Id);
            entity.Pinned = own && c.Visibility != Visibility.Direct ? page.Pinned.Contains(c.Id) : null;
            entity.Filtered = page.Viewer is null ? null : [];
            entity.Application = own && c.ApplicationName is not null ? new StatusApplication(c.ApplicationName, c.ApplicationWebsite) : null;
            entity.Account = account;
            entity.MediaAttachments = c.MediaIds.Where(page.Attachments.ContainsKey).Select(id => page.Attachments[id]).ToArray();
            byId[c.Id] = entity;
        }
        foreach (var c in shown)
        {
            if (!byId.TryGetValue(c.Id, out var entity))
                continue;
            if (c.ReblogOfId is { } o)
            {
                if (!byId.TryGetValue(o, out var original))
                    continue; // the original is gone: so is the boost
                entity.Reblog = original;
            }
            result.Add(entity);
        }
        return result;
    }

    /// <summary>
    /// <paramref name="shown"/> followed by the originals of its boosts that it does not hold itself (from the post cache,
    /// where the page's visibility check just read them), and those originals by id.
    /// </summary>
    private async Task<(IReadOnlyList<PostCore> All, IReadOnlyDictionary<long, PostCore> Originals)> WithOriginalsAsync(IReadOnlyList<PostCore> shown, CancellationToken ct,
        IReadOnlyDictionary<long, PostCore>? originalsRead = null)
    {
        List<long>? ids = null;
        foreach (var c in shown)
        {
            if (c.ReblogOfId is { } o)
                (ids ??= []).Add(o);
        }
        if (ids is null)
            return (shown, NoOriginals);
        var originals = await posts.GetManyAsync(ids, originalsRead, ct);
        var all = new List<PostCore>(shown);
        var held = shown.Select(c => c.Id).ToHashSet();
        all.AddRange(originals.Values.Where(o => held.Add(o.Id)));
        return (all, originals);
    }

    private static readonly IReadOnlyDictionary<long, PostCore> NoOriginals = new Dictionary<long, PostCore>();

    /// <summary>An answer carrying JSON that <see cref="WriteJsonAsync"/> wrote.</summary>
    public static IResult Json(PooledJson json) => json;

    public async Task<StatusEntity?> PresentOneAsync(PostCore core, HttpContext context, CancellationToken ct) =>
        (await PresentAsync([core], context, ct)).FirstOrDefault();

    /// <summary>The JSON of <see cref="PresentAsync"/> (an array, or the one status when <paramref name="single"/>), written from cached fragments.</summary>
    /// <param name="viewerLikes">the viewer's like of the (single) post when the caller just set it (favourite/unfavourite answer), so it is not looked up</param>
    /// <param name="viewerBookmarked">likewise the viewer's bookmark of every post (bookmark answers, the bookmarks list)</param>
    /// <param name="originalsRead">originals of boosts the caller already read from the post cache in this request (not read again)</param>
    public async Task<PooledJson> WriteJsonAsync(IReadOnlyList<PostCore> cores, HttpContext context, bool single, CancellationToken ct, bool? viewerLikes = null,
        bool? viewerBookmarked = null, IReadOnlyDictionary<long, PostCore>? originalsRead = null)
    {
        var (all, originals) = await WithOriginalsAsync(cores, ct, originalsRead);
        var page = await LoadAsync(all, context, ct, viewerLikes, skipRenderedMentions: true, viewerBookmarked);
        var contents = await ForgottenContentsAsync(all, page.BaseUrl, ct);
        var output = new PooledJson(cores.Count * 3072 + 2);
        if (!single)
            output.Write("["u8);
        var first = true;
        foreach (var c in cores)
        {
            if (!page.Accounts.TryGetValue(c.AccountId, out var author))
                continue;
            PostCore? original = null;
            AccountRow? originalAuthor = null;
            if (c.ReblogOfId is { } o && (!originals.TryGetValue(o, out original) || !page.Accounts.TryGetValue(original.AccountId, out originalAuthor)))
                continue; // the original is gone: so is the boost
            if (!first)
                output.Write(","u8);
            first = false;
            await WriteStatusAsync(output, c, author, page, contents, ct);
            if (original is not null)
            {
                await WriteStatusAsync(output, original, originalAuthor!, page, contents, ct);
                output.Write(",\"reblog\":null}}"u8);
            }
            else
                output.Write(",\"reblog\":null}"u8);
            if (single)
                break;
        }
        if (!single)
            output.Write("]"u8);
        return output;
    }

    /// <summary>A status up to its <c>reblog</c>: its cached fragment (rendered now if it has none for this host), then its tail.</summary>
    private async Task WriteStatusAsync(PooledJson output, PostCore c, AccountRow author, Page page, IReadOnlyDictionary<long, string> contents, CancellationToken ct)
    {
        if (!c.Json.TryGet(page.BaseUrl, out var fragment))
        {
            if (c.MentionIds.Any(id => !page.Accounts.ContainsKey(id)))
            {
                // Its fragment went (another host rendered over it) after the page skipped its mentions: fetch them now.
                foreach (var (id, row) in await accounts.Store.GetManyAsync(c.MentionIds, ct))
                    page.Accounts[id] = row;
            }
            fragment = c.Json.Set(page.BaseUrl, Fragment(c, await ContentAsync(c, contents, ct), author, page));
            c.ForgetContent();
        }
        output.Write(fragment);
        WriteTail(output, c, author, page);
        if (c.ReblogOfId is not null)
            output.Write(",\"reblog\":"u8);
    }

    private static readonly IReadOnlyDictionary<long, string> NoContents = new Dictionary<long, string>();

    /// <summary>
    /// The stored content of the posts that let theirs go (<see cref="PostCore.Content"/>) and will be rendered — all of
    /// them, or those without a rendering for <paramref name="renderedFor"/> — in one query; none (no query, nothing
    /// allocated) on the usual page, whose posts are all rendered already.
    /// </summary>
    private async Task<IReadOnlyDictionary<long, string>> ForgottenContentsAsync(IReadOnlyList<PostCore> cores, string? renderedFor, CancellationToken ct)
    {
        List<long>? ids = null;
        foreach (var c in cores)
        {
            if (c.Content is null && (renderedFor is null || !c.Json.Has(renderedFor)))
                (ids ??= []).Add(c.Id);
        }
        return ids is null ? NoContents : await posts.ContentsAsync(ids, ct);
    }

    /// <summary>A post's content: its own, the one read for the page, or — another request rendered it and let it go after the page's read — read now.</summary>
    private async ValueTask<string> ContentAsync(PostCore c, IReadOnlyDictionary<long, string> read, CancellationToken ct) =>
        c.Content ?? read.GetValueOrDefault(c.Id) ?? (await posts.ContentsAsync([c.Id], ct)).GetValueOrDefault(c.Id) ?? "";

    /// <summary>A status's JSON up to (not including) its first viewer-dependent field: <c>{"id":…,"tags":[…],…</c> without the closing brace.</summary>
    private static byte[] Fragment(PostCore c, string content, AccountRow author, Page page)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(Invariant(c, content, author, page), PostsJson.Compact.StatusEntity);
        var cut = json.AsSpan().IndexOf(TailStart);
        return json.AsSpan(0, cut).ToArray();
    }

    /// <summary>Counts, the viewer's flags, the application (own posts), the account and media — as the entity would serialize them; the caller writes <c>reblog</c> and the closing brace.</summary>
    private void WriteTail(PooledJson o, PostCore c, AccountRow author, Page page)
    {
        var own = page.Viewer == c.AccountId;
        o.Write(TailStart);
        var digits = o.GetSpan(20);
        Utf8Formatter.TryFormat(page.LikeCounts.GetValueOrDefault(c.Id), digits, out var written);
        o.Advance(written);
        if (page.Viewer is not null)
        {
            o.Write(page.Liked.Contains(c.Id) ? ",\"favourited\":true"u8 : ",\"favourited\":false"u8);
            o.Write(page.Reblogged.Contains(c.Id) ? ",\"reblogged\":true"u8 : ",\"reblogged\":false"u8);
            o.Write(",\"muted\":false"u8);
            o.Write(page.Bookmarked.Contains(c.Id) ? ",\"bookmarked\":true"u8 : ",\"bookmarked\":false"u8);
        }
        if (own && c.Visibility != Visibility.Direct)
            o.Write(page.Pinned.Contains(c.Id) ? ",\"pinned\":true"u8 : ",\"pinned\":false"u8);
        if (page.Viewer is not null)
            o.Write(",\"filtered\":[]"u8);
        if (own && c.ApplicationName is not null)
        {
            o.Write(",\"application\":"u8);
            o.Write(JsonSerializer.SerializeToUtf8Bytes(new StatusApplication(c.ApplicationName, c.ApplicationWebsite), PostsJson.Default.StatusApplication));
        }
        o.Write(",\"account\":"u8);
        if (!author.Json.TryGet(page.BaseUrl, out var accountJson))
            accountJson = author.Json.Set(page.BaseUrl, JsonSerializer.SerializeToUtf8Bytes(accountPresenter.Present(author, page.BaseUrl), PostsJson.Compact.AccountEntity));
        o.Write(accountJson);
        o.Write(",\"media_attachments\":"u8);
        if (c.MediaIds.Length == 0)
            o.Write("[]"u8);
        else
            o.Write(JsonSerializer.SerializeToUtf8Bytes(c.MediaIds.Where(page.Attachments.ContainsKey).Select(id => page.Attachments[id]).ToArray(), PostsJson.Default.MediaAttachmentEntityArray));
    }

    /// <summary>The fields that depend only on the post, its author's username and the mentioned accounts.</summary>
    private static StatusEntity Invariant(PostCore c, string content, AccountRow author, Page page) => new()
    {
        Id = MastodonFormat.Id(c.Id),
        CreatedAt = MastodonFormat.DateTime(c.CreatedAt),
        InReplyToId = c.InReplyToId is { } r ? MastodonFormat.Id(r) : null,
        InReplyToAccountId = c.InReplyToAccountId is { } ra ? MastodonFormat.Id(ra) : null,
        Sensitive = c.Sensitive,
        SpoilerText = c.SpoilerText,
        Visibility = Visibility.Name(c.Visibility),
        Language = c.Language,
        Uri = $"{page.BaseUrl}/users/{author.Username}/statuses/{c.Id}",
        Url = $"{page.BaseUrl}/@{author.Username}/{c.Id}",
        RepliesCount = c.RepliesCount,
        ReblogsCount = c.ReblogsCount,
        EditedAt = c.EditedAt is { } e ? MastodonFormat.DateTime(e) : null,
        Content = content,
        Mentions = c.MentionIds.Where(page.Accounts.ContainsKey).Select(id => page.Accounts[id])
            .Select(m => new StatusMention(MastodonFormat.Id(m.Id), m.Username, $"{page.BaseUrl}/@{m.Username}", m.Username)).ToArray(),
        Tags = c.TagNames.Select(t => new StatusTag(t, $"{page.BaseUrl}/tags/{Uri.EscapeDataString(t)}")).ToArray(),
    };

    private async Task<Page> LoadAsync(IReadOnlyList<PostCore> cores, HttpContext context, CancellationToken ct, bool? viewerLikes = null, bool skipRenderedMentions = false,
        bool? viewerBookmarked = null)
    {
        var viewer = context.Caller().AccountId;
        var baseUrl = urls.Base(context);
        // Mentioned accounts are needed only to render a post's fragment; most posts have theirs already.
        var accountIds = new List<long>(cores.Count);
        var statusIds = new List<long>(cores.Count);
        List<long>? mediaIds = null;
        foreach (var c in cores)
        {
            statusIds.Add(c.Id);
            if (!accountIds.Contains(c.AccountId))
                accountIds.Add(c.AccountId);
            if (!skipRenderedMentions || !c.Json.Has(baseUrl))
            {
                foreach (var m in c.MentionIds)
                {
                    if (!accountIds.Contains(m))
                        accountIds.Add(m);
                }
            }
            foreach (var m in c.MediaIds)
            {
                if (!(mediaIds ??= []).Contains(m))
                    mediaIds.Add(m);
            }
        }
        // The page's facts come from different stores and keys, independent of each other: asked side by side, so on a
        // remote cache (Redis) they cost one round trip's wait rather than one each.
        var rowsRead = accounts.Store.GetManyAsync(accountIds, ct);
        var likesRead = LikesAsync(statusIds, viewerLikes is null ? viewer : null, ct);
        var bookmarkedRead = viewerBookmarked is null && viewer is { } me && statusIds.Count > 0 ? BookmarkedAsync(statusIds, me, ct) : null;
        // The pinned flag is the author's only: their pins are read only when the page holds some of their posts.
        var pinnedRead = viewer is { } author && cores.Any(c => c.AccountId == author) ? pins.PinnedAsync(author, ct) : null;
        var attachmentsRead = mediaIds is null ? null : media.PresentAsync(mediaIds, baseUrl, ct);
        // Only a post somebody boosted can be boosted by the viewer: the count (exact, see PostBoosts) spares the query for the rest.
        var rebloggedRead = viewer is { } booster && cores.Any(c => c.ReblogsCount > 0)
            ? boosts.RebloggedAsync(booster, cores.Where(c => c.ReblogsCount > 0).Select(c => c.Id).ToList(), ct)
            : null;

        var rows = await rowsRead;
        var (likeCounts, liked) = await likesRead;
        if (viewerLikes is { } likes)
            liked = likes ? statusIds.ToHashSet() : NoIds;
        var bookmarked = viewerBookmarked is { } all ? (all ? statusIds.ToHashSet() : NoIds) : bookmarkedRead is null ? NoIds : await bookmarkedRead;
        IReadOnlySet<long> pinned = pinnedRead is null ? NoIds : (await pinnedRead).ToHashSet();
        var attachments = attachmentsRead is null ? NoAttachments : await attachmentsRead;
        var reblogged = rebloggedRead is null ? NoIds : await rebloggedRead;
        return new Page(viewer, baseUrl, rows, likeCounts, liked, bookmarked, pinned, attachments, reblogged);
    }

    private async Task<(IReadOnlyDictionary<long, long> Counts, IReadOnlySet<long> Liked)> LikesAsync(List<long> statusIds, long? viewer, CancellationToken ct)
    {
        (IReadOnlyDictionary<long, long> Counts, IReadOnlySet<long> Liked) result = (NoCounts, NoIds);
        foreach (var f in facts)
            result = await f.LikesAsync(statusIds, viewer, ct);
        return result;
    }

    private async Task<IReadOnlySet<long>> BookmarkedAsync(List<long> statusIds, long viewer, CancellationToken ct)
    {
        var bookmarked = NoIds;
        foreach (var b in bookmarks)
            bookmarked = await b.BookmarkedAsync(statusIds, viewer, ct);
        return bookmarked;
    }

    private static readonly IReadOnlyDictionary<long, long> NoCounts = new Dictionary<long, long>();
    private static readonly IReadOnlySet<long> NoIds = new HashSet<long>();
    private static readonly IReadOnlyDictionary<long, MediaAttachmentEntity> NoAttachments = new Dictionary<long, MediaAttachmentEntity>();

    private sealed record Page(
        long? Viewer,
        string BaseUrl,
        Dictionary<long, AccountRow> Accounts,
        IReadOnlyDictionary<long, long> LikeCounts,
        IReadOnlySet<long> Liked,
        IReadOnlySet<long> Bookmarked,
        IReadOnlySet<long> Pinned,
        IReadOnlyDictionary<long, MediaAttachmentEntity> Attachments,
        IReadOnlySet<long> Reblogged);
}
