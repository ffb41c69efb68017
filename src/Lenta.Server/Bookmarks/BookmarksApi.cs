using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Posts;

namespace Lenta.Server.Bookmarks;

/// <summary>docs.joinmastodon.org/methods/statuses (bookmark, unbookmark) and /methods/bookmarks.</summary>
public static class BookmarksApi
{
    private const int BookmarksPage = 20;

    public static IServiceCollection AddLentaBookmarks(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, BookmarksMigrations>();
        services.AddSingleton<BookmarksService>();
        services.AddSingleton<IStatusBookmarks>(sp => sp.GetRequiredService<BookmarksService>());
        services.AddSingleton<IPostObserver, BookmarksPostObserver>();
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/statuses/{id}/bookmark", (HttpContext c, string id, BookmarksService b, StatusPresenter p) => SetAsync(c, id, true, b, p))
            .RequireAuth(AuthLevel.User, "write", "write:bookmarks");
        api.MapPost("/v1/statuses/{id}/unbookmark", (HttpContext c, string id, BookmarksService b, StatusPresenter p) => SetAsync(c, id, false, b, p))
            .RequireAuth(AuthLevel.User, "write", "write:bookmarks");
    }

    public static void MapRead(RouteGroupBuilder api) =>
        api.MapGet("/v1/bookmarks", BookmarksAsync).RequireAuth(AuthLevel.User, "read", "read:bookmarks");

    private static async Task<IResult> SetAsync(HttpContext context, string id, bool bookmark, BookmarksService bookmarks, StatusPresenter presenter)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var post = await bookmarks.SetAsync(context.UserId(), statusId, bookmark, context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([post], context, single: true, context.RequestAborted, viewerBookmarked: bookmark));
    }

    /// <summary>
    /// The caller's bookmarks, most recently bookmarked first; cursors are bookmark ids (seen only in Link), <c>next</c>
    /// only after a full page (Mastodon's BookmarksController). Posts the caller can no longer see are left out.
    /// </summary>
    private static async Task<IResult> BookmarksAsync(HttpContext context, BookmarksService bookmarks, PostService posts, StatusPresenter presenter, PublicUrls urls)
    {
        var me = context.UserId();
        var page = Page.Parse(context.Request, BookmarksPage);
        var edges = await bookmarks.PageAsync(me, page, context.RequestAborted);
        var cores = await posts.Cache.GetManyAsync(edges.Select(e => e.Value).ToList(), context.RequestAborted);
        var visible = await posts.FilterVisibleAsync(edges.Where(e => cores.ContainsKey(e.Value)).Select(e => cores[e.Value]).ToList(), me, context.RequestAborted);
        var json = await presenter.WriteJsonAsync(visible, context, single: false, context.RequestAborted, viewerBookmarked: true);
        if (edges.Count > 0)
            LinkHeader.Set(context, urls, edges.Count >= page.Limit ? edges[^1].Id : null, edges[0].Id, "min_id");
        return StatusPresenter.Json(json);
    }
}
