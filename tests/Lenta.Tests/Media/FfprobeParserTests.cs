using Lenta.Server.Media;

namespace Lenta.Tests.Media;

/// <summary>Golden ffprobe 5.1 output (<c>-print_format json -show_format -show_streams</c>), trimmed of fields the parser ignores.</summary>
public sealed class FfprobeParserTests
{
    private const string Mp4WithAudio = """
        {
            "streams": [
                {
                    "index": 0, "codec_name": "h264", "profile": "High", "codec_type": "video", "codec_tag_string": "avc1",
                    "width": 640, "height": 360, "coded_width": 640, "coded_height": 360, "pix_fmt": "yuv420p", "level": 30,
                    "r_frame_rate": "30/1", "avg_frame_rate": "30/1", "time_base": "1/15360", "start_pts": 0,
                    "duration_ts": 46080, "duration": "3.000000", "bit_rate": "97035", "nb_frames": "90",
                    "disposition": { "default": 1, "attached_pic": 0 },
                    "tags": { "language": "und", "handler_name": "VideoHandler", "vendor_id": "[0][0][0][0]" }
                },
                {
                    "index": 1, "codec_name": "aac", "profile": "LC", "codec_type": "audio", "sample_fmt": "fltp",
                    "sample_rate": "44100", "channels": 1, "channel_layout": "mono", "r_frame_rate": "0/0", "avg_frame_rate": "0/0",
                    "duration": "3.000000", "bit_rate": "69691",
                    "disposition": { "default": 1, "attached_pic": 0 }
                }
            ],
            "format": {
                "filename": "/tmp/360.mp4", "nb_streams": 2, "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
                "start_time": "0.000000", "duration": "3.000000", "size": "64361", "bit_rate": "171629", "probe_score": 100
            }
        }
        """;

    /// <summary>A phone clip: cover art first, then a 1920×1080 stream shown rotated by -90° (portrait), NTSC rate.</summary>
    private const string RotatedPhoneClipWithCoverArt = """
        {
            "streams": [
                { "index": 0, "codec_name": "mjpeg", "codec_type": "video", "width": 300, "height": 300,
                  "r_frame_rate": "90000/1", "avg_frame_rate": "0/0", "disposition": { "default": 0, "attached_pic": 1 } },
                { "index": 1, "codec_name": "hevc", "codec_type": "video", "width": 1920, "height": 1080,
                  "r_frame_rate": "30000/1001", "avg_frame_rate": "30000/1001", "duration": "12.012000",
                  "side_data_list": [ { "side_data_type": "Display Matrix", "displaymatrix": "\n00000000: 0 65536 0\n", "rotation": -90 } ],
                  "disposition": { "default": 1, "attached_pic": 0 } },
                { "index": 2, "codec_name": "aac", "codec_type": "audio", "channels": 2 }
            ],
            "format": { "format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.045000", "bit_rate": "8123456" }
        }
        """;

    [Fact]
    public void Mp4_with_audio_is_read()
    {
        var probe = FfprobeParser.Parse(Mp4WithAudio);

        Assert.Equal(new ProbeResult("mov,mp4,m4a,3gp,3g2,mj2", 3.0, 171_629,
            new ProbedVideo(0, "h264", 640, 360, 30, 0), new ProbedAudio(1, "aac", 1)), probe);
    }

    [Fact]
    public void Cover_art_is_skipped_and_rotation_swaps_the_size()
    {
        var probe = FfprobeParser.Parse(RotatedPhoneClipWithCoverArt);

        Assert.Equal(new ProbedVideo(1, "hevc", 1080, 1920, 30000.0 / 1001, -90), probe.Video);
        Assert.Equal(12.045, probe.Duration);
        Assert.Equal(new ProbedAudio(2, "aac", 2), probe.Audio);
    }

    [Fact]
    public void Audio_only_has_no_video()
    {
        var probe = FfprobeParser.Parse("""{ "streams": [ { "index": 0, "codec_type": "audio", "codec_name": "aac", "channels": 2 } ], "format": { "duration": "2.0" } }""");

        Assert.Null(probe.Video);
        var e = Assert.Throws<MediaRejectedException>(() => VideoProcessor.Check(probe, new VideoLimits()));
        Assert.Contains("audio", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    public void Garbage_is_a_format_error(string text) =>
        Assert.Throws<FormatException>(() => FfprobeParser.Parse(text));

    [Theory]
    [InlineData("30000/1001", 29.97)]
    [InlineData("0/0", 0)]
    [InlineData("25", 25)]
    [InlineData("x/y", 0)]
    public void Frame_rates_are_fractions(string text, double expected) =>
        Assert.Equal(expected, FfprobeParser.Rate(text), 2);

    [Theory]
    [InlineData("out_time_us=1500000", 1.5)]
    [InlineData("out_time_us=N/A", null)]
    [InlineData("frame=12", null)]
    public void Progress_lines_give_seconds(string line, double? expected) =>
        Assert.Equal(expected, FfmpegRunner.ParseProgressSeconds(line));

    [Fact]
    public void Ladder_for_portrait_1080p_uses_the_short_side()
    {
        var rungs = VideoLadder.Plan(1080, 1920, 30, hasAudio: true);

        Assert.Equal(["360x640", "720x1280", "1080x1920"], rungs.Select(r => $"{r.Width}x{r.Height}"));
        Assert.Equal(["avc1.64001e,mp4a.40.2", "avc1.64001f,mp4a.40.2", "avc1.640028,mp4a.40.2"], rungs.Select(r => r.Codecs));
    }

    [Fact]
    public void Ladder_for_a_tiny_source_is_one_rung_at_the_source_size()
    {
        var rung = Assert.Single(VideoLadder.Plan(321, 241, 30, hasAudio: false));

        Assert.Equal((320, 240, "avc1.64001e"), (rung.Width, rung.Height, rung.Codecs));
    }
}
