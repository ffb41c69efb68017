using System.Text.Json.Serialization;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;

namespace Lenta.Server.Conversations;

/// <summary>docs.joinmastodon.org/entities/Conversation: <c>accounts</c> are the others in it (the owner alone when there are none).</summary>
public sealed record ConversationEntity(string Id, bool Unread, List<AccountEntity> Accounts, StatusEntity? LastStatus);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ConversationEntity))]
[JsonSerializable(typeof(List<ConversationEntity>))]
[JsonSerializable(typeof(long[]))]
public sealed partial class ConversationsJson : JsonSerializerContext;

/// <summary>docs.joinmastodon.org/methods/conversations: list, mark read, remove.</summary>
public static class ConversationsApi
{
    private const int ConversationsPage = 20;

    public static IServiceCollection AddLentaConversations(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, ConversationsMigrations>();
        services.AddSingleton<ConversationService>();
        services.AddSingleton<ConversationPresenter>();
        services.AddSingleton<IPostObserver, ConversationsObserver>();
        services.AddSingleton<IJobHandler, DeliverHandler>();
        return services;
    }

    public static void MapRead(RouteGroupBuilder api) =>
        api.MapGet("/v1/conversations", ListAsync).RequireAuth(AuthLevel.User, "read", "read:statuses");

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/conversations/{id}/read", ReadAsync).RequireAuth(AuthLevel.User, "write", "write:conversations");
        api.MapDelete("/v1/conversations/{id}", RemoveAsync).RequireAuth(AuthLevel.User, "write", "write:conversations");
    }

    /// <summary>Most recently active first; cursors are the last posts' ids (as Mastodon's), <c>next</c> only after a full page.</summary>
    private static async Task<IResult> ListAsync(HttpContext context, ConversationService conversations, ConversationPresenter presenter, PublicUrls urls)
    {
        var me = context.UserId();
        var page = Page.Parse(context.Request, ConversationsPage);
        var rows = await conversations.PageAsync(me, page, context.RequestAborted);
        var result = await presenter.PresentAsync(me, rows, context, context.RequestAborted);
        if (rows.Count > 0)
            LinkHeader.Set(context, urls, rows.Count >= page.Limit ? rows[^1].LastStatusId : null, rows[0].LastStatusId, "min_id");
        return TypedResults.Json(result, ConversationsJson.Default.ListConversationEntity);
    }

    private static async Task<IResult> ReadAsync(HttpContext context, string id, ConversationService conversations, ConversationPresenter presenter)
    {
        var me = context.UserId();
        if (MastodonFormat.ParseId(id) is not { } n || !await conversations.MarkReadAsync(me, n, context.RequestAborted)
            || await conversations.GetAsync(me, n, context.RequestAborted) is not { } row)
            return ApiErrors.Result(404, "Record not found");
        var entity = (await presenter.PresentAsync(me, [row], context, context.RequestAborted))[0];
        return TypedResults.Json(entity, ConversationsJson.Default.ConversationEntity);
    }

    /// <summary>Mastodon answers an empty object.</summary>
    private static async Task<IResult> RemoveAsync(HttpContext context, string id, ConversationService conversations)
    {
        if (MastodonFormat.ParseId(id) is not { } n || !await conversations.RemoveAsync(context.UserId(), n, context.RequestAborted))
            return ApiErrors.Result(404, "Record not found");
        return Results.Text("{}", "application/json; charset=utf-8");
    }
}

/// <summary>Builds Conversation entities for a page with a fixed number of round trips: one for the accounts, and the statuses' own.</summary>
public sealed class ConversationPresenter(AccountService accounts, AccountPresenter accountPresenter, PostService posts, StatusPresenter statuses)
{
    public async Task<List<ConversationEntity>> PresentAsync(long me, IReadOnlyList<ConversationRow> rows, HttpContext context, CancellationToken ct)
    {
        var participants = rows.ToDictionary(r => r.Id, r => r.ParticipantIds is { Length: > 0 } p ? p : [me]);
        var found = await accounts.Store.GetManyAsync(participants.Values.SelectMany(p => p).Distinct().ToList(), ct);
        var presented = found.ToDictionary(a => a.Key, a => accountPresenter.Present(a.Value, context));
        var cores = await posts.Cache.GetManyAsync(rows.Select(r => r.LastStatusId).Distinct().ToList(), ct);
        var visible = await posts.FilterVisibleAsync(cores.Values.ToList(), me, ct);
        var last = (await statuses.PresentAsync(visible, context, ct)).ToDictionary(s => s.Id);
        return rows.Select(r => new ConversationEntity(MastodonFormat.Id(r.Id), r.Unread,
            participants[r.Id].Where(presented.ContainsKey).Select(a => presented[a]).ToList(),
            last.GetValueOrDefault(MastodonFormat.Id(r.LastStatusId)))).ToList();
    }
}
