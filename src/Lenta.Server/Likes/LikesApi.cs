using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Hosting;
using Lenta.Server.Posts;

namespace Lenta.Server.Likes;

/// <summary>docs.joinmastodon.org/methods/statuses (favourite, unfavourite, favourited_by) and /methods/favourites.</summary>
public static class LikesApi
{
    public static IServiceCollection AddLentaLikes(this IServiceCollection services, ServerRoles roles)
    {
        services.AddSingleton<IMigrationSource, LikesMigrations>();
        services.AddSingleton<LikesService>();
        services.AddSingleton<IStatusViewerFacts>(sp => sp.GetRequiredService<LikesService>());
        services.AddSingleton<IPostObserver, LikesPostObserver>();
        services.AddSingleton<LikeWriteBehind>();
        if (roles.HasFlag(ServerRoles.Worker))
            services.AddHostedService(sp => sp.GetRequiredService<LikeWriteBehind>());
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/statuses/{id}/favourite", (HttpContext c, string id, LikesService l, StatusPresenter p) => SetAsync(c, id, true, l, p))
            .RequireAuth(AuthLevel.User, "write", "write:favourites");
        api.MapPost("/v1/statuses/{id}/unfavourite", (HttpContext c, string id, LikesService l, StatusPresenter p) => SetAsync(c, id, false, l, p))
            .RequireAuth(AuthLevel.User, "write", "write:favourites");
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/statuses/{id}/favourited_by", FavouritedByAsync).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
        api.MapGet("/v1/favourites", FavouritesAsync).RequireAuth(AuthLevel.User, "read", "read:favourites");
    }

    private static async Task<IResult> SetAsync(HttpContext context, string id, bool like, LikesService likes, StatusPresenter presenter)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var post = await likes.SetAsync(context.UserId(), statusId, like, context.RequestAborted);
        // The answer shows the state this call left (Mastodon's): no need to look the flag up again.
        return StatusPresenter.Json(await presenter.WriteJsonAsync([post], context, single: true, context.RequestAborted, viewerLikes: like));
    }

    private static async Task<IResult> FavouritedByAsync(HttpContext context, string id, LikesService likes, PostService posts, AccountService accounts, AccountPresenter presenter, PublicUrls urls)
    {
        var post = MastodonFormat.ParseId(id) is { } n ? await posts.GetVisibleAsync(n, context.Caller().AccountId, context.RequestAborted) : null;
        if (post is null)
            return ApiErrors.Result(404, "Record not found");
        var page = Page.Parse(context.Request, 40);
        var edges = await likes.LikersAsync(post.Id, page, context.RequestAborted);
        var rows = await accounts.Store.GetManyAsync(edges.Select(e => e.Value).ToList(), context.RequestAborted);
        var result = edges.Where(e => rows.ContainsKey(e.Value)).Select(e => presenter.Present(rows[e.Value], context)).ToList();
        if (edges.Count > 0)
            LinkHeader.Set(context, urls, edges.Count >= page.Limit ? edges[^1].Id : null, edges[0].Id, "since_id");
        return TypedResults.Json(result, GraphJson.Default.ListAccountEntity);
    }

    /// <summary>The caller's likes, most recently liked first; cursors are like ids (seen only in Link).</summary>
    private static async Task<IResult> FavouritesAsync(HttpContext context, LikesService likes, PostService posts, StatusPresenter presenter, PublicUrls urls)
    {
        var me = context.UserId();
        var page = Page.Parse(context.Request, 20);
        var edges = await likes.LikedAsync(me, page, context.RequestAborted);
        var cores = await posts.Cache.GetManyAsync(edges.Select(e => e.Value).ToList(), context.RequestAborted);
        var visible = await posts.FilterVisibleAsync(edges.Where(e => cores.ContainsKey(e.Value)).Select(e => cores[e.Value]).ToList(), me, context.RequestAborted);
        var json = await presenter.WriteJsonAsync(visible, context, single: false, context.RequestAborted);
        if (edges.Count > 0)
            LinkHeader.Set(context, urls, edges[^1].Id, edges[0].Id, "min_id");
        return StatusPresenter.Json(json);
    }
}
