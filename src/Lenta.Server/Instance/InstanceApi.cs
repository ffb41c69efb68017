using System.Text.Json.Nodes;
using Lenta.Server.Accounts;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Api;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Instance;

/// <summary>docs.joinmastodon.org/methods/instance: what the server is and the limits clients read at start-up.</summary>
public static class InstanceApi
{
    public const string Version = "4.3.0+lenta.1";

    public static void MapRead(RouteGroupBuilder api, IEndpointRouteBuilder root)
    {
        api.MapGet("/v2/instance", V2Async);
        api.MapGet("/v1/instance", V1Async);
        api.MapGet("/v1/instance/peers", () => Results.Text("[]", "application/json"));
        api.MapGet("/v1/instance/activity", () => Results.Text("[]", "application/json"));
        api.MapGet("/v1/instance/rules", () => Results.Text("[]", "application/json"));
        api.MapGet("/v1/instance/extended_description", (IOptions<InstanceOptions> o) =>
            Json(new JsonObject { ["updated_at"] = MastodonFormat.DateTime(0), ["content"] = HtmlText.FromPlain(o.Value.Description) }));
        root.MapGet("/.well-known/nodeinfo", (HttpContext ctx, PublicUrls urls) => Json(new JsonObject
        {
            ["links"] = new JsonArray(new JsonObject { ["rel"] = "http://nodeinfo.diaspora.software/ns/schema/2.0", ["href"] = urls.Base(ctx) + "/nodeinfo/2.0" }),
        }));
        root.MapGet("/nodeinfo/2.0", NodeInfoAsync);
    }

    private static async Task<IResult> V2Async(HttpContext ctx, IOptions<InstanceOptions> options, IOptions<Media.MediaOptions> media, PublicUrls urls, ServerKeys keys, AccountService accounts)
    {
        var o = options.Value;
        var b = urls.Base(ctx);
        var (users, _) = await accounts.CountAsync(ctx.RequestAborted);
        return Json(new JsonObject
        {
            ["domain"] = urls.Host(ctx),
            ["title"] = o.Title,
            ["version"] = Version,
            ["source_url"] = o.SourceUrl,
            ["description"] = o.Description,
            ["usage"] = new JsonObject { ["users"] = new JsonObject { ["active_month"] = users } },
            ["thumbnail"] = new JsonObject { ["url"] = b + "/avatars/original/missing.png" },
            ["icon"] = new JsonArray(),
            ["languages"] = new JsonArray("en"),
            ["configuration"] = new JsonObject
            {
                ["urls"] = new JsonObject { ["streaming"] = StreamingOrigin(b), ["status"] = null, ["about"] = b + "/about", ["privacy_policy"] = null, ["terms_of_service"] = null },
                ["vapid"] = new JsonObject { ["public_key"] = await keys.VapidPublicKeyAsync() },
                ["accounts"] = AccountsConfig(),
                ["statuses"] = StatusesConfig(o),
                ["media_attachments"] = MediaConfig(o, media.Value, withDescriptionLimit: true),
                ["polls"] = PollsConfig(),
                ["translation"] = new JsonObject { ["enabled"] = false },
            },
            ["registrations"] = new JsonObject { ["enabled"] = o.RegistrationsOpen, ["approval_required"] = false, ["message"] = null, ["url"] = null, ["min_age"] = null, ["reason_required"] = false },
            ["api_versions"] = new JsonObject { ["mastodon"] = 2 },
            ["contact"] = new JsonObject { ["email"] = o.ContactEmail, ["account"] = null },
            ["rules"] = new JsonArray(),
        });
    }

    private static async Task<IResult> V1Async(HttpContext ctx, IOptions<InstanceOptions> options, IOptions<Media.MediaOptions> media, PublicUrls urls, AccountService accounts)
    {
        var o = options.Value;
        var b = urls.Base(ctx);
        var stats = await accounts.CountAsync(ctx.RequestAborted);
        return Json(new JsonObject
        {
            ["uri"] = urls.Host(ctx),
            ["title"] = o.Title,
            ["short_description"] = o.Description,
            ["description"] = o.Description,
            ["email"] = o.ContactEmail,
            ["version"] = Version,
            ["urls"] = new JsonObject { ["streaming_api"] = StreamingOrigin(b) },
            ["stats"] = new JsonObject { ["user_count"] = stats.Users, ["status_count"] = stats.Statuses, ["domain_count"] = 0 },
            ["thumbnail"] = b + "/avatars/original/missing.png",
            ["languages"] = new JsonArray("en"),
            ["registrations"] = o.RegistrationsOpen,
            ["approval_required"] = false,
            ["invites_enabled"] = false,
            ["configuration"] = new JsonObject
            {
                ["accounts"] = AccountsConfig(),
                ["statuses"] = StatusesConfig(o),
                ["media_attachments"] = MediaConfig(o, media.Value, withDescriptionLimit: false),
                ["polls"] = PollsConfig(),
            },
            ["contact_account"] = null,
            ["rules"] = new JsonArray(),
        });
    }

    private static async Task<IResult> NodeInfoAsync(HttpContext ctx, AccountService accounts, IOptions<InstanceOptions> options)
    {
        var (users, _) = await accounts.CountAsync(ctx.RequestAborted);
        return Json(new JsonObject
        {
            ["version"] = "2.0",
            ["software"] = new JsonObject { ["name"] = "lenta", ["version"] = Version },
            ["protocols"] = new JsonArray(),
            ["services"] = new JsonObject { ["outbound"] = new JsonArray(), ["inbound"] = new JsonArray() },
            ["usage"] = new JsonObject { ["users"] = new JsonObject { ["total"] = users, ["activeMonth"] = users, ["activeHalfyear"] = users }, ["localPosts"] = 0 },
            ["openRegistrations"] = options.Value.RegistrationsOpen,
            // Clients such as megalodon's detector() pick their API dialect from the upstream name: Lenta speaks Mastodon's.
            ["metadata"] = new JsonObject { ["nodeName"] = options.Value.Title, ["upstream"] = new JsonObject { ["name"] = "mastodon", ["version"] = Version } },
        });
    }


    private static JsonObject AccountsConfig() => new()
    {
        ["max_featured_tags"] = 10,
        ["max_pinned_statuses"] = 5,
        ["max_display_name_length"] = AccountService.MaxDisplayName,
        ["max_note_length"] = AccountService.MaxNote,
        ["max_profile_fields"] = AccountService.MaxFields,
        ["profile_field_name_limit"] = AccountService.MaxFieldLength,
        ["profile_field_value_limit"] = AccountService.MaxFieldLength,
    };

    private static JsonObject StatusesConfig(InstanceOptions o) => new()
    {
        ["max_characters"] = o.MaxCharacters,
        ["max_media_attachments"] = o.MaxMediaAttachments,
        ["characters_reserved_per_url"] = 23,
    };

    /// <summary>What the Media module enforces, so clients are told the same limits the server applies.</summary>
    private static JsonObject MediaConfig(InstanceOptions o, Media.MediaOptions media, bool withDescriptionLimit)
    {
        var config = new JsonObject
        {
            // HEIC (HEVC) is not listed: the bundled libvips decodes AV1 only, so iPhone HEIC uploads fail with a clear reason.
            ["supported_mime_types"] = new JsonArray("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "video/mp4", "video/quicktime", "video/webm", "video/x-matroska"),
            ["image_size_limit"] = media.ImageSizeLimit,
            ["image_matrix_limit"] = media.MaxPixels,
            ["video_size_limit"] = media.VideoSizeLimit,
            ["video_frame_rate_limit"] = 120,
            ["video_matrix_limit"] = 8_294_400,
        };
        if (withDescriptionLimit)
            config["description_limit"] = Media.MediaService.DescriptionLimit;
        return config;
    }

    private static JsonObject PollsConfig() => new()
    {
        ["max_options"] = 4,
        ["max_characters_per_option"] = 50,
        ["min_expiration"] = 300,
        ["max_expiration"] = 2_629_746,
    };

    private static IResult Json(JsonNode node) => Results.Text(node.ToJsonString(), "application/json; charset=utf-8");

    /// <summary>The WebSocket origin of the streaming API (docs.joinmastodon.org/entities/Instance): this server's own, ws for http and wss for https.</summary>
    private static string StreamingOrigin(string baseUrl) =>
        baseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? "wss://" + baseUrl["https://".Length..]
        : baseUrl.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? "ws://" + baseUrl["http://".Length..] : baseUrl;
}
