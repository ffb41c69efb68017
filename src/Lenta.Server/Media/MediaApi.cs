using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Lenta.Server.Media;

/// <summary>docs.joinmastodon.org/methods/media, and the processed store served as a CDN origin under /system.</summary>
public static class MediaApi
{
    public static IServiceCollection AddLentaMedia(this IServiceCollection services, IConfiguration config, Platform.Hosting.ServerRoles roles)
    {
        if (roles.HasFlag(Platform.Hosting.ServerRoles.Worker))
            services.AddHostedService(sp => sp.GetRequiredService<MediaJanitor>());
        services.AddOptions<MediaOptions>().Bind(config.GetSection(MediaOptions.Section))
            .Validate(o => o.ImageSizeLimit > 0, "Lenta__Media__ImageSizeLimit: must be positive.")
            .Validate(o => o.ProfileImageSizeLimit > 0, "Lenta__Media__ProfileImageSizeLimit: must be positive.")
            .Validate(o => o.MaxPixels > 0, "Lenta__Media__MaxPixels: must be positive.")
            .Validate(o => o.BaseUrl.Length == 0 || Uri.TryCreate(o.BaseUrl, UriKind.Absolute, out _), "Lenta__Media__BaseUrl: must be an absolute URL.")
            .Validate(o => o.UnattachedRetentionHours >= 1, "Lenta__Media__UnattachedRetentionHours: must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<IMigrationSource, MediaMigrations>();
        services.AddSingleton<MediaService>();
        services.AddSingleton<Accounts.IProfileImages, ProfileImages>();
        services.AddSingleton<IJobHandler, PhotoJobHandler>();
        services.AddSingleton<IJobHandler, VideoJobHandler>();
        services.AddSingleton<IJobHandler, MediaPurgeHandler>();
        services.AddSingleton<MediaJanitor>();
        services.AddSingleton<StatusMedia>();
        PhotoProcessor.Harden();
        // Photo jobs already run side by side (queue "photo", 2 by default); libvips' own per-image threads on top
        // halve throughput on 2 cores (docs/PERFORMANCE.md, photos: 3.1 → 6.2 photos/s with one thread per image).
        NetVips.NetVips.Concurrency = 1;
        return services;
    }

    public static void MapWrite(RouteGroupBuilder api)
    {
        api.MapPost("/v2/media", (HttpContext c, MediaService m, PublicUrls u) => UploadAsync(c, m, u, wait: false))
            .RequireAuth(AuthLevel.User, "write", "write:media").WithMetadata(new RequestSizeLimitMetadata());
        api.MapPost("/v1/media", (HttpContext c, MediaService m, PublicUrls u) => UploadAsync(c, m, u, wait: true))
            .RequireAuth(AuthLevel.User, "write", "write:media").WithMetadata(new RequestSizeLimitMetadata());
        api.MapPut("/v1/media/{id}", UpdateAsync).RequireAuth(AuthLevel.User, "write", "write:media");
        api.MapDelete("/v1/media/{id}", DeleteAsync).RequireAuth(AuthLevel.User, "write", "write:media");
    }

    public static void MapRead(RouteGroupBuilder api, IEndpointRouteBuilder root)
    {
        api.MapGet("/v1/media/{id}", GetAsync).RequireAuth(AuthLevel.User, "write", "write:media");
        root.MapGet("/system/{**key}", ServeAsync);
    }

    /// <summary>The upload endpoints set their own body limit from the media limits (<see cref="MultipartUpload"/>).</summary>
    private sealed class RequestSizeLimitMetadata : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => null;
    }

    private static async Task<IResult> UploadAsync(HttpContext context, MediaService media, PublicUrls urls, bool wait)
    {
        var me = context.UserId();
        if (MultipartUpload.Boundary(context.Request.ContentType) is not { } boundary)
            return ApiErrors.Result(422, "Validation failed: File can't be blank (send multipart/form-data with a file field)");
        var (row, description, focus) = await MultipartUpload.ReadAsync(context, boundary, media, me);
        if (row is null)
            return ApiErrors.Result(422, "Validation failed: File can't be blank");
        if (description is not null || focus is not null)
            await media.UpdateAsync(row.Id, description, focus, context.RequestAborted);

        if (wait)
        {
            var deadline = DateTime.UtcNow.AddSeconds(media.Options.SyncWaitSeconds);
            while (DateTime.UtcNow < deadline && (await media.GetAsync(row.Id, context.RequestAborted))!.State is "pending" or "processing")
                await Task.Delay(100, context.RequestAborted);
        }
        row = (await media.GetAsync(row.Id, context.RequestAborted))!;
        if (row.State == "failed")
            return ApiErrors.Result(422, $"Validation failed: {row.FailureReason}");
        var entity = media.Present(row, urls.Base(context));
        return TypedResults.Json(entity, MediaJson.Default.MediaAttachmentEntity, statusCode: row.State == "ready" ? 200 : 202);
    }

    public static string? CheckDescription(string? value) => value is { Length: > MediaService.DescriptionLimit } ? throw DescriptionTooLong() : value;

    public static ApiException DescriptionTooLong() =>
        new(422, $"Validation failed: Description is too long (maximum is {MediaService.DescriptionLimit} characters)");

    /// <summary>The caller's own, unattached upload: 200 ready, 206 processing, 422 failed (with the reason), else 404.</summary>
    private static async Task<IResult> GetAsync(HttpContext context, string id, MediaService media, PublicUrls urls)
    {
        var row = await OwnUnattachedAsync(context, id, media);
        if (row is null)
            return ApiErrors.Result(404, "Record not found");
        if (row.State == "failed")
            return ApiErrors.Result(422, row.FailureReason ?? "Error processing the uploaded media");
        return TypedResults.Json(media.Present(row, urls.Base(context)), MediaJson.Default.MediaAttachmentEntity, statusCode: row.State == "ready" ? 200 : 206);
    }

    private static async Task<IResult> UpdateAsync(HttpContext context, string id, MediaService media, PublicUrls urls)
    {
        var row = await OwnUnattachedAsync(context, id, media);
        if (row is null)
            return ApiErrors.Result(404, "Record not found");
        var p = await ApiParams.ReadAsync(context);
        await media.UpdateAsync(row.Id, CheckDescription(p.String("description")), MediaService.ParseFocus(p.String("focus")), context.RequestAborted);
        row = (await media.GetAsync(row.Id, context.RequestAborted))!;
        return TypedResults.Json(media.Present(row, urls.Base(context)), MediaJson.Default.MediaAttachmentEntity, statusCode: row.State == "ready" ? 200 : 206);
    }

    /// <summary>Mastodon 4.4's DELETE /api/v1/media/:id: 200 with <c>{}</c>; attached to a post, 422; another's or none, 404.</summary>
    private static async Task<IResult> DeleteAsync(HttpContext context, string id, MediaService media)
    {
        var row = MastodonFormat.ParseId(id) is { } n ? await media.GetAsync(n, context.RequestAborted) : null;
        if (row is null || row.AccountId != context.UserId())
            return ApiErrors.Result(404, "Record not found");
        return await media.DeleteUnattachedAsync(row.Id, context.RequestAborted)
            ? TypedResults.Text("{}", "application/json")
            : ApiErrors.Result(422, "Media attachment is currently used by a status");
    }

    private static async Task<MediaRow?> OwnUnattachedAsync(HttpContext context, string id, MediaService media)
    {
        var row = MastodonFormat.ParseId(id) is { } n ? await media.GetAsync(n, context.RequestAborted) : null;
        return row is not null && row.AccountId == context.UserId() && row.StatusId is null ? row : null;
    }

    /// <summary>
    /// The processed store as a CDN origin: immutable keys with a year of caching, ETag, Range, the right content
    /// type and nosniff. Only processed variants are reachable; originals stay in the raw store, never served.
    /// </summary>
    private static async Task<IResult> ServeAsync(HttpContext context, string key, ObjectStores stores)
    {
        var contentType = ObjectContentTypes.Of(key);
        if (contentType is null || !(key.StartsWith("media/", StringComparison.Ordinal) || key.StartsWith(ProfileImages.KeyPrefix, StringComparison.Ordinal)))
            return ApiErrors.Result(404, "Record not found");
        try
        {
            ObjectKeys.Validate(key);
        }
        catch (ArgumentException)
        {
            return ApiErrors.Result(404, "Record not found");
        }
        var info = await stores.Processed.StatAsync(key, context.RequestAborted);
        var stream = info is null ? null : await stores.Processed.OpenReadAsync(key, context.RequestAborted);
        if (info is null || stream is null)
            return ApiErrors.Result(404, "Record not found");
        var headers = context.Response.Headers;
        headers.CacheControl = ObjectContentTypes.Immutable;
        headers.XContentTypeOptions = "nosniff";
        headers.AccessControlAllowOrigin = "*";
        return Results.File(stream, contentType, lastModified: info.LastModified, entityTag: new EntityTagHeaderValue(info.ETag), enableRangeProcessing: true);
    }
}
