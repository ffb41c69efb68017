using System.Globalization;
using Lenta.Server.Media;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Media;

/// <summary>
/// The master playlist's BANDWIDTH must hold for what was really written. RFC 8216 §4.3.4.2: BANDWIDTH is the peak
/// segment bit rate, and §4.1 defines that as the largest bit rate of any contiguous set of segments lasting
/// between 0.5 and 1.5 times the target duration. Measured here from the segment files, with no tolerance.
/// </summary>
public sealed class VideoBandwidthTests
{
    private sealed record Segment(double Seconds, long Bytes)
    {
        public double Bitrate => Bytes * 8 / Seconds;
    }

    private sealed record Variant(int Bandwidth, int? AverageBandwidth, int Width, int Height, string Uri);

    [Fact]
    public async Task Bandwidth_is_the_measured_peak_segment_bitrate_of_a_source_hard_enough_to_hit_the_cap()
    {
        var folder = Directory.CreateTempSubdirectory("lenta-video-bandwidth-").FullName;
        var source = Path.Combine(folder, "noise.mp4");
        // Moving test pattern under fresh noise in every frame: at 1080p the CRF wants far more than the rungs' caps.
        // 15 fps keeps the encode quick; the cap binds in bits per second, whatever the frame rate.
        await VideoClips.FfmpegAsync(
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=15:duration=10",
            "-f", "lavfi", "-i", "anoisesrc=duration=10:amplitude=0.3",
            "-vf", "noise=alls=20:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", source);
        var output = Path.Combine(folder, "out");

        var result = await VideoProcessor.ProcessAsync(source, output, new VideoLimits(Timeout: TimeSpan.FromSeconds(120)), null, NullLogger.Instance, TestContext.Current.CancellationToken);

        var master = await File.ReadAllLinesAsync(Path.Combine(output, result.MasterPlaylist), TestContext.Current.CancellationToken);
        var variants = master.Index().Where(x => x.Item.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal))
            .Select(x => ParseVariant(x.Item, master[x.Index + 1])).ToList();
        Assert.Equal(["640x360", "1280x720", "1920x1080"], variants.Select(v => $"{v.Width}x{v.Height}"));
        var measured = variants.Select(v =>
        {
            var (target, segments) = ReadMediaPlaylist(Path.Combine(output, v.Uri));
            return (Peak: PeakSegmentBitrate(segments, target), Average: segments.Sum(s => s.Bytes) * 8 / segments.Sum(s => s.Seconds), Segments: segments);
        }).ToList();
        var report = string.Join('\n', variants.Zip(measured, (v, m) => FormattableString.Invariant(
            $"{v.Uri}: BANDWIDTH {v.Bandwidth} AVERAGE-BANDWIDTH {v.AverageBandwidth} measured peak {m.Peak:0} average {m.Average:0}, segments {string.Join(' ', m.Segments.Select(s => $"{s.Seconds:0.##}s@{s.Bitrate:0}"))}")));

        Assert.All(variants.Zip(measured), x => Assert.True(x.Second.Peak <= x.First.Bandwidth, report));
        // Not a loose upper bound either: players pick the rung by it.
        Assert.All(variants.Zip(measured), x => Assert.True(x.First.Bandwidth <= (x.Second.Peak * 1.02) + 1, report));
        Assert.All(variants.Zip(measured), x =>
        {
            Assert.True(x.First.AverageBandwidth is { } average && average <= x.First.Bandwidth, report);
            Assert.InRange(x.First.AverageBandwidth!.Value, x.Second.Average * 0.98, (x.Second.Average * 1.02) + 1);
        });
        Assert.Equal(variants.Select(v => v.Bandwidth).Order(), variants.Select(v => v.Bandwidth));
        Assert.Equal(variants.Count, variants.Select(v => v.Bandwidth).Distinct().Count());
        // The source really is hard: the 1080p rung runs at its 6 Mb/s cap, so the cap is what BANDWIDTH had to survive.
        Assert.True(measured[^1].Average > 5_000_000, report);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Media_playlist_gives_target_duration_and_segments_in_order()
    {
        var (target, segments) = HlsPlaylist.ReadMedia("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000000,\n720p_000.ts\n#EXTINF:1.5,\r\n720p_001.ts\n#EXT-X-ENDLIST\n");

        Assert.Equal(4, target);
        Assert.Equal([new HlsSegment(4, "720p_000.ts"), new HlsSegment(1.5, "720p_001.ts")], segments);
        Assert.Throws<FormatException>(() => HlsPlaylist.ReadMedia("#EXTM3U\n#EXTINF:4,\na.ts\n"));
    }

    [Fact]
    public void Peak_counts_a_short_last_segment_only_with_its_neighbour()
    {
        // 1 Mb/s, 2 Mb/s, then 0.5 s at 16 Mb/s: too short alone (target 4 → runs of 2–6 s); with the one before, 3.6 Mb/s.
        (double, long)[] segments = [(4, 500_000), (4, 1_000_000), (0.5, 1_000_000)];

        Assert.Equal(3_555_556, HlsPlaylist.PeakBitrate(segments, 4));
        Assert.Equal(2_352_942, HlsPlaylist.AverageBitrate(segments));
        // One segment shorter than half the target is still the whole playlist's peak.
        Assert.Equal(16_000_000, HlsPlaylist.PeakBitrate([(0.5, 1_000_000)], 4));
    }

    private static Variant ParseVariant(string line, string uri)
    {
        var attributes = line["#EXT-X-STREAM-INF:".Length..].Split(',')
            .Select(a => a.Split('=', 2)).Where(a => a.Length == 2).ToDictionary(a => a[0], a => a[1]);
        var resolution = attributes["RESOLUTION"].Split('x');
        return new Variant(
            int.Parse(attributes["BANDWIDTH"], CultureInfo.InvariantCulture),
            attributes.TryGetValue("AVERAGE-BANDWIDTH", out var average) ? int.Parse(average, CultureInfo.InvariantCulture) : null,
            int.Parse(resolution[0], CultureInfo.InvariantCulture), int.Parse(resolution[1], CultureInfo.InvariantCulture), uri.Trim());
    }

    private static (double Target, List<Segment> Segments) ReadMediaPlaylist(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        var lines = File.ReadAllLines(path);
        var target = double.Parse(lines.Single(l => l.StartsWith("#EXT-X-TARGETDURATION:", StringComparison.Ordinal)).Split(':')[1], CultureInfo.InvariantCulture);
        var segments = new List<Segment>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                var seconds = double.Parse(lines[i]["#EXTINF:".Length..].Split(',')[0], CultureInfo.InvariantCulture);
                segments.Add(new Segment(seconds, new FileInfo(Path.Combine(folder, lines[i + 1].Trim())).Length));
            }
        }
        return (target, segments);
    }

    /// <summary>RFC 8216 §4.1, checked over every contiguous run; each whole segment of at least half the target is one such run.</summary>
    private static double PeakSegmentBitrate(List<Segment> segments, double target)
    {
        var peak = 0.0;
        for (var first = 0; first < segments.Count; first++)
        {
            var (seconds, bytes) = (0.0, 0L);
            for (var last = first; last < segments.Count; last++)
            {
                (seconds, bytes) = (seconds + segments[last].Seconds, bytes + segments[last].Bytes);
                if (seconds >= target * 0.5 && seconds <= target * 1.5)
                {
                    peak = Math.Max(peak, bytes * 8 / seconds);
                }
            }
        }
        Assert.True(peak > 0, "no run of segments lasts 0.5–1.5 target durations");
        return peak;
    }
}
