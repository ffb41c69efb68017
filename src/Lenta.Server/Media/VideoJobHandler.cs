using System.Globalization;
using System.Text.Json;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Media;

/// <summary>
/// The payload of <see cref="VideoJobHandler"/>: the upload to process. Queued video jobs hold its JSON
/// (<c>{"MediaId":…}</c>, the photo job's shape): keep the property's name.
/// </summary>
public sealed record VideoJob(long MediaId);

/// <summary>
/// The video queue's job: <see cref="VideoProcessor"/> probes, transcodes the HLS ladder, remuxes the MP4 and cuts
/// the poster in a temp folder; every file goes to the processed store under a fresh random prefix (the playlists
/// refer to their segments by relative name, so the layout is kept). Progress (0–100) is saved as it goes.
/// A rerun after a crash deletes the earlier attempt's files and starts over; an upload that can never become a
/// video ends failed with the reason. Runs one at a time by default (queue "video", <c>Lenta__Queue__Concurrency__video</c>).
/// </summary>
public sealed class VideoJobHandler(IDatabase db, ObjectStores stores, MediaService media, IOptions<JobQueueOptions> queueOptions, TimeProvider time, ILogger<VideoJobHandler> log) : IJobHandler
{
    public const string JobType = "media.video";

    public string Type => JobType;

    public string Queue => MediaService.VideoQueue;

    public TimeSpan Timeout => TimeSpan.FromSeconds(media.Options.VideoTimeoutSeconds + 60);

    public async Task HandleAsync(Job job, CancellationToken ct)
    {
        var row = await media.GetAsync(job.Read<VideoJob>().MediaId, ct);
        if (row is null || row.State is "ready" or "failed")
            return;
        await db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET state = 'processing', progress = 0 WHERE id = @id", new { id = row.Id }), ct);

        try
        {
            await using var scratch = await MediaScratch.CreateAsync(stores, row, "video", ct);
            var input = scratch.Input;
            var output = Path.Combine(scratch.Folder, "out");
            var saved = 0;
            var progress = new Progress<int>(p =>
            {
                if (p < saved + 10 && p < 100)
                    return;
                saved = p;
                _ = db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET progress = @p WHERE id = @id AND state = 'processing'", new { p, id = row.Id }));
            });
            VideoResult result;
            try
            {
                var limits = new VideoLimits(MaxDurationSeconds: media.Options.VideoMaxDurationSeconds, Timeout: TimeSpan.FromSeconds(media.Options.VideoTimeoutSeconds));
                // The scope names the upload in every line the processor logs (ffmpeg's stderr on a failure).
                using (log.BeginScope(new Dictionary<string, object> { ["MediaId"] = row.Id, ["JobId"] = job.Id, ["Attempt"] = job.Attempt }))
                {
                    result = await VideoProcessor.ProcessAsync(input, output, limits, progress, log, ct);
                }
            }
            catch (MediaRejectedException rejected)
            {
                await FailAsync(row.Id, rejected.Message);
                throw new PermanentJobFailureException(rejected.Message);
            }

            // The poster's blurhash, through the photo pipeline (it is a JPEG we made).
            var posterWork = Path.Combine(scratch.Folder, "poster");
            var poster = PhotoProcessor.Process(Path.Combine(output, result.PosterFile), posterWork, new PhotoLimits());

            await stores.Processed.DeletePrefixAsync($"media/{row.Id}/", ct);
            var prefix = $"media/{row.Id}/{MediaService.RandomName()}";
            foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(output, file).Replace(Path.DirectorySeparatorChar, '/');
                await using var f = File.OpenRead(file);
                await stores.Processed.PutAsync($"{prefix}/{relative}", f, ct);
            }

            var size = string.Create(CultureInfo.InvariantCulture, $"{result.Width}x{result.Height}");
            var aspect = Math.Round(result.Height == 0 ? 0 : (double)result.Width / result.Height, 6);
            var meta = new MediaMeta
            {
                Length = TimeSpan.FromSeconds(result.Duration).ToString(@"h\:mm\:ss\.ff", CultureInfo.InvariantCulture),
                Duration = Math.Round(result.Duration, 2),
                Fps = Math.Round(result.Fps, 2),
                Size = size,
                Width = result.Width,
                Height = result.Height,
                Aspect = aspect,
                Bitrate = result.Bitrate,
                AudioEncode = result.AudioCodec,
                AudioChannels = result.HasAudio ? "stereo" : null,
                Original = new MediaSize(result.Width, result.Height, size, aspect),
                Small = new MediaSize(poster.Original.Width, poster.Original.Height, string.Create(CultureInfo.InvariantCulture, $"{poster.Original.Width}x{poster.Original.Height}"), aspect),
            };
            await db.WriteAsync(w => w.ExecuteAsync("""
                UPDATE media_attachments SET state = 'ready', failure_reason = NULL, progress = 100, original_key = @mp4, small_key = @poster, hls_key = @hls,
                    meta = @meta, blurhash = @blurhash, processed_at = @now
                WHERE id = @id
                """, new
            {
                id = row.Id, mp4 = $"{prefix}/{result.Mp4File}", poster = $"{prefix}/{result.PosterFile}", hls = $"{prefix}/{result.MasterPlaylist}",
                meta = JsonSerializer.Serialize(meta, MediaJson.Default.MediaMeta), blurhash = poster.Blurhash, now = time.GetUtcNow().ToUnixTimeMilliseconds(),
            }), ct);
        }
        catch (Exception e) when (e is not PermanentJobFailureException && e is not OperationCanceledException && job.Attempt >= queueOptions.Value.MaxAttempts)
        {
            log.LogWarning(e, "Video {MediaId} failed on its last attempt", row.Id);
            await FailAsync(row.Id, "Error processing the uploaded video");
            throw;
        }
    }

    private Task FailAsync(long id, string reason) =>
        db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET state = 'failed', failure_reason = @reason WHERE id = @id", new { id, reason }));
}
