using System.Text.Json.Nodes;
using Lenta.Server.Accounts;
using Lenta.Server.Api;

namespace Lenta.Server.Instance;

/// <summary>
/// Endpoints apps call at start-up for features Lenta does not have yet (filters, lists, the notification policy, …):
/// valid empty answers, with the auth Mastodon asks for, so clients start cleanly instead of erroring on 404.
/// </summary>
public static class CompatApi
{
    public static void MapRead(RouteGroupBuilder api)
    {
        api.MapGet("/v2/notifications/policy", () => Json(new JsonObject
        {
            ["for_not_following"] = "accept", ["for_not_followers"] = "accept", ["for_new_accounts"] = "accept", ["for_private_mentions"] = "accept", ["for_limited_accounts"] = "filter",
            ["summary"] = new JsonObject { ["pending_requests_count"] = 0, ["pending_notifications_count"] = 0 },
        })).RequireAuth(AuthLevel.User, "read", "read:notifications");
        Empty(api, "/v1/custom_emojis", AuthLevel.Optional);
        Empty(api, "/v1/filters", AuthLevel.User, "read", "read:filters");
        Empty(api, "/v2/filters", AuthLevel.User, "read", "read:filters");
        Empty(api, "/v1/lists", AuthLevel.User, "read", "read:lists");
        Empty(api, "/v1/announcements", AuthLevel.User);
        Empty(api, "/v1/trends", AuthLevel.Optional);
        Empty(api, "/v1/trends/tags", AuthLevel.Optional);
        Empty(api, "/v1/trends/statuses", AuthLevel.Optional);
        Empty(api, "/v1/trends/links", AuthLevel.Optional);
        Empty(api, "/v1/suggestions", AuthLevel.User, "read", "read:accounts");
        Empty(api, "/v2/suggestions", AuthLevel.User, "read", "read:accounts");
        Empty(api, "/v1/domain_blocks", AuthLevel.User, "follow", "read", "read:blocks");
        Empty(api, "/v1/endorsements", AuthLevel.User, "read", "read:accounts");
        Empty(api, "/v1/featured_tags", AuthLevel.User, "read", "read:accounts");
        Empty(api, "/v1/scheduled_statuses", AuthLevel.User, "read", "read:statuses");
        api.MapGet("/v1/accounts/{id}/featured_tags", FeaturedTagsAsync).RequireAuth(AuthLevel.Optional, "read", "read:accounts");
        api.MapGet("/v1/push/subscription", () => ApiErrors.Result(404, "Record not found")).RequireAuth(AuthLevel.User, "push");
        api.MapGet("/v1/preferences", PreferencesAsync).RequireAuth(AuthLevel.User, "read", "read:accounts");
    }

    private static void Empty(RouteGroupBuilder api, string path, AuthLevel level, params string[] scopes) =>
        api.MapGet(path, () => Results.Text("[]", "application/json; charset=utf-8")).RequireAuth(level, scopes);

    /// <summary>An account's featured hashtags (docs.joinmastodon.org/methods/accounts/#featured_tags): none, for an account that exists.</summary>
    private static async Task<IResult> FeaturedTagsAsync(HttpContext context, string id, AccountService accounts) =>
        MastodonFormat.ParseId(id) is { } n && await accounts.GetAsync(n, context.RequestAborted) is not null
            ? Results.Text("[]", "application/json; charset=utf-8")
            : ApiErrors.Result(404, "Record not found");

    private static async Task<IResult> PreferencesAsync(HttpContext context, AccountService accounts)
    {
        var me = await accounts.GetAsync(context.UserId(), context.RequestAborted);
        if (me is null)
            return ApiErrors.Result(401, "The access token is invalid");
        return Json(new JsonObject
        {
            ["posting:default:visibility"] = me.DefaultPrivacy,
            ["posting:default:sensitive"] = me.DefaultSensitive,
            ["posting:default:language"] = me.DefaultLanguage,
            ["reading:expand:media"] = "default",
            ["reading:expand:spoilers"] = false,
        });
    }

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json; charset=utf-8");
}
