using System.Globalization;
using System.Text.Json.Nodes;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>docs.joinmastodon.org/methods/notifications (v1) and the module's registration.</summary>
public static class NotificationsApi
{
    private const int DefaultLimit = 40;

    public static IServiceCollection AddLentaNotifications(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, NotificationsMigrations>();
        services.AddSingleton<NotificationObserver>();
        services.AddSingleton<IPostObserver>(sp => sp.GetRequiredService<NotificationObserver>());
        services.AddSingleton<Likes.ILikeObserver>(sp => sp.GetRequiredService<NotificationObserver>());
        services.AddSingleton<Graph.IFollowActivityObserver>(sp => sp.GetRequiredService<NotificationObserver>());
        services.AddSingleton<NotificationWriter>();
        services.AddSingleton<NotificationStore>();
        services.AddSingleton<NotificationPresenter>();
        services.AddSingleton<MarkerStore>();
        services.AddSingleton<IJobHandler, NoticeHandler>();
        services.AddSingleton<IJobHandler, PostNoticesHandler>();
        services.AddSingleton<LikesNoticeHandler>();
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<LikesNoticeHandler>());
        services.AddSingleton<LikeNoticeQueue>();
        services.AddHostedService<LikeNoticeBatcher>();
        return services;
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/notifications", ListAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        api.MapGet("/v1/notifications/unread_count", UnreadCountAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        api.MapGet("/v1/notifications/{id}", GetAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        GroupedNotificationsApi.MapRead(api);
        MarkersApi.MapRead(api);
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/notifications/clear", ClearAsync).RequireAuth(AuthLevel.User, "write", "write:notifications");
        api.MapPost("/v1/notifications/{id}/dismiss", DismissAsync).RequireAuth(AuthLevel.User, "write", "write:notifications");
        GroupedNotificationsApi.MapWrite(api);
        MarkersApi.MapWrite(api);
    }

    /// <summary>Newest first; both Link rels on a page with notifications, none on an empty one (Tusky follows prev until it is absent).</summary>
    private static async Task<IResult> ListAsync(HttpContext context, NotificationStore store, NotificationPresenter presenter, PublicUrls urls)
    {
        var me = context.UserId();
        var page = Page.Parse(context.Request, DefaultLimit);
        var filter = await FilterAsync(context);
        var rows = await store.PageAsync(me, page, filter, context.RequestAborted);
        var loaded = await presenter.LoadAsync(me, rows.Select(r => r.FromAccountId), rows.Select(r => r.StatusId), context, context.RequestAborted);
        var result = new JsonArray(rows.Where(loaded.Shows).Select(r => (JsonNode)NotificationPresenter.Entity(r, loaded)).ToArray());
        if (rows.Count > 0)
            LinkHeader.Set(context, urls, rows[^1].Id, rows[0].Id, "min_id");
        return NotificationPresenter.Json(result);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string id, NotificationStore store, NotificationPresenter presenter)
    {
        var me = context.UserId();
        var row = MastodonFormat.ParseId(id) is { } n ? await store.GetAsync(me, n, context.RequestAborted) : null;
        if (row is null)
            return ApiErrors.Result(404, "Record not found");
        var loaded = await presenter.LoadAsync(me, [row.FromAccountId], [row.StatusId], context, context.RequestAborted);
        return loaded.Shows(row) ? NotificationPresenter.Json(NotificationPresenter.Entity(row, loaded)) : ApiErrors.Result(404, "Record not found");
    }

    /// <summary>Notifications newer than the <c>notifications</c> marker, counted up to <c>limit</c> (default 100, at most 1000).</summary>
    private static async Task<IResult> UnreadCountAsync(HttpContext context, NotificationStore store, MarkerStore markers)
    {
        var me = context.UserId();
        var limit = UnreadLimit(context);
        var filter = await FilterAsync(context);
        var count = await store.CountAboveAsync(me, await markers.NotificationsReadUpToAsync(me, context.RequestAborted), limit, filter, context.RequestAborted);
        return NotificationPresenter.Json(new JsonObject { ["count"] = count });
    }

    private static async Task<IResult> ClearAsync(HttpContext context, NotificationStore store)
    {
        await store.ClearAsync(context.UserId(), context.RequestAborted);
        return NotificationPresenter.Json(new JsonObject());
    }

    private static async Task<IResult> DismissAsync(HttpContext context, string id, NotificationStore store)
    {
        // Mastodon answers 404 for a notification that is not the caller's (or not there).
        if (MastodonFormat.ParseId(id) is not { } n || await store.DismissAsync(context.UserId(), n, context.RequestAborted) == 0)
            return ApiErrors.Result(404, "Record not found");
        return NotificationPresenter.Json(new JsonObject());
    }

    internal static int UnreadLimit(HttpContext context)
    {
        var text = context.Request.Query["limit"].ToString();
        if (text.Length == 0)
            return 100;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? Math.Min(n, 1000) : throw new ApiException(400, "Parameter limit must be an integer");
    }

    internal static async Task<NotificationFilter> FilterAsync(HttpContext context)
    {
        var p = await ApiParams.ReadAsync(context);
        long? from = null;
        if (p.String("account_id") is { Length: > 0 } account)
            from = MastodonFormat.ParseId(account) ?? -1; // no such account: nothing matches
        return new NotificationFilter(p.Strings("types"), p.Strings("exclude_types"), from);
    }
}
