using System.Text.Json.Nodes;
using Lenta.Server.Api;

namespace Lenta.Server.Notifications;

/// <summary>
/// docs.joinmastodon.org/methods/grouped_notifications: the same rows as v1, grouped (<see cref="NotificationGroups"/>),
/// answered as GroupedNotificationsResults: the accounts and statuses once each, and the groups referring to them.
/// </summary>
public static class GroupedNotificationsApi
{
    private const int DefaultLimit = 40;

    /// <summary>Mastodon's sample size (NotificationGroup::SAMPLE_ACCOUNTS_SIZE).</summary>
    private const int SampleAccounts = 8;

    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v2/notifications", ListAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        api.MapGet("/v2/notifications/unread_count", UnreadCountAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        api.MapGet("/v2/notifications/{groupKey}", GetAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
        api.MapGet("/v2/notifications/{groupKey}/accounts", AccountsAsync).RequireAuth(AuthLevel.User, "read", "read:notifications");
    }

    public static void MapWrite(RouteGroupBuilder api) =>
        api.MapPost("/v2/notifications/{groupKey}/dismiss", DismissAsync).RequireAuth(AuthLevel.User, "write", "write:notifications");

    private static async Task<IResult> ListAsync(HttpContext context, NotificationStore store, NotificationPresenter presenter, PublicUrls urls)
    {
        var me = context.UserId();
        var page = Page.Parse(context.Request, DefaultLimit);
        var p = await ApiParams.ReadAsync(context);
        var filter = await NotificationsApi.FilterAsync(context);
        var grouped = GroupedTypes(p);
        var rows = await store.PageAsync(me, page with { Limit = NotificationGroups.Window }, filter, context.RequestAborted);
        if (page.MinId is not null)
            rows.Reverse(); // walked from the cursor upward
        // Notifications from silenced accounts (muted with notifications, blocked) are left out before grouping, so a group
        // whose latest one is silenced still shows with the others.
        if (rows.Count > 0 && await presenter.SilencedAsync(me, context.RequestAborted) is { Count: > 0 } silenced)
            rows.RemoveAll(r => silenced.Contains(r.FromAccountId));
        if (NotificationGroups.Build(rows, page.Limit, grouped) is not var (groups, low, high))
            return NotificationPresenter.Json(Results([], [], [], PartialAvatars(p)));
        var body = await BodyAsync(me, groups, high, paging: true, PartialAvatars(p), store, presenter, context);
        LinkHeader.Set(context, urls, low, high, "min_id");
        return NotificationPresenter.Json(body);
    }

    private static async Task<IResult> GetAsync(HttpContext context, string groupKey, NotificationStore store, NotificationPresenter presenter)
    {
        var me = context.UserId();
        var rows = await store.GroupAsync(me, groupKey, null, SampleAccounts, context.RequestAborted);
        if (rows.Count == 0)
            return ApiErrors.Result(404, "Record not found");
        var body = await BodyAsync(me, [new NotificationGroup(groupKey, rows)], long.MaxValue, paging: false, partialAvatars: false, store, presenter, context);
        return body["notification_groups"]!.AsArray().Count == 0 ? ApiErrors.Result(404, "Record not found") : NotificationPresenter.Json(body);
    }

    /// <summary>The accounts of a group's notifications, newest first (at most 80).</summary>
    private static async Task<IResult> AccountsAsync(HttpContext context, string groupKey, NotificationStore store, NotificationPresenter presenter)
    {
        var me = context.UserId();
        var rows = await store.GroupAsync(me, groupKey, null, 80, context.RequestAborted);
        if (rows.Count == 0)
            return ApiErrors.Result(404, "Record not found");
        var ids = rows.Select(r => r.FromAccountId).Distinct().ToList();
        var loaded = await presenter.LoadAsync(me, ids, [], context, context.RequestAborted);
        return NotificationPresenter.Json(new JsonArray(ids.Where(loaded.Accounts.ContainsKey).Select(id => loaded.Accounts[id].DeepClone()).ToArray()));
    }

    private static async Task<IResult> DismissAsync(HttpContext context, string groupKey, NotificationStore store)
    {
        await store.DismissGroupAsync(context.UserId(), groupKey, context.RequestAborted);
        return NotificationPresenter.Json(new JsonObject());
    }

    /// <summary>How many groups the unread notifications (above the notifications marker) make, up to <c>limit</c> (default 100, at most 1000).</summary>
    private static async Task<IResult> UnreadCountAsync(HttpContext context, NotificationStore store, MarkerStore markers)
    {
        var me = context.UserId();
        var limit = NotificationsApi.UnreadLimit(context);
        var grouped = GroupedTypes(await ApiParams.ReadAsync(context));
        var rows = await store.UnreadRowsAsync(me, await markers.NotificationsReadUpToAsync(me, context.RequestAborted), NotificationGroups.Window, context.RequestAborted);
        var count = rows.Select(r => NotificationGroups.KeyOf(r, grouped)).Distinct(StringComparer.Ordinal).Count();
        return NotificationPresenter.Json(new JsonObject { ["count"] = Math.Min(count, limit) });
    }

    /// <summary>
    /// Mastodon's NotificationGroup.from_notifications: for a real group, the count and the sample accounts are of its
    /// notifications up to the page's newest (<paramref name="upTo"/>), its page ids of those within the page.
    /// </summary>
    private static async Task<JsonObject> BodyAsync(long me, List<NotificationGroup> groups, long upTo, bool paging, bool partialAvatars,
        NotificationStore store, NotificationPresenter presenter, HttpContext context)
    {
        var ct = context.RequestAborted;
        var real = groups.Where(g => !g.IsUngrouped).ToList();
        var counts = real.Count == 0 ? [] : await store.GroupCountsAsync(me, real.Select(g => g.Key).ToList(), upTo, ct);
        var samples = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var g in real)
            samples[g.Key] = (await store.GroupAsync(me, g.Key, upTo, SampleAccounts, ct)).Select(r => r.FromAccountId).ToList();
        foreach (var g in groups.Where(g => g.IsUngrouped))
            samples[g.Key] = [g.Latest.FromAccountId];

        var loaded = await presenter.LoadAsync(me, samples.Values.SelectMany(s => s), groups.Select(g => g.Latest.StatusId), context, ct);
        var shown = groups.Where(g => loaded.Shows(g.Latest)).ToList();
        var groupNodes = new List<JsonNode>();
        var full = new List<long>();
        var partial = new List<long>();
        foreach (var g in shown)
        {
            var sample = samples[g.Key].Where(loaded.Accounts.ContainsKey).ToList();
            var node = new JsonObject
            {
                ["group_key"] = g.Key,
                ["notifications_count"] = g.IsUngrouped ? 1 : counts.GetValueOrDefault(g.Key, g.Rows.Count),
                ["type"] = g.Latest.Type,
                ["most_recent_notification_id"] = g.Latest.Id, // a JSON number, as Mastodon sends it (Ice Cubes decodes it so)
            };
            if (paging)
            {
                node["page_min_id"] = MastodonFormat.Id(g.Rows[^1].Id);
                node["page_max_id"] = MastodonFormat.Id(g.Latest.Id);
            }
            node["latest_page_notification_at"] = MastodonFormat.DateTime(g.Latest.CreatedAt);
            node["sample_account_ids"] = new JsonArray(sample.Select(id => (JsonNode)MastodonFormat.Id(id)).ToArray());
            if (g.Latest.StatusId != 0)
                node["status_id"] = MastodonFormat.Id(g.Latest.StatusId);
            groupNodes.Add(node);
            for (var i = 0; i < sample.Count; i++)
                (i == 0 || !partialAvatars ? full : partial).Add(sample[i]);
        }
        var statusIds = shown.Select(g => g.Latest.StatusId).Where(id => id != 0).Distinct().ToList();
        // Status authors are in the statuses themselves; accounts lists the groups' accounts, each once.
        var fullIds = full.Distinct().ToList();
        var partialIds = partial.Distinct().Where(id => !fullIds.Contains(id)).ToList();
        var body = Results(
            fullIds.Select(id => loaded.Accounts[id].DeepClone()).ToList(),
            statusIds.Select(id => loaded.Statuses[id].DeepClone()).ToList(),
            groupNodes,
            partialAvatars);
        if (partialAvatars)
            body["partial_accounts"] = new JsonArray(partialIds.Select(id => (JsonNode)Partial(loaded.Accounts[id])).ToArray());
        return body;
    }

    private static JsonObject Results(List<JsonNode> accounts, List<JsonNode> statuses, List<JsonNode> groups, bool partialAvatars)
    {
        var body = new JsonObject
        {
            ["accounts"] = new JsonArray(accounts.ToArray()),
            ["statuses"] = new JsonArray(statuses.ToArray()),
            ["notification_groups"] = new JsonArray(groups.ToArray()),
        };
        if (partialAvatars)
            body["partial_accounts"] = new JsonArray();
        return body;
    }

    /// <summary>docs.joinmastodon.org/entities/PartialAccountWithAvatar.</summary>
    private static JsonObject Partial(JsonNode account)
    {
        var partial = new JsonObject();
        foreach (var field in new[] { "id", "acct", "url", "avatar", "avatar_static", "locked", "bot" })
            partial[field] = account[field]?.DeepClone();
        return partial;
    }

    private static bool PartialAvatars(ApiParams p) => p.String("expand_accounts") == "partial_avatars";

    /// <summary><c>grouped_types[]</c>, or Mastodon's groupable types when not given.</summary>
    private static IReadOnlySet<string> GroupedTypes(ApiParams p) =>
        p.Strings("grouped_types") is { Count: > 0 } given ? given.ToHashSet(StringComparer.Ordinal) : NotificationTypes.Groupable;
}
