using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;

namespace Lenta.Server.Tags;

/// <summary>
/// Hashtags and search: the hashtag timeline (docs.joinmastodon.org/methods/timelines/#tag), tags and following them
/// (docs.joinmastodon.org/methods/tags, /followed_tags) and <c>GET /api/v2/search</c> (docs.joinmastodon.org/methods/search):
/// accounts from the Graph module, posts by full text from the Posts module, tags by prefix from here.
/// </summary>
public static class TagsApi
{
    private const int StatusesPage = 20;
    private const int FollowedTagsPage = 100;
    private const int HistoryDays = 7;

    /// <summary>Extra tags a timeline takes in each of <c>any[]</c>, <c>all[]</c>, <c>none[]</c> (Mastodon's TagFeed::LIMIT).</summary>
    private const int ExtraTags = 4;

    public static IServiceCollection AddLentaTags(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, TagsMigrations>();
        services.AddSingleton<TagsService>();
        services.AddSingleton<IPostObserver, TagsPostObserver>();
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/tags/{name}/follow", (HttpContext c, string name, TagsService t, TaggedPosts p, PublicUrls u) => FollowAsync(c, name, true, t, p, u))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
        api.MapPost("/v1/tags/{name}/unfollow", (HttpContext c, string name, TagsService t, TaggedPosts p, PublicUrls u) => FollowAsync(c, name, false, t, p, u))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/timelines/tag/{hashtag}", TimelineAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/tags/{name}", GetAsync).RequireAuth(AuthLevel.Optional, "read", "read:follows");
        api.MapGet("/v1/followed_tags", FollowedAsync).RequireAuth(AuthLevel.User, "follow", "read", "read:follows");
        api.MapGet("/v2/search", SearchAsync).RequireAuth(AuthLevel.Optional, "read", "read:search");
    }

    private static string Name(string typed) => Hashtags.Normalize(typed) ?? throw new ApiException(404, "Record not found");

    /// <summary>
    /// Public posts with the tag (or any of <c>any[]</c>), all of <c>all[]</c>, none of <c>none[]</c>; <c>only_media</c>;
    /// <c>local</c> changes nothing (every post is local) and <c>remote</c> finds none. A name that cannot be a tag finds
    /// nothing (Mastodon answers <c>[]</c> for an unknown tag). Posts of accounts the reader blocks, mutes or is blocked by
    /// are left out at read time, as on the other timelines; the links are those of the page as read.
    /// </summary>
    private static async Task<IResult> TimelineAsync(HttpContext context, string hashtag, TaggedPosts tagged, StatusPresenter presenter, PublicUrls urls, BlocksAndMutes filters)
    {
        var page = Page.Parse(context.Request, StatusesPage);
        var p = ApiParams.FromPairs(context.Request.Query.Select(q => new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>(q.Key, q.Value)));
        List<string> Names(string key) => p.Strings(key).Select(Hashtags.Normalize).OfType<string>().Distinct().Take(ExtraTags).ToList();
        var cores = new List<PostCore>();
        if (Hashtags.Normalize(hashtag) is { } name && !QueryFlag.IsTrue(context.Request.Query["remote"]))
        {
            var query = new TagQuery(Names("any").Prepend(name).Distinct().ToList(), Names("all"), Names("none"), QueryFlag.IsTrue(context.Request.Query["only_media"]));
            cores = await tagged.PageAsync(query, page, context.RequestAborted);
        }
        var shown = cores;
        if (context.Caller().AccountId is { } reader && cores.Count > 0 && await filters.HiddenFromAsync(reader, context.RequestAborted) is { Count: > 0 } hidden)
            shown = cores.FindAll(c => !hidden.Contains(c.AccountId));
        var json = await presenter.WriteJsonAsync(shown, context, single: false, context.RequestAborted);
        if (cores.Count > 0)
            LinkHeader.Set(context, urls, cores[^1].Id, cores[0].Id, "min_id");
        return StatusPresenter.Json(json);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string name, TagsService tags, TaggedPosts tagged, PublicUrls urls) =>
        TypedResults.Json((await PresentAsync(context, [Name(name)], tags, tagged, urls))[0], TagsJson.Default.TagEntity);

    private static async Task<IResult> FollowAsync(HttpContext context, string name, bool follow, TagsService tags, TaggedPosts tagged, PublicUrls urls)
    {
        var tag = Name(name);
        await tags.SetFollowAsync(context.UserId(), tag, follow, context.RequestAborted);
        return TypedResults.Json((await PresentAsync(context, [tag], tags, tagged, urls))[0], TagsJson.Default.TagEntity);
    }

    /// <summary>The caller's followed tags, the latest followed first; Link by the follow's row id (<c>max_id</c> next, <c>since_id</c> prev).</summary>
    private static async Task<IResult> FollowedAsync(HttpContext context, TagsService tags, TaggedPosts tagged, PublicUrls urls)
    {
        var page = Page.Parse(context.Request, FollowedTagsPage);
        var rows = await tags.FollowedAsync(context.UserId(), page, context.RequestAborted);
        var history = await tagged.HistoryAsync(rows.Select(r => r.Name).ToList(), HistoryDays, context.RequestAborted);
        var baseUrl = urls.Base(context);
        var result = rows.Select(r => Entity(baseUrl, r.Name, r.TagId, history[r.Name], true)).ToList();
        if (rows.Count > 0)
            LinkHeader.Set(context, urls, rows.Count >= page.Limit ? rows[^1].FollowId : null, rows[0].FollowId, "since_id");
        return TypedResults.Json(result, TagsJson.Default.ListTagEntity);
    }

    /// <summary>Tag entities for folded names, in order: ids, a week of history and (with a user's token) the caller's follows, in three queries.</summary>
    private static async Task<List<TagEntity>> PresentAsync(HttpContext context, IReadOnlyList<string> names, TagsService tags, TaggedPosts tagged, PublicUrls urls)
    {
        var ct = context.RequestAborted;
        var ids = await tags.IdsAsync(names, ct);
        var history = await tagged.HistoryAsync(names, HistoryDays, ct);
        var followed = context.Caller().AccountId is { } me ? await tags.FollowedAmongAsync(me, names, ct) : null;
        var baseUrl = urls.Base(context);
        return names.Select(n => Entity(baseUrl, n, ids.TryGetValue(n, out var id) ? id : null, history[n], followed?.Contains(n))).ToList();
    }

    private static TagEntity Entity(string baseUrl, string name, long? id, TagDay[] history, bool? following) => new()
    {
        Id = id is { } i ? MastodonFormat.Id(i) : "",
        Name = name,
        Url = $"{baseUrl}/tags/{Uri.EscapeDataString(name)}",
        History = history.Select(d => new TagHistoryEntity(d.Day.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            d.Uses.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Accounts.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray(),
        Following = following,
        Featuring = following is null ? null : false,
    };

    /// <summary>
    /// docs.joinmastodon.org/methods/search/#v2: <c>type</c> accounts, statuses or hashtags (none: all three), <c>limit</c>
    /// (20, at most 40) and <c>offset</c> per type, <c>following</c>, <c>account_id</c> (statuses). Without a user's token
    /// <c>offset</c> and <c>resolve</c> are refused (401) and statuses are not searched, as in Mastodon; a query that looks like
    /// a hashtag or an address (<c>#x</c>, <c>@x</c>, no space) is not searched as text. With <c>resolve</c>, a link to a post of
    /// this server finds that post (if the caller may see it) and nothing else.
    /// </summary>
    private static async Task<IResult> SearchAsync(HttpContext context, GraphService graph, AccountService accounts, AccountPresenter accountPresenter, BlocksAndMutes filters,
        PostService posts, PostSearch search, StatusPresenter presenter, TagsService tags, TaggedPosts tagged, PublicUrls urls)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var q = query["q"].ToString().Trim();
        if (q.Length == 0)
            return ApiErrors.Result(400, "Missing required parameter: q");
        var type = query["type"].ToString();
        if (type.Length > 0 && type is not ("accounts" or "statuses" or "hashtags"))
            return ApiErrors.Result(400, "Parameter type must be accounts, statuses or hashtags");
        var (limit, offset) = GraphApi.LimitOffset(context.Request, 20);
        var me = context.Caller().AccountId;
        var resolve = QueryFlag.IsTrue(query["resolve"]);
        if (me is null && offset > 0)
            return ApiErrors.Result(401, "Search queries with offset require a user token");
        if (me is null && resolve)
            return ApiErrors.Result(401, "Search queries that resolve remote resources are not supported without authentication");
        var following = QueryFlag.IsTrue(query["following"]);

        var found = new SearchResults([], [], []);
        if (resolve && Uri.TryCreate(q, UriKind.Absolute, out var link) && link.Scheme is "http" or "https")
        {
            // A link is looked up, not searched (Mastodon's ResolveURLService); only this server's post links can resolve here.
            if (type is "" or "statuses" && offset == 0 && string.Equals(link.Authority, urls.Host(context), StringComparison.OrdinalIgnoreCase)
                && MastodonFormat.ParseId(link.Segments[^1].TrimEnd('/')) is { } statusId && await posts.GetVisibleAsync(statusId, me, ct) is { } post)
                found.Statuses.AddRange(await presenter.PresentAsync([post], context, ct));
            return TypedResults.Json(found, TagsJson.Default.SearchResults);
        }
        if (type is "" or "accounts")
            found.Accounts.AddRange(await GraphApi.SearchAccountsAsync(context, q, limit, offset, following, graph, accounts, accountPresenter));
        if (type is "" or "statuses" && me is { } viewer && !((q.StartsWith('#') || q.Contains('@', StringComparison.Ordinal)) && !q.Contains(' ', StringComparison.Ordinal)))
        {
            var author = query["account_id"].ToString() is { Length: > 0 } a ? MastodonFormat.ParseId(a) ?? -1 : (long?)null;
            var hidden = await filters.HiddenFromAsync(viewer, ct);
            var cores = await search.SearchAsync(new PostSearchQuery(q, viewer, author, following, hidden, limit, offset), ct);
            found.Statuses.AddRange(await presenter.PresentAsync(cores, context, ct));
        }
        if (type is "" or "hashtags" && Hashtags.Prefix(q) is { } prefix)
        {
            var rows = await tags.SearchAsync(prefix, limit, offset, ct);
            found.Hashtags.AddRange(await PresentAsync(context, rows.Select(r => r.Name).ToList(), tags, tagged, urls));
        }
        return TypedResults.Json(found, TagsJson.Default.SearchResults);
    }
}
