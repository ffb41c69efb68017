using System.Globalization;
using System.Text.Json;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Media;

/// <summary>The payload of <see cref="PhotoJobHandler"/>: the upload to process.</summary>
public sealed record PhotoJob(long MediaId);

/// <summary>
/// The photo queue's job: copies the raw upload to a temporary file, lets <see cref="PhotoProcessor"/> decode and
/// re-encode it, stores the variants under fresh random keys, and marks the upload ready. A rerun (after a crash
/// or a transient failure) first deletes whatever an earlier attempt left, so each run starts clean.
/// Input that can never be a photo ends the upload failed with the reason, at once.
/// </summary>
public sealed class PhotoJobHandler(IDatabase db, ObjectStores stores, MediaService media, IOptions<JobQueueOptions> queueOptions, TimeProvider time, ILogger<PhotoJobHandler> log) : IJobHandler
{
    public const string JobType = "media.photo";

    public string Type => JobType;

    public string Queue => MediaService.Queue;

    public TimeSpan Timeout => TimeSpan.FromMinutes(2);

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var work = job.Read<PhotoJob>();
        var row = await media.GetAsync(work.MediaId, ct);
        if (row is null || row.State is "ready" or "failed")
            return; // deleted meanwhile, or an earlier delivery finished it
        await SetStateAsync(row.Id, "processing", null, ct);

        try
        {
            await using var scratch = await MediaScratch.CreateAsync(stores, row, "photo", ct);
            var input = scratch.Input;
            var output = Path.Combine(scratch.Folder, "out");
            Directory.CreateDirectory(output);
            PhotoResult result;
            try
            {
                result = await Task.Run(() => PhotoProcessor.Process(input, output, new PhotoLimits(MaxInputPixels: media.Options.MaxPixels)), ct);
            }
            catch (MediaRejectedException rejected)
            {
                await SetStateAsync(row.Id, "failed", rejected.Message, ct);
                throw new PermanentJobFailureException(rejected.Message);
            }

            await stores.Processed.DeletePrefixAsync($"media/{row.Id}/", ct);
            var prefix = $"media/{row.Id}/{MediaService.RandomName()}";
            var originalKey = $"{prefix}/original.{result.Original.Extension}";
            var smallKey = $"{prefix}/small.{result.Small.Extension}";
            await using (var f = File.OpenRead(result.Original.Path))
                await stores.Processed.PutAsync(originalKey, f, ct);
            await using (var f = File.OpenRead(result.Small.Path))
                await stores.Processed.PutAsync(smallKey, f, ct);

            var meta = new MediaMeta
            {
                Original = Size(result.Original.Width, result.Original.Height),
                Small = Size(result.Small.Width, result.Small.Height),
            };
            await db.WriteAsync(w => w.ExecuteAsync("""
                UPDATE media_attachments SET state = 'ready', failure_reason = NULL, original_key = @originalKey, small_key = @smallKey,
                    meta = @meta, blurhash = @blurhash, processed_at = @now
                WHERE id = @id
                """, new { id = row.Id, originalKey, smallKey, meta = JsonSerializer.Serialize(meta, MediaJson.Default.MediaMeta), blurhash = result.Blurhash, now = time.GetUtcNow().ToUnixTimeMilliseconds() }), ct);
        }
        catch (Exception e) when (e is not PermanentJobFailureException && e is not OperationCanceledException && job.Attempt >= queueOptions.Value.MaxAttempts)
        {
            log.LogWarning(e, "Photo {MediaId} failed on its last attempt", row.Id);
            await SetStateAsync(row.Id, "failed", "Error processing the uploaded media", CancellationToken.None);
            throw;
        }
    }

    private static MediaSize Size(int w, int h) =>
        new(w, h, string.Create(CultureInfo.InvariantCulture, $"{w}x{h}"), Math.Round(h == 0 ? 0 : (double)w / h, 6));

    private Task SetStateAsync(long id, string state, string? reason, CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET state = @state, failure_reason = @reason WHERE id = @id", new { id, state, reason }), ct);
}
