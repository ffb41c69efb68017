using System.Text.Json.Serialization;

namespace Lenta.Server.Media;

/// <summary>docs.joinmastodon.org/entities/MediaAttachment, with Lenta's extensions in <c>lenta</c>.</summary>
public sealed class MediaAttachmentEntity
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "image";
    public string? Url { get; set; }
    public string? PreviewUrl { get; set; }
    public string? RemoteUrl { get; set; }
    public string? PreviewRemoteUrl { get; set; }
    public string? TextUrl { get; set; }
    public MediaMeta? Meta { get; set; }
    public string? Description { get; set; }
    public string? Blurhash { get; set; }
    public MediaLenta Lenta { get; set; } = new("pending", 0, null, null);
}

/// <summary><c>lenta</c>: processing state and progress (0–100), the failure reason, the HLS playlist for videos.</summary>
public sealed record MediaLenta(string State, int ProcessingProgress, string? FailureReason, string? HlsUrl);

public sealed class MediaMeta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MediaSize? Original { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MediaSize? Small { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MediaFocus? Focus { get; set; }

    // Video (docs.joinmastodon.org/entities/MediaAttachment/#video): length "0:01:28.65", duration s, fps, size, width, height, aspect, bitrate, audio.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Length { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Duration { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Fps { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Size { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Width { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Height { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Aspect { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Bitrate { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AudioEncode { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AudioChannels { get; set; }
}

public sealed record MediaSize(int Width, int Height, string Size, double Aspect);

public sealed record MediaFocus(double X, double Y);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MediaAttachmentEntity))]
[JsonSerializable(typeof(MediaMeta))]
public sealed partial class MediaJson : JsonSerializerContext;
