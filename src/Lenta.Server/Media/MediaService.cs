using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Lenta.Server.Api;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Ids;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Platform.Objects;
using Microsoft.Extensions.Options;

namespace Lenta.Server.Media;

/// <summary>One row of <c>media_attachments</c>.</summary>
public sealed class MediaRow
{
    public long Id { get; init; }
    public long AccountId { get; init; }
    public long? StatusId { get; init; }
    public string Type { get; init; } = "image";
    public string State { get; init; } = "pending";
    public string? FailureReason { get; init; }
    public string RawKey { get; init; } = "";
    public string? RawFormat { get; init; }
    public long FileSize { get; init; }
    public string? OriginalKey { get; init; }
    public string? SmallKey { get; init; }
    public string? Meta { get; init; }
    public string? HlsKey { get; init; }
    public int Progress { get; init; }
    public string? Blurhash { get; init; }
    public string? Description { get; init; }
    public double? FocusX { get; init; }
    public double? FocusY { get; init; }
    public long CreatedAt { get; init; }
}

/// <summary>
/// Uploads (the raw store), their processing state, and what processing produced (the Processed Object
/// Store). An upload streams into the raw store, then its row and its processing job commit together; the job
/// writes the variants under fresh random keys and marks the row ready (or failed, with the reason).
/// </summary>
public sealed class MediaService(IDatabase db, ObjectStores stores, IdGenerator ids, IJobQueue queue, TimeProvider time, IOptions<MediaOptions> options)
{
    public const string Queue = "photo";
    public const string VideoQueue = "video";
    public const int DescriptionLimit = 1500;

    private const string Columns = "id, account_id, status_id, type, state, failure_reason, raw_key, raw_format, file_size, original_key, small_key, meta, hls_key, progress, blurhash, description, focus_x, focus_y, created_at";

    public MediaOptions Options => options.Value;

    public Task<MediaRow?> GetAsync(long id, CancellationToken ct = default) =>
        db.ReadAsync(c => c.QuerySingleOrDefaultAsync<MediaRow>(new CommandDefinition($"SELECT {Columns} FROM media_attachments WHERE id = @id", new { id }, cancellationToken: ct)), ct);

    public async Task<Dictionary<long, MediaRow>> GetManyAsync(IReadOnlyCollection<long> mediaIds, CancellationToken ct = default)
    {
        if (mediaIds.Count == 0)
            return [];
        return (await db.ReadAsync(c => c.QueryAsync<MediaRow>(new CommandDefinition(
            $"SELECT {Columns} FROM media_attachments WHERE id {Sql.In(db.Provider, "@mediaIds")}", new { mediaIds = Sql.List(db.Provider, mediaIds) }, cancellationToken: ct)), ct)).ToDictionary(r => r.Id);
    }

    /// <summary>Streams an upload into the raw store (never whole in memory), checks its real type from its bytes, and records it with its job.</summary>
    public async Task<MediaRow> UploadAsync(long owner, Stream content, string? description, MediaFocus? focus, CancellationToken ct)
    {
        var id = ids.Next();
        var rawKey = $"media/{id}/{RandomName()}";
        long size;
        // The type is known only from the bytes, after storing; stream under the larger limit, then apply the type's own.
        var largest = Math.Max(options.Value.ImageSizeLimit, options.Value.VideoSizeLimit);
        try
        {
            size = await stores.Raw.PutAsync(rawKey, new LimitedStream(content, largest), ct);
        }
        catch (LimitExceededException)
        {
            await stores.Raw.DeletePrefixAsync($"media/{id}/", CancellationToken.None);
            throw new ApiException(413, $"File is too large; the limit is {largest} bytes");
        }
        catch
        {
            // A body cut short or malformed, or the client gone: nothing of the upload stays.
            await stores.Raw.DeletePrefixAsync($"media/{id}/", CancellationToken.None);
            throw;
        }
        if (size == 0)
        {
            await stores.Raw.DeletePrefixAsync($"media/{id}/", CancellationToken.None);
            throw new ApiException(422, "Validation failed: File is empty");
        }

        var head = new byte[64];
        int read;
        await using (var raw = (await stores.Raw.OpenReadAsync(rawKey, ct))!)
            read = await raw.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        var format = PhotoProcessor.Sniff(head.AsSpan(0, read));
        var type = "image";
        if (format is null && VideoProcessor.Sniff(head.AsSpan(0, read)) is { } container)
        {
            format = container;
            type = "video";
        }
        if (format is null)
        {
            await stores.Raw.DeletePrefixAsync($"media/{id}/", CancellationToken.None);
            throw new ApiException(422, "Validation failed: File content type is invalid, File type of uploaded media could not be verified");
        }
        var limit = type == "video" ? options.Value.VideoSizeLimit : options.Value.ImageSizeLimit;
        if (size > limit)
        {
            await stores.Raw.DeletePrefixAsync($"media/{id}/", CancellationToken.None);
            throw new ApiException(413, $"File is too large; the limit for a{(type == "image" ? "n image" : " video")} is {limit} bytes");
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await db.WriteAsync(async w =>
        {
            await w.ExecuteAsync("""
                INSERT INTO media_attachments (id, account_id, type, state, raw_key, raw_format, file_size, description, focus_x, focus_y, created_at)
                VALUES (@id, @owner, @type, 'pending', @rawKey, @format, @size, @description, @fx, @fy, @now)
                """, new { id, owner, type, rawKey, format, size, description, fx = focus?.X, fy = focus?.Y, now });
            await queue.EnqueueAsync(w, type == "video"
                ? JobRequest.For(VideoQueue, VideoJobHandler.JobType, new VideoJob(id))
                : JobRequest.For(Queue, PhotoJobHandler.JobType, new PhotoJob(id)));
        }, ct);
        return (await GetAsync(id, ct))!;
    }

    public Task UpdateAsync(long id, string? description, MediaFocus? focus, CancellationToken ct) =>
        db.WriteAsync(w => w.ExecuteAsync("""
            UPDATE media_attachments SET description = COALESCE(@description, description), focus_x = COALESCE(@fx, focus_x), focus_y = COALESCE(@fy, focus_y)
            WHERE id = @id
            """, new { id, description, fx = focus?.X, fy = focus?.Y }), ct);

    /// <summary>
    /// Deletes an upload unless a post holds it (false then): the row goes with a purge job for its files in one
    /// transaction, so a post can no longer take it and a crash before the files are gone leaves the job to finish; the
    /// files are then also deleted at once (the job, finding nothing, is a no-op).
    /// </summary>
    public async Task<bool> DeleteUnattachedAsync(long id, CancellationToken ct)
    {
        var deleted = await db.WriteAsync(async w =>
        {
            if (await w.ExecuteAsync("DELETE FROM media_attachments WHERE id = @id AND status_id IS NULL", new { id }) == 0)
                return false;
            await queue.EnqueueAsync(w, JobRequest.For(Queue, MediaPurgeHandler.JobType, new MediaPurge([id])));
            return true;
        }, ct);
        if (deleted)
            await MediaPurgeHandler.PurgeAsync(db, stores, id, CancellationToken.None);
        return deleted;
    }

    /// <summary>Parses Mastodon's <c>focus</c> ("x,y", each −1…1); 422 when malformed.</summary>
    public static MediaFocus? ParseFocus(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var parts = text.Split(',');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var x)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var y) && x is >= -1 and <= 1 && y is >= -1 and <= 1)
            return new MediaFocus(x, y);
        throw InvalidFocus();
    }

    public static ApiException InvalidFocus() => new(422, "Validation failed: Focus must be two numbers between -1.0 and 1.0, like \"0.5,-0.2\"");

    public static string RandomName() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>The entity as Mastodon shows it; variant URLs under <see cref="MediaOptions.BaseUrl"/> (or this server's /system).</summary>
    public MediaAttachmentEntity Present(MediaRow m, string serverBase)
    {
        var baseUrl = string.IsNullOrEmpty(options.Value.BaseUrl) ? serverBase + "/system" : options.Value.BaseUrl.TrimEnd('/');
        var meta = m.Meta is null ? new MediaMeta() : JsonSerializer.Deserialize(m.Meta, MediaJson.Default.MediaMeta) ?? new MediaMeta();
        if (m.FocusX is { } fx && m.FocusY is { } fy)
            meta.Focus = new MediaFocus(fx, fy);
        var ready = m.State == "ready";
        return new MediaAttachmentEntity
        {
            Id = MastodonFormat.Id(m.Id),
            Type = m.Type,
            Url = ready && m.OriginalKey is not null ? $"{baseUrl}/{m.OriginalKey}" : null,
            PreviewUrl = ready && m.SmallKey is not null ? $"{baseUrl}/{m.SmallKey}" : null,
            Meta = meta.Original is null && meta.Focus is null && meta.Duration is null ? null : meta,
            Description = m.Description,
            Blurhash = m.Blurhash,
            Lenta = new MediaLenta(m.State, ready ? 100 : m.Progress, m.FailureReason, ready && m.HlsKey is not null ? $"{baseUrl}/{m.HlsKey}" : null),
        };
    }
}

/// <summary>Counts bytes on the way through and stops the upload past the limit, so an oversized body is never stored whole.</summary>
public sealed class LimitedStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n)
    {
        _read += n;
        if (_read > limit)
            throw new LimitExceededException();
        return n;
    }
}

public sealed class LimitExceededException() : IOException("The upload is over the size limit.");
