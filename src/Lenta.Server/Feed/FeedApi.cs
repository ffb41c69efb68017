using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Feed;

/// <summary>docs.joinmastodon.org/methods/timelines: the home feed and the local public timeline.</summary>
public static class FeedApi
{
    private const int StatusesPage = 20;

    public static IServiceCollection AddLentaFeed(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<FeedOptions>().Bind(config.GetSection(FeedOptions.Section))
            .Validate(o => o.TimelineSize is >= 20 and <= 10_000, "Lenta__Feed__TimelineSize: must be between 20 and 10000.")
            .Validate(o => o.FanOutThreshold >= 0, "Lenta__Feed__FanOutThreshold: must not be negative.")
            .Validate(o => o.InactiveDays >= 1, "Lenta__Feed__InactiveDays: must be at least 1.")
            .Validate(o => o.FanOutBatch is >= 1 and <= 10_000, "Lenta__Feed__FanOutBatch: must be between 1 and 10000.")
            .Validate(o => o.RebuildMaxFollowing >= 1, "Lenta__Feed__RebuildMaxFollowing: must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<IMigrationSource, FeedMigrations>();
        services.AddSingleton<FeedService>();
        services.AddSingleton<FanOutMetrics>();
        services.AddSingleton<FeedObserver>();
        services.AddSingleton<IPostObserver>(sp => sp.GetRequiredService<FeedObserver>());
        services.AddSingleton<Graph.IFollowObserver>(sp => sp.GetRequiredService<FeedObserver>());
        services.AddSingleton<Tags.ITagFollowObserver>(sp => sp.GetRequiredService<FeedObserver>());
        services.AddSingleton<FanOutHandler>();
        services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<FanOutHandler>());
        services.AddSingleton<IJobHandler, RetractHandler>();
        services.AddSingleton<IJobHandler, MergeHandler>();
        services.AddSingleton<IJobHandler, UnmergeHandler>();
        return services;
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/timelines/home", HomeAsync).RequireAuth(AuthLevel.User, "read", "read:statuses");
        api.MapGet("/v1/timelines/public", PublicAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
    }

    /// <summary>
    /// <c>GET /_diag/fanout</c> (only with <c>Lenta__Diagnostics=true</c>): the recent fan-out samples, so a benchmark
    /// can read post-to-last-push times measured inside the server.
    /// </summary>
    public static void MapDiagnostics(WebApplication app) =>
        app.MapGet("/_diag/fanout", (FanOutMetrics metrics) => TypedResults.Json(
            metrics.Recent().Select(s => new FanOutSampleBody(s.StatusId.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Followers, s.Pushed, s.MillisecondsFromPost, s.MillisecondsWorking, s.Pulled)).ToArray(),
            FeedDiagJson.Default.FanOutSampleBodyArray)).ExcludeFromDescription();

    private static async Task<IResult> HomeAsync(HttpContext context, FeedService feed, StatusPresenter presenter, PublicUrls urls, BlocksAndMutes filters)
    {
        var page = Page.Parse(context.Request, StatusesPage);
        // What the reader hides is asked beside the timeline (on Redis, one round trip's wait instead of two).
        var hidden = filters.HomeHiddenAsync(context.UserId(), context.RequestAborted);
        var originals = new Dictionary<long, PostCore>();
        var cores = await feed.HomeAsync(context.UserId(), page, context.RequestAborted, originals);
        return await RespondAsync(context, cores, presenter, urls, filters, hidden, originals);
    }

    private static async Task<IResult> PublicAsync(HttpContext context, PostService posts, StatusPresenter presenter, PublicUrls urls, BlocksAndMutes filters)
    {
        var page = Page.Parse(context.Request, StatusesPage);
        var q = context.Request.Query;
        if (QueryFlag.IsTrue(q["remote"]))
            return TypedResults.Json(new List<StatusEntity>(), PostsJson.Default.ListStatusEntity); // no federation: nothing remote
        var cores = await posts.PublicPageAsync(page, QueryFlag.IsTrue(q["only_media"]), context.RequestAborted);
        return await RespondAsync(context, cores, presenter, urls, filters);
    }

    /// <summary>
    /// Timelines send both links for any non-empty page (docs.joinmastodon.org/api/guidelines/#pagination). The posts of
    /// accounts the reader blocks, mutes or is blocked by are left out here, at read time, and on the home timeline the
    /// boosts of accounts followed with <c>reblogs=false</c>; the links are those of the page as read, so paging goes on
    /// past a page they emptied.
    /// </summary>
    private static async Task<IResult> RespondAsync(HttpContext context, List<PostCore> cores, StatusPresenter presenter, PublicUrls urls, BlocksAndMutes filters,
        Task<ReaderHidden>? homeHidden = null, IReadOnlyDictionary<long, PostCore>? originalsRead = null)
    {
        var shown = cores;
        if (context.Caller().AccountId is { } reader && cores.Count > 0
            && await (homeHidden ?? filters.HomeHiddenAsync(reader, context.RequestAborted)) is { IsEmpty: false } hidden)
            shown = cores.FindAll(c => !hidden.Hides(c.AccountId, c.ReblogOfId is not null, c.ReblogOfAccountId));
        var json = await presenter.WriteJsonAsync(shown, context, single: false, context.RequestAborted, originalsRead: originalsRead);
        if (cores.Count > 0)
            LinkHeader.Set(context, urls, cores[^1].Id, cores[0].Id, "min_id");
        return StatusPresenter.Json(json);
    }
}

public sealed record FanOutSampleBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("status_id")] string StatusId,
    [property: System.Text.Json.Serialization.JsonPropertyName("followers")] int Followers,
    [property: System.Text.Json.Serialization.JsonPropertyName("pushed")] int Pushed,
    [property: System.Text.Json.Serialization.JsonPropertyName("ms_from_post")] double MillisecondsFromPost,
    [property: System.Text.Json.Serialization.JsonPropertyName("ms_working")] double MillisecondsWorking,
    [property: System.Text.Json.Serialization.JsonPropertyName("pulled")] bool Pulled);

[System.Text.Json.Serialization.JsonSerializable(typeof(FanOutSampleBody[]))]
internal sealed partial class FeedDiagJson : System.Text.Json.Serialization.JsonSerializerContext;
