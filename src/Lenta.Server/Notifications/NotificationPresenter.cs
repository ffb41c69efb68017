using System.Text.Json;
using System.Text.Json.Nodes;
using Lenta.Server.Accounts;
using Lenta.Server.Api;
using Lenta.Server.Graph;
using Lenta.Server.Posts;

namespace Lenta.Server.Notifications;

/// <summary>What a page of notifications refers to, loaded in a fixed number of round trips: accounts and the statuses the viewer may see.</summary>
public sealed record NotificationContext(IReadOnlyDictionary<long, JsonNode> Accounts, IReadOnlyDictionary<long, JsonNode> Statuses)
{
    /// <summary>Whether the notification can be shown: its account exists (and is not silenced by the reader) and its status (if it has one) is there and visible.</summary>
    public bool Shows(NotificationRow row) =>
        Accounts.ContainsKey(row.FromAccountId) && (row.StatusId == 0 || Statuses.ContainsKey(row.StatusId));
}

/// <summary>Builds Notification entities (docs.joinmastodon.org/entities/Notification) and the parts of grouped results.</summary>
public sealed class NotificationPresenter(AccountService accounts, AccountPresenter accountPresenter, PostService posts, StatusPresenter statuses, BlocksAndMutes blocks)
{
    /// <summary>The accounts whose notifications <paramref name="me"/> does not see (muted with notifications, or blocked).</summary>
    public Task<IReadOnlySet<long>> SilencedAsync(long me, CancellationToken ct) => blocks.NotificationsSilencedAsync(me, ct);

    public async Task<NotificationContext> LoadAsync(long me, IEnumerable<long> accountIds, IEnumerable<long> statusIds, HttpContext context, CancellationToken ct)
    {
        // Notifications from accounts the reader mutes with notifications (Mastodon's default) or blocks are not shown:
        // their accounts are left out, so Shows says no and a group's samples skip them.
        var silenced = await SilencedAsync(me, ct);
        var rows = await accounts.Store.GetManyAsync(accountIds.Distinct().Where(a => !silenced.Contains(a)).ToList(), ct);
        var presented = rows.Values.Select(a => accountPresenter.Present(a, context)).ToList();
        var accountNodes = JsonSerializer.SerializeToNode(presented, GraphJson.Default.ListAccountEntity)!.AsArray();
        var accountMap = new Dictionary<long, JsonNode>();
        for (var i = 0; i < presented.Count; i++)
            accountMap[long.Parse(presented[i].Id, System.Globalization.CultureInfo.InvariantCulture)] = accountNodes[i]!;

        var statusMap = new Dictionary<long, JsonNode>();
        var ids = statusIds.Where(id => id != 0).Distinct().ToList();
        if (ids.Count > 0)
        {
            var cores = await posts.Cache.GetManyAsync(ids, ct);
            var visible = await posts.FilterVisibleAsync(ids.Where(cores.ContainsKey).Select(id => cores[id]).ToList(), me, ct);
            var entities = await statuses.PresentAsync(visible, context, ct);
            var statusNodes = JsonSerializer.SerializeToNode(entities, PostsJson.Default.ListStatusEntity)!.AsArray();
            for (var i = 0; i < entities.Count; i++)
                statusMap[long.Parse(entities[i].Id, System.Globalization.CultureInfo.InvariantCulture)] = statusNodes[i]!;
        }
        return new NotificationContext(accountMap, statusMap);
    }

    /// <summary>The v1 entity; the context must <see cref="NotificationContext.Shows"/> the row.</summary>
    public static JsonObject Entity(NotificationRow row, NotificationContext loaded)
    {
        var entity = new JsonObject
        {
            ["id"] = MastodonFormat.Id(row.Id),
            ["type"] = row.Type,
            ["created_at"] = MastodonFormat.DateTime(row.CreatedAt),
            ["group_key"] = row.GroupKey,
            ["account"] = loaded.Accounts[row.FromAccountId].DeepClone(),
        };
        if (row.StatusId != 0)
            entity["status"] = loaded.Statuses[row.StatusId].DeepClone();
        return entity;
    }

    public static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json; charset=utf-8");
}
