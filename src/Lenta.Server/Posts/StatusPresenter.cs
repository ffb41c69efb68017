using Lenta.Server.Accounts;
using Lenta.Server.Api;

namespace Lenta.Server.Posts;

/// <summary>Viewer-specific facts about posts that other modules own (likes now; bookmarks, boosts later).</summary>
public interface IStatusViewerFacts
{
    /// <summary>Like counts for <paramref name="statusIds"/>, and which of them <paramref name="viewer"/> liked.</summary>
    Task<(IReadOnlyDictionary<long, long> Counts, IReadOnlySet<long> Liked)> LikesAsync(IReadOnlyList<long> statusIds, long? viewer, CancellationToken ct);
}

/// <summary>
/// Builds Status entities for a page of posts with a fixed number of store round trips whatever the page size:
/// one for the authors and mentioned accounts, one for like counts and the viewer's likes, one for media.
/// </summary>
public sealed class StatusPresenter(AccountService accounts, AccountPresenter accountPresenter, PublicUrls urls, IEnumerable<IStatusViewerFacts> facts, IStatusMedia media)
{
    public async Task<List<StatusEntity>> PresentAsync(IReadOnlyList<PostCore> cores, HttpContext context, CancellationToken ct)
    {
        var viewer = context.Caller().AccountId;
        var accountIds = cores.Select(c => c.AccountId).Concat(cores.SelectMany(c => c.MentionIds)).Distinct().ToList();
        var rows = await accounts.Store.GetManyAsync(accountIds, ct);
        var statusIds = cores.Select(c => c.Id).ToList();
        IReadOnlyDictionary<long, long> likeCounts = new Dictionary<long, long>();
        IReadOnlySet<long> liked = new HashSet<long>();
        foreach (var f in facts)
            (likeCounts, liked) = await f.LikesAsync(statusIds, viewer, ct);

        var baseUrl = urls.Base(context);
        var mediaIds = cores.SelectMany(c => c.MediaIds).Distinct().ToList();
        var attachments = mediaIds.Count == 0 ? new Dictionary<long, Media.MediaAttachmentEntity>() : await media.PresentAsync(mediaIds, baseUrl, ct);
        var presentedAccounts = new Dictionary<long, AccountEntity>();
        var result = new List<StatusEntity>(cores.Count);
        foreach (var c in cores)
        {
            if (!rows.TryGetValue(c.AccountId, out var author))
                continue; // the author is gone: the post goes with them
            if (!presentedAccounts.TryGetValue(c.AccountId, out var account))
                presentedAccounts[c.AccountId] = account = accountPresenter.Present(author, context);
            var own = viewer == c.AccountId;
            result.Add(new StatusEntity
            {
                Id = MastodonFormat.Id(c.Id),
                CreatedAt = MastodonFormat.DateTime(c.CreatedAt),
                InReplyToId = c.InReplyToId is { } r ? MastodonFormat.Id(r) : null,
                InReplyToAccountId = c.InReplyToAccountId is { } ra ? MastodonFormat.Id(ra) : null,
                Sensitive = c.Sensitive,
                SpoilerText = c.SpoilerText,
                Visibility = Visibility.Name(c.Visibility),
                Language = c.Language,
                Uri = $"{baseUrl}/users/{author.Username}/statuses/{c.Id}",
                Url = $"{baseUrl}/@{author.Username}/{c.Id}",
                RepliesCount = c.RepliesCount,
                ReblogsCount = c.ReblogsCount,
                FavouritesCount = likeCounts.GetValueOrDefault(c.Id),
                EditedAt = c.EditedAt is { } e ? MastodonFormat.DateTime(e) : null,
                Favourited = viewer is null ? null : liked.Contains(c.Id),
                Reblogged = viewer is null ? null : false,
                Muted = viewer is null ? null : false,
                Bookmarked = viewer is null ? null : false,
                Pinned = own && c.Visibility != Visibility.Direct ? false : null,
                Filtered = viewer is null ? null : [],
                Content = c.Content,
                Application = own && c.ApplicationName is not null ? new StatusApplication(c.ApplicationName, c.ApplicationWebsite) : null,
                Account = account,
                Mentions = c.MentionIds.Where(rows.ContainsKey).Select(id => rows[id])
                    .Select(m => new StatusMention(MastodonFormat.Id(m.Id), m.Username, $"{baseUrl}/@{m.Username}", m.Username)).ToArray(),
                Tags = c.TagNames.Select(t => new StatusTag(t, $"{baseUrl}/tags/{Uri.EscapeDataString(t)}")).ToArray(),
                MediaAttachments = c.MediaIds.Where(attachments.ContainsKey).Select(id => attachments[id]).ToArray(),
            });
        }
        return result;
    }

    public async Task<StatusEntity?> PresentOneAsync(PostCore core, HttpContext context, CancellationToken ct) =>
        (await PresentAsync([core], context, ct)).FirstOrDefault();
}
