using System.Text.Json.Nodes;
using Lenta.Server.Api;

namespace Lenta.Server.Notifications;

/// <summary>docs.joinmastodon.org/methods/markers: where a person stopped reading home and notifications, kept across devices.</summary>
public static class MarkersApi
{
    public static void MapRead(RouteGroupBuilder api) =>
        api.MapGet("/v1/markers", GetAsync).RequireAuth(AuthLevel.User, "read", "read:statuses");

    public static void MapWrite(RouteGroupBuilder api) =>
        api.MapPost("/v1/markers", SaveAsync).RequireAuth(AuthLevel.User, "write", "write:statuses");

    /// <summary>Only the timelines asked for (<c>timeline[]</c>) that have a marker; unknown names are ignored.</summary>
    private static async Task<IResult> GetAsync(HttpContext context, MarkerStore markers)
    {
        var p = await ApiParams.ReadAsync(context);
        var asked = p.Strings("timeline").Where(MarkerStore.Timelines.Contains).Distinct().ToList();
        var rows = asked.Count == 0 ? [] : await markers.GetAsync(context.UserId(), asked, context.RequestAborted);
        return NotificationPresenter.Json(Body(rows));
    }

    /// <summary><c>home[last_read_id]</c> and/or <c>notifications[last_read_id]</c> (form or JSON); answers the saved markers.</summary>
    private static async Task<IResult> SaveAsync(HttpContext context, MarkerStore markers)
    {
        var p = await ApiParams.ReadAsync(context);
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var timeline in MarkerStore.Timelines)
        {
            if (p.Object(timeline) is not { } marker)
                continue;
            var lastReadId = marker.String("last_read_id");
            if (string.IsNullOrWhiteSpace(lastReadId))
                return ApiErrors.Result(422, "Validation failed: Last read can't be blank");
            if (lastReadId.Length > 64)
                return ApiErrors.Result(422, "Validation failed: Last read is too long");
            given[timeline] = lastReadId;
        }
        var saved = given.Count == 0 ? [] : await markers.SaveAsync(context.UserId(), given, context.RequestAborted);
        return NotificationPresenter.Json(Body(saved));
    }

    private static JsonObject Body(IEnumerable<MarkerRow> rows)
    {
        var body = new JsonObject();
        foreach (var r in rows)
        {
            body[r.Timeline] = new JsonObject
            {
                ["last_read_id"] = r.LastReadId,
                ["version"] = r.Version,
                ["updated_at"] = MastodonFormat.DateTime(r.UpdatedAt),
            };
        }
        return body;
    }
}
