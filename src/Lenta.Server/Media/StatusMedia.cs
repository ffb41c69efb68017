using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;

namespace Lenta.Server.Media;

/// <summary>Media as posts see them: attaching uploads to a new post, showing them, and purging them with the post.</summary>
public sealed class StatusMedia(MediaService media, IJobQueue queue)
{
    /// <summary>The caller's own, unattached, processed uploads among <paramref name="mediaIds"/>; 422 otherwise, in Mastodon's words.</summary>
    public async Task<IReadOnlyList<long>> ValidateAsync(long owner, IReadOnlyList<string> mediaIds, CancellationToken ct)
    {
        var ids = mediaIds.Select(MastodonFormat.ParseId).ToList();
        var rows = await media.GetManyAsync(ids.OfType<long>().ToList(), ct);
        var missing = mediaIds.Where((text, i) => ids[i] is not { } id || !rows.TryGetValue(id, out var r) || r.AccountId != owner || r.StatusId is not null).ToList();
        if (missing.Count > 0)
            throw new ApiException(422, $"Validation failed: Media attachments not found or already attached: {string.Join(", ", missing)}");
        if (rows.Values.Any(r => r.State == "failed"))
            throw new ApiException(422, "Validation failed: Media attachments include a file that failed processing");
        if (rows.Values.Any(r => r.State != "ready"))
            throw new ApiException(422, "Cannot attach files that have not finished processing. Try again in a moment!");
        if (rows.Count > 1 && rows.Values.Any(r => r.Type is "video" or "gifv" or "audio"))
            throw new ApiException(422, "Validation failed: A video cannot be attached together with other media");
        return ids.OfType<long>().Distinct().ToList();
    }

    /// <summary>Links them to the post inside its transaction; fails (rolling the post back) if another post took one meanwhile.</summary>
    public async Task AttachAsync(DbWrite write, long owner, long statusId, IReadOnlyList<long> mediaIds)
    {
        var attached = await write.ExecuteAsync($"""
            UPDATE media_attachments SET status_id = @statusId
            WHERE id {Sql.In(write.Provider, "@mediaIds")} AND account_id = @owner AND status_id IS NULL AND state = 'ready'
            """, new { statusId, owner, mediaIds = Sql.List(write.Provider, mediaIds) });
        if (attached != mediaIds.Count)
            throw new ApiException(422, "Validation failed: Media attachments not found or already attached"); // raced with another post
    }

    /// <summary>A post's whole set of media after an edit: a video only alone (the new ones were checked by <see cref="ValidateAsync"/>).</summary>
    public async Task CheckCombinationAsync(IReadOnlyCollection<long> mediaIds, CancellationToken ct)
    {
        if (mediaIds.Count > 1 && (await media.GetManyAsync(mediaIds, ct)).Values.Any(r => r.Type is "video" or "gifv" or "audio"))
            throw new ApiException(422, "Validation failed: A video cannot be attached together with other media");
    }

    /// <summary>The alt text of each of <paramref name="mediaIds"/> now (an edit keeps it with each version of the post).</summary>
    public async Task<Dictionary<long, string?>> DescriptionsAsync(IReadOnlyCollection<long> mediaIds, CancellationToken ct) =>
        (await media.GetManyAsync(mediaIds, ct)).ToDictionary(kv => kv.Key, kv => kv.Value.Description);

    /// <summary>An edit's <c>media_attributes</c>: alt text and focus of a medium attached to the author's post, in the edit's transaction.</summary>
    public Task DescribeAsync(DbWrite write, long owner, long statusId, long mediaId, string? description, MediaFocus? focus) =>
        write.ExecuteAsync("""
            UPDATE media_attachments SET description = COALESCE(@description, description), focus_x = COALESCE(@fx, focus_x), focus_y = COALESCE(@fy, focus_y)
            WHERE id = @mediaId AND account_id = @owner AND status_id = @statusId
            """, new { mediaId, owner, statusId, description, fx = focus?.X, fy = focus?.Y });

    public async Task<IReadOnlyDictionary<long, MediaAttachmentEntity>> PresentAsync(IReadOnlyCollection<long> mediaIds, string baseUrl, CancellationToken ct) =>
        (await media.GetManyAsync(mediaIds, ct)).ToDictionary(kv => kv.Key, kv => media.Present(kv.Value, baseUrl));

    /// <summary>A deleted post's media are purged (objects, then rows) by a job written in the delete's transaction.</summary>
    public Task PurgeWithPostAsync(DbWrite write, long[] mediaIds) =>
        mediaIds.Length == 0 ? Task.CompletedTask : queue.EnqueueAsync(write, JobRequest.For(MediaService.Queue, MediaPurgeHandler.JobType, new MediaPurge(mediaIds)));
}

public sealed record MediaPurge(long[] MediaIds);

/// <summary>Deletes uploads' files from both stores, then their rows; safe to run again.</summary>
public sealed class MediaPurgeHandler(IDatabase db, ObjectStores stores) : IJobHandler
{
    public const string JobType = "media.purge";

    public string Type => JobType;

    public string Queue => MediaService.Queue;

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        foreach (var id in job.Read<MediaPurge>().MediaIds)
            await PurgeAsync(db, stores, id, ct);
    }

    public static async Task PurgeAsync(IDatabase db, ObjectStores stores, long id, CancellationToken ct)
    {
        await stores.Processed.DeletePrefixAsync($"media/{id}/", ct);
        await stores.Raw.DeletePrefixAsync($"media/{id}/", ct);
        await db.WriteAsync(w => w.ExecuteAsync("DELETE FROM media_attachments WHERE id = @id", new { id }), ct);
    }
}

/// <summary>Deletes uploads never attached to a post once they are older than <see cref="MediaOptions.UnattachedRetentionHours"/> (role worker, every 10 minutes).</summary>
public sealed class MediaJanitor(IDatabase db, ObjectStores stores, MediaService media, TimeProvider time, ILogger<MediaJanitor> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Sweeping unattached media failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var cutoff = time.GetUtcNow().AddHours(-media.Options.UnattachedRetentionHours).ToUnixTimeMilliseconds();
        var stale = (await db.ReadAsync(c => c.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM media_attachments WHERE status_id IS NULL AND created_at < @cutoff ORDER BY created_at LIMIT 1000", new { cutoff }, cancellationToken: ct)), ct)).ToList();
        foreach (var id in stale)
            await MediaPurgeHandler.PurgeAsync(db, stores, id, ct);
        return stale.Count;
    }
}
