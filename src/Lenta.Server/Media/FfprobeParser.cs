using System.Globalization;
using System.Text.Json;

namespace Lenta.Server.Media;

/// <summary>The video stream ffmpeg will decode. Width and height are as displayed (a -90° rotation swaps them, as ffmpeg's autorotate does).</summary>
public sealed record ProbedVideo(int Index, string Codec, int Width, int Height, double Fps, int Rotation);

/// <summary>The audio stream that goes into the ladder.</summary>
public sealed record ProbedAudio(int Index, string Codec, int Channels);

/// <summary>What <see cref="FfprobeParser.Parse"/> read from <c>ffprobe -print_format json -show_format -show_streams</c>.</summary>
public sealed record ProbeResult(string FormatName, double Duration, long Bitrate, ProbedVideo? Video, ProbedAudio? Audio);

/// <summary>
/// Pure parser for ffprobe's JSON (tested on captured output). Cover art is reported by ffprobe as a video
/// stream with <c>disposition.attached_pic</c>; it is skipped so an audio file with a picture stays audio-only.
/// </summary>
public static class FfprobeParser
{
    /// <exception cref="FormatException">The text is not ffprobe JSON.</exception>
    public static ProbeResult Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException("ffprobe output is not JSON", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("ffprobe output is not a JSON object");
            }
            var format = root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
            ProbedVideo? video = null;
            ProbedAudio? audio = null;
            double streamDuration = 0;
            if (root.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
            {
                foreach (var stream in streams.EnumerateArray())
                {
                    var type = String(stream, "codec_type");
                    if (type == "video" && video is null && !IsAttachedPicture(stream))
                    {
                        video = ParseVideo(stream);
                        streamDuration = Math.Max(streamDuration, Number(stream, "duration"));
                    }
                    else if (type == "audio" && audio is null)
                    {
                        audio = new ProbedAudio(Int(stream, "index"), String(stream, "codec_name") ?? "", Int(stream, "channels"));
                    }
                }
            }
            var duration = format.ValueKind == JsonValueKind.Object ? Number(format, "duration") : 0;
            if (duration <= 0)
            {
                duration = streamDuration;
            }
            return new ProbeResult(
                format.ValueKind == JsonValueKind.Object ? String(format, "format_name") ?? "" : "",
                duration,
                format.ValueKind == JsonValueKind.Object ? (long)Number(format, "bit_rate") : 0,
                video,
                audio);
        }
    }

    private static ProbedVideo ParseVideo(JsonElement stream)
    {
        var width = Int(stream, "width");
        var height = Int(stream, "height");
        var rotation = Rotation(stream);
        if (Math.Abs(rotation) % 180 == 90)
        {
            (width, height) = (height, width);
        }
        var fps = Rate(String(stream, "avg_frame_rate"));
        if (fps <= 0)
        {
            fps = Rate(String(stream, "r_frame_rate"));
        }
        return new ProbedVideo(Int(stream, "index"), String(stream, "codec_name") ?? "", width, height, fps, rotation);
    }

    /// <summary>The display matrix side data (ffprobe ≥ 5) or the legacy <c>rotate</c> tag.</summary>
    private static int Rotation(JsonElement stream)
    {
        if (stream.TryGetProperty("side_data_list", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in list.EnumerateArray())
            {
                if (item.TryGetProperty("rotation", out _))
                {
                    return (int)Math.Round(Number(item, "rotation"));
                }
            }
        }
        return stream.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object ? (int)Number(tags, "rotate") : 0;
    }

    private static bool IsAttachedPicture(JsonElement stream) =>
        stream.TryGetProperty("disposition", out var d) && d.ValueKind == JsonValueKind.Object && Int(d, "attached_pic") == 1;

    /// <summary>"30000/1001" → 29.97; "0/0" and garbage → 0.</summary>
    public static double Rate(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) && double.IsFinite(plain) ? plain : 0;
        }
        return double.TryParse(text.AsSpan(0, slash), NumberStyles.Float, CultureInfo.InvariantCulture, out var num)
            && double.TryParse(text.AsSpan(slash + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var den)
            && den > 0 && num > 0 && double.IsFinite(num / den)
            ? num / den
            : 0;
    }

    private static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>ffprobe writes some numbers as JSON numbers and others ("duration", "bit_rate") as strings.</summary>
    private static double Number(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return 0;
        }
        var n = v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => 0,
        };
        return double.IsFinite(n) ? n : 0;
    }

    private static int Int(JsonElement e, string name)
    {
        var n = Number(e, name);
        return n is >= int.MinValue and <= int.MaxValue ? (int)n : 0;
    }
}
