using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;

namespace Lenta.Server.Posts;

/// <summary>docs.joinmastodon.org/methods/statuses and the account pages (docs.joinmastodon.org/methods/accounts/#statuses).</summary>
public static class PostsApi
{
    private const int StatusesPage = 20;

    public static IServiceCollection AddLentaPosts(this IServiceCollection services)
    {
        services.AddSingleton<IMigrationSource, PostsMigrations>();
        services.AddSingleton<PostCache>();
        services.AddSingleton<ProfileCache>();
        services.AddSingleton<StatusPins>();
        services.AddSingleton<PostService>();
        services.AddSingleton<PostEditor>();
        services.AddSingleton<PostBoosts>();
        services.AddSingleton<BoostFlags>();
        services.AddSingleton<TaggedPosts>();
        services.AddSingleton<PostSearch>();
        services.AddSingleton<StatusPresenter>();
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v1/statuses", CreateAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");
        api.MapDelete("/v1/statuses/{id}", DeleteAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");
        api.MapPut("/v1/statuses/{id}", EditAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");
        api.MapPost("/v1/statuses/{id}/pin", (HttpContext c, string id, PostService s, StatusPins p, StatusPresenter r) => PinAsync(c, id, true, s, p, r))
            .RequireAuth(AuthLevel.User, "write", "write:accounts");
        api.MapPost("/v1/statuses/{id}/unpin", (HttpContext c, string id, PostService s, StatusPins p, StatusPresenter r) => PinAsync(c, id, false, s, p, r))
            .RequireAuth(AuthLevel.User, "write", "write:accounts");
        api.MapPost("/v1/statuses/{id}/reblog", ReblogAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");
        api.MapPost("/v1/statuses/{id}/unreblog", UnreblogAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");
    }

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v1/statuses", IndexAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/statuses/{id}", GetAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/statuses/{id}/source", SourceAsync).RequireAuth(AuthLevel.User, "read", "read:statuses");
        api.MapGet("/v1/statuses/{id}/history", HistoryAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/statuses/{id}/context", ContextAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/accounts/{id}/statuses", AccountStatusesAsync).RequireAuth(AuthLevel.Optional, "read", "read:statuses");
        api.MapGet("/v1/statuses/{id}/reblogged_by", RebloggedByAsync).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
    }

    private static IResult Json(StatusEntity s) => TypedResults.Json(s, PostsJson.Default.StatusEntity);

    private static async Task<IResult> CreateAsync(HttpContext context, PostService service, StatusPresenter presenter, PublicUrls urls, Accounts.OAuth.AppNames apps)
    {
        var p = await ApiParams.ReadAsync(context);
        if (p.Has("poll"))
            return ApiErrors.Result(422, "Validation failed: Polls are not supported");
        if (p.Has("scheduled_at") && p.String("scheduled_at") is { Length: > 0 })
            return ApiErrors.Result(422, "Validation failed: Scheduled posts are not supported");
        var caller = context.Caller();
        string? appName = null;
        string? appWebsite = null;
        if (caller.ClientId is { } clientId && await apps.FindAsync(clientId, context.RequestAborted) is { } app)
            (appName, appWebsite) = (app.Name, app.Website);
        long? replyTo = null;
        if (p.String("in_reply_to_id") is { Length: > 0 } replyText)
            replyTo = MastodonFormat.ParseId(replyText) ?? throw new ApiException(404, "The post you are trying to reply to does not appear to exist.");
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        var post = new NewPost(p.String("status"), p.String("visibility") is { Length: > 0 } v ? v : null, replyTo, p.Bool("sensitive"), p.String("spoiler_text"),
            p.String("language"), p.Strings("media_ids"), key.Length > 0 ? key[..Math.Min(key.Length, 200)] : null, appName, appWebsite);
        var core = await service.CreateAsync(context.UserId(), post, urls.Base(context), context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([core], context, single: true, context.RequestAborted));
    }

    /// <summary>Edit (docs.joinmastodon.org/methods/statuses/#edit): the author's own post, under compose's checks; answers the new version.</summary>
    private static async Task<IResult> EditAsync(HttpContext context, string id, PostEditor editor, StatusPresenter presenter, PublicUrls urls)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var p = await ApiParams.ReadAsync(context);
        if (p.Has("poll"))
            return ApiErrors.Result(422, "Validation failed: Polls are not supported");
        var attributes = p.Objects("media_attributes").Select(a => new MediaAttributes(a.String("id") ?? "", a.String("description"), a.String("focus"))).ToList();
        var edit = new PostEdit(p.String("status"), p.String("spoiler_text"), p.Bool("sensitive"), p.String("language"), p.Strings("media_ids"), attributes);
        var core = await editor.EditAsync(context.UserId(), statusId, edit, urls.Base(context), context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([core], context, single: true, context.RequestAborted));
    }

    private static async Task<IResult> SourceAsync(HttpContext context, string id, PostService service, PostEditor editor)
    {
        var core = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, context.Caller().AccountId, context.RequestAborted) : null;
        if (core is null || await editor.SourceAsync(core.Id, context.RequestAborted) is not { } source)
            return ApiErrors.Result(404, "Record not found");
        return TypedResults.Json(new StatusSourceEntity(MastodonFormat.Id(core.Id), source.Text, source.SpoilerText), PostsJson.Default.StatusSourceEntity);
    }

    /// <summary>A post's versions, oldest first, the original included (docs.joinmastodon.org/methods/statuses/#history).</summary>
    private static async Task<IResult> HistoryAsync(HttpContext context, string id, PostService service, PostEditor editor, AccountService accounts,
        AccountPresenter accountPresenter, Media.StatusMedia media, PublicUrls urls)
    {
        var core = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, context.Caller().AccountId, context.RequestAborted) : null;
        var author = core is null ? null : await accounts.GetAsync(core.AccountId, context.RequestAborted);
        if (core is null || author is null)
            return ApiErrors.Result(404, "Record not found");
        var versions = await editor.HistoryAsync(core, context.RequestAborted);
        var account = accountPresenter.Present(author, context);
        var attachments = await media.PresentAsync(versions.SelectMany(v => v.MediaIds).ToHashSet(), urls.Base(context), context.RequestAborted);
        var result = versions.Select(v => new StatusEditEntity
        {
            Content = v.Content, SpoilerText = v.SpoilerText, Sensitive = v.Sensitive, CreatedAt = MastodonFormat.DateTime(v.CreatedAt), Account = account,
            MediaAttachments = v.MediaIds.Select((mediaId, i) => (mediaId, i)).Where(m => attachments.ContainsKey(m.mediaId))
                .Select(m => WithDescription(attachments[m.mediaId], v.MediaDescriptions.ElementAtOrDefault(m.i))).ToArray(),
        }).ToList();
        return TypedResults.Json(result, PostsJson.Default.ListStatusEditEntity);
    }

    /// <summary>A medium as one version showed it: with that version's alt text.</summary>
    private static Media.MediaAttachmentEntity WithDescription(Media.MediaAttachmentEntity m, string? description) => new()
    {
        Id = m.Id, Type = m.Type, Url = m.Url, PreviewUrl = m.PreviewUrl, RemoteUrl = m.RemoteUrl, PreviewRemoteUrl = m.PreviewRemoteUrl, TextUrl = m.TextUrl,
        Meta = m.Meta, Description = description, Blurhash = m.Blurhash, Lenta = m.Lenta,
    };

    private static async Task<IResult> DeleteAsync(HttpContext context, string id, PostService service, StatusPresenter presenter)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var (core, source) = await service.DeleteAsync(context.UserId(), statusId, context.RequestAborted);
        var entity = (await presenter.PresentOneAsync(core, context, context.RequestAborted))!;
        // Delete and redraft: the plain source instead of the HTML.
        entity.Text = source;
        entity.Content = null;
        return Json(entity);
    }

    /// <summary>Pin or unpin (docs.joinmastodon.org/methods/statuses/#pin): the post must be visible (else 404); pinning, the caller's own.</summary>
    private static async Task<IResult> PinAsync(HttpContext context, string id, bool pin, PostService service, StatusPins pins, StatusPresenter presenter)
    {
        var me = context.UserId();
        var core = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, me, context.RequestAborted) : null;
        if (core is null)
            return ApiErrors.Result(404, "Record not found");
        await pins.SetAsync(me, core, pin, context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([core], context, single: true, context.RequestAborted));
    }

    /// <summary>Boost (docs.joinmastodon.org/methods/statuses/#boost): answers the boost, its <c>reblog</c> the original as the caller sees it.</summary>
    private static async Task<IResult> ReblogAsync(HttpContext context, string id, PostBoosts boosts, StatusPresenter presenter)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var p = await ApiParams.ReadAsync(context);
        var boost = await boosts.ReblogAsync(context.UserId(), statusId, p.String("visibility") is { Length: > 0 } v ? v : null, context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([boost], context, single: true, context.RequestAborted));
    }

    /// <summary>Undo a boost (docs.joinmastodon.org/methods/statuses/#unreblog): answers the original, <c>reblogged: false</c>.</summary>
    private static async Task<IResult> UnreblogAsync(HttpContext context, string id, PostBoosts boosts, StatusPresenter presenter)
    {
        var statusId = MastodonFormat.ParseId(id) ?? throw new ApiException(404, "Record not found");
        var original = await boosts.UnreblogAsync(context.UserId(), statusId, context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync([original], context, single: true, context.RequestAborted));
    }

    /// <summary>Who boosted a post (docs.joinmastodon.org/methods/statuses/#reblogged_by), paged by the boosts' ids.</summary>
    private static async Task<IResult> RebloggedByAsync(HttpContext context, string id, PostService service, PostBoosts boosts, AccountService accounts, AccountPresenter accountPresenter,
        PublicUrls urls)
    {
        var post = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, context.Caller().AccountId, context.RequestAborted) : null;
        if (post is null)
            return ApiErrors.Result(404, "Record not found");
        var page = Page.Parse(context.Request, 40);
        var edges = await boosts.RebloggersAsync(post.Id, page, context.RequestAborted);
        var rows = await accounts.Store.GetManyAsync(edges.Select(e => e.Value).ToList(), context.RequestAborted);
        var result = edges.Where(e => rows.ContainsKey(e.Value)).Select(e => accountPresenter.Present(rows[e.Value], context)).ToList();
        if (edges.Count > 0)
            LinkHeader.Set(context, urls, edges.Count >= page.Limit ? edges[^1].Id : null, edges[0].Id, "since_id");
        return TypedResults.Json(result, PostsJson.Default.ListAccountEntity);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string id, PostService service, StatusPresenter presenter)
    {
        var core = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, context.Caller().AccountId, context.RequestAborted) : null;
        if (core is null)
            return ApiErrors.Result(404, "Record not found");
        var json = await presenter.WriteJsonAsync([core], context, single: true, context.RequestAborted);
        return json.Length == 0 ? ApiErrors.Result(404, "Record not found") : StatusPresenter.Json(json);
    }

    /// <summary>
    /// Several statuses at once (<c>id[]</c>), in the order asked: those the caller may see; unknown, deleted and hidden
    /// ids are left out (Mastodon). At most <see cref="MaxIds"/> distinct ids are looked at.
    /// </summary>
    private static async Task<IResult> IndexAsync(HttpContext context, PostService service, StatusPresenter presenter)
    {
        var p = ApiParams.FromPairs(context.Request.Query.Select(q => new KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>(q.Key, q.Value)));
        var ids = p.Strings("id").Select(MastodonFormat.ParseId).OfType<long>().Distinct().Take(MaxIds).ToList();
        var viewer = context.Caller().AccountId;
        var visible = await service.FilterVisibleAsync(await service.Cache.GetOrderedAsync(ids, context.RequestAborted), viewer, context.RequestAborted);
        return StatusPresenter.Json(await presenter.WriteJsonAsync(visible, context, single: false, context.RequestAborted));
    }

    private const int MaxIds = 40;

    private static async Task<IResult> ContextAsync(HttpContext context, string id, PostService service, StatusPresenter presenter)
    {
        var viewer = context.Caller().AccountId;
        var core = MastodonFormat.ParseId(id) is { } n ? await service.GetVisibleAsync(n, viewer, context.RequestAborted) : null;
        if (core is null)
            return ApiErrors.Result(404, "Record not found");
        var (ancestors, descendants) = await service.ContextAsync(core, viewer, context.RequestAborted);
        var all = await presenter.PresentAsync([.. ancestors, .. descendants], context, context.RequestAborted);
        var ancestorIds = ancestors.Select(a => MastodonFormat.Id(a.Id)).ToHashSet();
        return TypedResults.Json(new ContextEntity(all.Where(s => ancestorIds.Contains(s.Id)).ToList(), all.Where(s => !ancestorIds.Contains(s.Id)).ToList()), PostsJson.Default.ContextEntity);
    }

    private static async Task<IResult> AccountStatusesAsync(HttpContext context, string id, PostService service, StatusPresenter presenter, AccountService accounts, PublicUrls urls,
        Graph.BlocksAndMutes filters)
    {
        if (MastodonFormat.ParseId(id) is not { } ownerId)
            return ApiErrors.Result(404, "Record not found");
        var ownerRead = accounts.GetAsync(ownerId, context.RequestAborted);
        var q = context.Request.Query;
        var page = Page.Parse(context.Request, StatusesPage);
        if (QueryFlag.IsTrue(q["pinned"]))
        {
            if (await ownerRead is null)
                return ApiErrors.Result(404, "Record not found");
            // All pins fit one page (at most five): no Link header, as Mastodon's clients expect of pinned=true.
            var pinned = await service.PinnedPageAsync(ownerId, context.Caller().AccountId, page, context.RequestAborted);
            return StatusPresenter.Json(await presenter.WriteJsonAsync(pinned, context, single: false, context.RequestAborted));
        }
        var filter = new PostService.PageFilter(QueryFlag.IsTrue(q["exclude_replies"]), QueryFlag.IsTrue(q["only_media"]), q["tagged"].ToString() is { Length: > 0 } t ? t.TrimStart('#') : null,
            QueryFlag.IsTrue(q["exclude_reblogs"]));
        // The page is read beside the owner's row (one round trip's wait on Redis); an unknown account has no posts to read.
        var originals = new Dictionary<long, PostCore>();
        var pageRead = service.AccountPageAsync(ownerId, context.Caller().AccountId, page, filter, context.RequestAborted, originals);
        if (await ownerRead is null)
        {
            await pageRead;
            return ApiErrors.Result(404, "Record not found");
        }
        var cores = await pageRead;
        var shown = cores;
        // Boosts of accounts the reader blocks, mutes or is blocked by are left out, as Mastodon's AccountStatusesFilter does.
        if (context.Caller().AccountId is { } reader && cores.Any(c => c.ReblogOfAccountId is not null)
            && await filters.HiddenFromAsync(reader, context.RequestAborted) is { Count: > 0 } hidden)
            shown = cores.FindAll(c => c.ReblogOfAccountId is not { } original || !hidden.Contains(original));
        var json = await presenter.WriteJsonAsync(shown, context, single: false, context.RequestAborted, originalsRead: originals);
        if (cores.Count > 0)
            LinkHeader.Set(context, urls, cores.Count >= page.Limit ? cores[^1].Id : null, cores[0].Id, "min_id");
        return StatusPresenter.Json(json);
    }
}
