using System.Text;
using Lenta.Server.Api;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Lenta.Server.Media;

/// <summary>What an upload's multipart body carried.</summary>
public sealed record UploadParts(MediaRow? Row, string? Description, MediaFocus? Focus);

/// <summary>
/// The multipart body of <c>POST /api/v{1,2}/media</c>, read as it streams: the <c>file</c> part goes to the raw store
/// under the media limits, text parts are read up to <see cref="TextPartBytes"/> and no further, parts of other names are
/// skipped unread, and part headers are held to the reader's defaults (16 KiB and 16 fields a part). A body that is not
/// well-formed multipart is a 400; the whole body is bounded by the largest media limit plus <see cref="Overhead"/>.
/// </summary>
public static class MultipartUpload
{
    /// <summary>
    /// Longest text part: every UTF-16 unit of a description takes at most 3 UTF-8 bytes, so a longer part cannot hold a
    /// description within <see cref="MediaService.DescriptionLimit"/> (and <c>focus</c> is a dozen bytes).
    /// </summary>
    public const int TextPartBytes = 3 * MediaService.DescriptionLimit;

    /// <summary>
    /// Room beside the file for the text parts, part headers and boundaries, and for a file somewhat past its limit: the
    /// rest of such a body is read and dropped after the 413, so the client gets to read the answer (a body past the
    /// whole limit is cut off with the connection, which many clients report as a broken pipe instead).
    /// </summary>
    public const int Overhead = 1024 * 1024;

    /// <summary>RFC 2046 §5.1.1: a boundary is 1 to 70 characters.</summary>
    private const int MaxBoundary = 70;

    /// <summary>
    /// The boundary of a <c>multipart/form-data</c> request; null when the request is not multipart at all (the caller
    /// answers "file can't be blank"), a 400 when it is but its boundary is missing or malformed.
    /// </summary>
    public static string? Boundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return null;
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        return boundary is { Length: > 0 and <= MaxBoundary }
            ? boundary
            : throw new ApiException(400, $"The multipart boundary must be 1 to {MaxBoundary} characters (RFC 2046)");
    }

    public static async Task<UploadParts> ReadAsync(HttpContext context, string boundary, MediaService media, long owner)
    {
        var ct = context.RequestAborted;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = Math.Max(media.Options.ImageSizeLimit, media.Options.VideoSizeLimit) + Overhead;
        string? description = null;
        MediaFocus? focus = null;
        MediaRow? row = null;
        var reader = new MultipartReader(boundary, context.Request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                    continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (disposition.IsFileDisposition() && name == "file" && row is null)
                    row = await media.UploadAsync(owner, section.Body, description, focus, ct);
                else if (disposition.IsFormDisposition() && name == "description")
                    description = MediaApi.CheckDescription(await ReadTextAsync(section.Body, MediaApi.DescriptionTooLong, ct));
                else if (disposition.IsFormDisposition() && name == "focus")
                    focus = MediaService.ParseFocus(await ReadTextAsync(section.Body, MediaService.InvalidFocus, ct));
            }
        }
        catch (BadHttpRequestException)
        {
            throw; // Kestrel's own 4xx: the body past its limit (413), or cut short (400)
        }
        catch (Exception e) when (e is IOException or InvalidDataException && !ct.IsCancellationRequested)
        {
            throw new ApiException(400, $"The request body is not valid multipart/form-data ({e.Message})");
        }
        return new UploadParts(row, description, focus);
    }

    /// <summary>A text part, refused as too long once it passes <see cref="TextPartBytes"/> without reading the rest.</summary>
    private static async Task<string> ReadTextAsync(Stream body, Func<ApiException> tooLong, CancellationToken ct)
    {
        var buffer = new byte[TextPartBytes + 1];
        var length = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        if (length > TextPartBytes)
            throw tooLong();
        var text = Encoding.UTF8.GetString(buffer, 0, length);
        return text.Contains('\0', StringComparison.Ordinal) ? throw new ApiException(400, $"A text part is not valid: {JsonBody.NulText}") : text;
    }
}
