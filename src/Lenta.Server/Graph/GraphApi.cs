using System.Text.Json.Serialization;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Graph;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RelationshipEntity))]
[JsonSerializable(typeof(List<RelationshipEntity>))]
[JsonSerializable(typeof(List<AccountEntity>))]
[JsonSerializable(typeof(long[]))]
public sealed partial class GraphJson : JsonSerializerContext;

/// <summary>Follows, follow requests, relationships, follower lists and finding people (docs.joinmastodon.org/methods/accounts, /follow_requests, /search).</summary>
public static class GraphApi
{
    private const int AccountsPage = 40;

    public static IServiceCollection AddLentaGraph(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, GraphMigrations>();
        services.AddSingleton<GraphService>();
        services.AddSingleton<FollowingCache>();
        services.AddSingleton<BlocksAndMutes>();
        services.AddSingleton<IFollowRequestCount>(sp => sp.GetRequiredService<GraphService>());
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/accounts/{id}/follow", FollowAsync).RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
        api.MapPost("/v1/accounts/{id}/unfollow", UnfollowAsync).RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
        api.MapPost("/v1/accounts/{id}/note", NoteAsync).RequireAuth(AuthLevel.User, "write", "write:accounts");
        api.MapPost("/v1/accounts/{id}/block", (HttpContext c, string id, BlocksAndMutes b) => BlockAsync(c, id, true, b))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:blocks");
        api.MapPost("/v1/accounts/{id}/unblock", (HttpContext c, string id, BlocksAndMutes b) => BlockAsync(c, id, false, b))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:blocks");
        api.MapPost("/v1/accounts/{id}/mute", (HttpContext c, string id, BlocksAndMutes b) => MuteAsync(c, id, true, b))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:mutes");
        api.MapPost("/v1/accounts/{id}/unmute", (HttpContext c, string id, BlocksAndMutes b) => MuteAsync(c, id, false, b))
            .RequireAuth(AuthLevel.User, "follow", "write", "write:mutes");
        api.MapPost("/v1/follow_requests/{id}/authorize", AuthorizeAsync).RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
        api.MapPost("/v1/follow_requests/{id}/reject", RejectAsync).RequireAuth(AuthLevel.User, "follow", "write", "write:follows");
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/accounts/relationships", RelationshipsAsync).RequireAuth(AuthLevel.User, "follow", "read", "read:follows");
        api.MapGet("/v1/accounts/{id}/followers", (HttpContext c, string id, GraphService g, AccountService a, AccountPresenter p, PublicUrls u) =>
            ListAsync(c, id, g.FollowersAsync, a, p, u)).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
        api.MapGet("/v1/accounts/{id}/following", (HttpContext c, string id, GraphService g, AccountService a, AccountPresenter p, PublicUrls u) =>
            ListAsync(c, id, g.FollowingAsync, a, p, u)).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
        api.MapGet("/v1/blocks", (HttpContext c, BlocksAndMutes b, AccountService a, AccountPresenter p, PublicUrls u) => OwnListAsync(c, b.BlockedAsync, a, p, u))
            .RequireAuth(AuthLevel.User, "follow", "read", "read:blocks");
        api.MapGet("/v1/mutes", (HttpContext c, BlocksAndMutes b, AccountService a, AccountPresenter p, PublicUrls u) => OwnListAsync(c, b.MutedAsync, a, p, u))
            .RequireAuth(AuthLevel.User, "follow", "read", "read:mutes");
        api.MapGet("/v1/follow_requests", FollowRequestsAsync).RequireAuth(AuthLevel.User, "follow", "read", "read:follows");
        api.MapGet("/v1/accounts/search", SearchV1Async).RequireAuth(AuthLevel.User, "read", "read:accounts");
    }

    private static long TargetId(string id) => MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");

    private static IResult Json(RelationshipEntity r) => TypedResults.Json(r, GraphJson.Default.RelationshipEntity);

    private static async Task<IResult> FollowAsync(HttpContext context, string id, GraphService graph)
    {
        var p = await ApiParams.ReadAsync(context);
        var languages = p.Has("languages") || p.Has("languages[]") ? p.Strings("languages").ToArray() : null;
        return Json(await graph.FollowAsync(context.UserId(), TargetId(id), new GraphService.FollowOptions(p.Bool("reblogs"), p.Bool("notify"), languages), context.RequestAborted));
    }

    private static async Task<IResult> UnfollowAsync(HttpContext context, string id, GraphService graph) =>
        Json(await graph.UnfollowAsync(context.UserId(), TargetId(id), context.RequestAborted));

    private static async Task<IResult> AuthorizeAsync(HttpContext context, string id, GraphService graph) =>
        Json(await graph.AuthorizeAsync(context.UserId(), TargetId(id), context.RequestAborted));

    private static async Task<IResult> RejectAsync(HttpContext context, string id, GraphService graph) =>
        Json(await graph.RejectAsync(context.UserId(), TargetId(id), context.RequestAborted));

    /// <summary>Unknown ids are left out (Mastodon); at most 80 ids are looked at.</summary>
    private static async Task<IResult> RelationshipsAsync(HttpContext context, GraphService graph, AccountService accounts)
    {
        var p = ApiParams.FromPairs(context.Request.Query.Select(q => new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>(q.Key, q.Value)));
        var ids = p.Strings("id").Select(MastodonFormat.ParseId).OfType<long>().Distinct().Take(80).ToList();
        var known = await accounts.Store.GetManyAsync(ids, context.RequestAborted);
        var present = ids.Where(known.ContainsKey).ToList();
        var relationships = present.Count == 0 ? [] : await graph.RelationshipsAsync(context.UserId(), present, context.RequestAborted);
        return TypedResults.Json(relationships, GraphJson.Default.ListRelationshipEntity);
    }

    private static async Task<IResult> BlockAsync(HttpContext context, string id, bool block, BlocksAndMutes filters) =>
        Json(await filters.BlockAsync(context.UserId(), TargetId(id), block, context.RequestAborted));

    /// <summary><c>notifications</c> (default true) and <c>duration</c> (seconds, 0 = until unmuted) as Mastodon takes them.</summary>
    /// <summary>docs.joinmastodon.org/methods/accounts/#note: <c>comment</c> set (or, empty or absent, cleared).</summary>
    private static async Task<IResult> NoteAsync(HttpContext context, string id, GraphService graph)
    {
        var p = await ApiParams.ReadAsync(context);
        return Json(await graph.SetNoteAsync(context.UserId(), TargetId(id), p.String("comment") ?? "", context.RequestAborted));
    }

    private static async Task<IResult> MuteAsync(HttpContext context, string id, bool mute, BlocksAndMutes filters)
    {
        var p = await ApiParams.ReadAsync(context);
        return Json(await filters.MuteAsync(context.UserId(), TargetId(id), mute, p.Bool("notifications") ?? true, p.Long("duration") ?? 0, context.RequestAborted));
    }

    /// <summary>The caller's blocks or mutes, newest first (Link by the row's id, as account lists).</summary>
    private static async Task<IResult> OwnListAsync(HttpContext context, Func<long, Page, CancellationToken, Task<List<GraphEdge>>> list, AccountService accounts,
        AccountPresenter presenter, PublicUrls urls)
    {
        var page = Page.Parse(context.Request, AccountsPage);
        var edges = await list(context.UserId(), page, context.RequestAborted);
        return await PresentEdgesAsync(context, edges, page, accounts, presenter, urls);
    }

    private static async Task<IResult> ListAsync(HttpContext context, string id, Func<long, Page, CancellationToken, Task<List<GraphEdge>>> list,
        AccountService accounts, AccountPresenter presenter, PublicUrls urls)
    {
        var owner = MastodonFormat.ParseId(id) is { } n ? await accounts.GetAsync(n, context.RequestAborted) : null;
        if (owner is null)
            return ApiErrors.Result(404, "Record not found");
        var page = Page.Parse(context.Request, AccountsPage);
        if (owner.HideCollections && context.Caller().AccountId != owner.Id)
            return TypedResults.Json(new List<AccountEntity>(), GraphJson.Default.ListAccountEntity);
        var edges = await list(owner.Id, page, context.RequestAborted);
        return await PresentEdgesAsync(context, edges, page, accounts, presenter, urls);
    }

    private static async Task<IResult> FollowRequestsAsync(HttpContext context, GraphService graph, AccountService accounts, AccountPresenter presenter, PublicUrls urls)
    {
        var page = Page.Parse(context.Request, AccountsPage);
        var edges = await graph.FollowRequestsAsync(context.UserId(), page, context.RequestAborted);
        return await PresentEdgesAsync(context, edges, page, accounts, presenter, urls);
    }

    /// <summary>Accounts in edge order; Link with <c>max_id</c> = oldest edge (only for a full page) and <c>since_id</c> = newest edge.</summary>
    private static async Task<IResult> PresentEdgesAsync(HttpContext context, List<GraphEdge> edges, Page page, AccountService accounts, AccountPresenter presenter, PublicUrls urls)
    {
        var rows = await accounts.Store.GetManyAsync(edges.Select(e => e.AccountId).ToList(), context.RequestAborted);
        var result = edges.Where(e => rows.ContainsKey(e.AccountId)).Select(e => presenter.Present(rows[e.AccountId], context)).ToList();
        if (edges.Count > 0)
            LinkHeader.Set(context, urls, edges.Count >= page.Limit ? edges[^1].Id : null, edges[0].Id, "since_id");
        return TypedResults.Json(result, GraphJson.Default.ListAccountEntity);
    }

    /// <summary>Accounts for a search (<c>/api/v1/accounts/search</c> and the accounts of <c>/api/v2/search</c>, which the Tags module serves).</summary>
    internal static async Task<List<AccountEntity>> SearchAccountsAsync(HttpContext context, string q, int limit, int offset, bool following, GraphService graph, AccountService accounts, AccountPresenter presenter)
    {
        IReadOnlyCollection<long>? within = null;
        if (following && context.Caller().AccountId is { } me)
        {
            var followed = await graph.FollowingAsync(me, new Page(null, null, null, 10_000), context.RequestAborted);
            within = followed.Select(e => e.AccountId).Append(me).ToList();
        }
        var rows = await accounts.Store.SearchAsync(q, limit, offset, within, context.RequestAborted);
        return rows.Select(r => presenter.Present(r, context)).ToList();
    }

    internal static (int Limit, int Offset) LimitOffset(HttpRequest request, int defaultLimit)
    {
        var page = Page.Parse(request, defaultLimit);
        var offsetText = request.Query["offset"].ToString();
        var offset = 0;
        if (offsetText.Length > 0 && (!int.TryParse(offsetText, out offset) || offset < 0))
            throw new ApiException(400, "Parameter offset must be a non-negative integer");
        return (page.Limit, offset);
    }

    private static async Task<IResult> SearchV1Async(HttpContext context, GraphService graph, AccountService accounts, AccountPresenter presenter)
    {
        var q = context.Request.Query["q"].ToString();
        if (q.Trim().Length == 0)
            return ApiErrors.Result(400, "Missing required parameter: q");
        var (limit, offset) = LimitOffset(context.Request, AccountsPage);
        var following = string.Equals(context.Request.Query["following"], "true", StringComparison.OrdinalIgnoreCase);
        return TypedResults.Json(await SearchAccountsAsync(context, q, limit, offset, following, graph, accounts, presenter), GraphJson.Default.ListAccountEntity);
    }
}
