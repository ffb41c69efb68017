using System.Globalization;
using System.Text;

namespace Lenta.Server.Media;

/// <summary>One segment of a media playlist: its <c>#EXTINF</c> duration and its URI as written.</summary>
public sealed record HlsSegment(double Seconds, string Uri);

/// <summary>
/// Pure reading of the media playlists ffmpeg wrote and writing of the master playlist over them. BANDWIDTH is
/// measured from the segments after the encode rather than derived from the encoder's cap: <c>-maxrate</c> with a
/// <c>-bufsize</c> buffer lets any one segment run well over the cap, and TS packetization adds more on top.
/// </summary>
public static class HlsPlaylist
{
    /// <summary><c>#EXT-X-TARGETDURATION</c> and the segments, in order, of a media playlist (RFC 8216 §4.3.2.1, §4.3.3.1).</summary>
    /// <exception cref="FormatException">The text has no target duration or a malformed <c>#EXTINF</c>.</exception>
    public static (double TargetDuration, IReadOnlyList<HlsSegment> Segments) ReadMedia(string text)
    {
        double? target = null;
        double? pending = null;
        var segments = new List<HlsSegment>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal))
            {
                target = Seconds(line["#EXT-X-TARGETDURATION:".Length..]);
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                var value = line["#EXTINF:".Length..];
                var comma = value.IndexOf(',', StringComparison.Ordinal);
                pending = Seconds(comma < 0 ? value : value[..comma]);
            }
            else if (line.Length > 0 && !line.StartsWith('#') && pending is { } seconds)
            {
                segments.Add(new HlsSegment(seconds, line));
                pending = null;
            }
        }
        return (target ?? throw new FormatException("media playlist has no #EXT-X-TARGETDURATION"), segments);
    }

    /// <summary>
    /// The peak segment bit rate of RFC 8216 §4.1: the largest bit rate of any contiguous run of segments lasting
    /// between 0.5 and 1.5 target durations, rounded up. So a short last segment counts only together with its
    /// neighbour. A playlist with no such run (one very short segment) falls back to its fastest single segment.
    /// </summary>
    public static int PeakBitrate(IReadOnlyList<(double Seconds, long Bytes)> segments, double targetDuration)
    {
        var peak = 0.0;
        for (var first = 0; first < segments.Count; first++)
        {
            var (seconds, bytes) = (0.0, 0L);
            for (var last = first; last < segments.Count && seconds <= targetDuration * 1.5; last++)
            {
                (seconds, bytes) = (seconds + segments[last].Seconds, bytes + segments[last].Bytes);
                if (seconds >= targetDuration * 0.5 && seconds <= targetDuration * 1.5)
                {
                    peak = Math.Max(peak, bytes * 8.0 / seconds);
                }
            }
        }
        if (peak == 0)
        {
            peak = segments.Where(s => s.Seconds > 0).Select(s => s.Bytes * 8.0 / s.Seconds).DefaultIfEmpty(0).Max();
        }
        return Bits(peak);
    }

    /// <summary>AVERAGE-BANDWIDTH (RFC 8216 §4.3.4.2): all segment bits over the total duration, rounded up.</summary>
    public static int AverageBitrate(IReadOnlyList<(double Seconds, long Bytes)> segments)
    {
        var seconds = segments.Sum(s => s.Seconds);
        return seconds > 0 ? Bits(segments.Sum(s => s.Bytes) * 8.0 / seconds) : 0;
    }

    /// <summary>The master playlist: one <c>#EXT-X-STREAM-INF</c> per rung, lowest first (RFC 8216 §4.3.4.2).</summary>
    public static string Master(IEnumerable<VideoRung> rungs)
    {
        var text = new StringBuilder("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
        foreach (var rung in rungs)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"#EXT-X-STREAM-INF:BANDWIDTH={rung.Bandwidth},AVERAGE-BANDWIDTH={rung.AverageBandwidth},RESOLUTION={rung.Width}x{rung.Height},CODECS=\"{rung.Codecs}\"\n{rung.PlaylistFile}\n");
        }
        return text.ToString();
    }

    private static double Seconds(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && seconds >= 0
            ? seconds
            : throw new FormatException($"'{text}' is not a duration");

    private static int Bits(double bitsPerSecond) => (int)Math.Min(int.MaxValue, Math.Ceiling(bitsPerSecond));
}
