using System.Globalization;
using System.Text;
using Lenta.Server.Media;
using Lenta.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Tests.Media;

/// <summary>Short clips made by ffmpeg's lavfi sources once per test class, shared by the tests.</summary>
public sealed class VideoClips : IAsyncLifetime
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("lenta-video-").FullName;

    public string Landscape360 => Path.Combine(Folder, "360.mp4");
    public string Landscape720 => Path.Combine(Folder, "720.mp4");
    public string Portrait => Path.Combine(Folder, "portrait.webm");
    public string AudioOnly => Path.Combine(Folder, "audio.m4a");
    public string Truncated => Path.Combine(Folder, "truncated.mp4");
    public string Rotated => Path.Combine(Folder, "rotated.mp4");

    public static async Task FfmpegAsync(params string[] args)
    {
        var outcome = await FfmpegRunner.RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", .. args], TimeSpan.FromSeconds(60), null, CancellationToken.None);
        Assert.True(outcome.ExitCode == 0, outcome.ErrorTail);
    }

    private static string[] Clip(int width, int height, double seconds, bool audio, string output) =>
    [
        "-f", "lavfi", "-i", FormattableString.Invariant($"testsrc=size={width}x{height}:rate=30:duration={seconds}"),
        .. audio ? new[] { "-f", "lavfi", "-i", FormattableString.Invariant($"sine=frequency=440:sample_rate=44100:duration={seconds}") } : [],
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", .. audio ? new[] { "-c:a", "aac" } : [], output,
    ];

    /// <summary>
    /// A phone-style portrait clip: stored as landscape pixels (<paramref name="width"/>×<paramref name="height"/>, the
    /// long side first) with a display matrix turning it a quarter counterclockwise for display, where the top half is
    /// white and the bottom half black, under moving noise so the rungs differ in bitrate.
    /// </summary>
    public static async Task RotatedAsync(string output, int width, int height, double seconds)
    {
        var stored = output + ".stored.mp4";
        await FfmpegAsync("-f", "lavfi", "-i", FormattableString.Invariant($"color=white:size={height}x{width / 2}:rate=30:duration={seconds},pad={height}:{width}:0:0:black,noise=alls=12:allf=t,transpose=clock"),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", stored);
        // ffmpeg ≥ 6 sets the matrix with the input option -display_rotation (counterclockwise degrees); before that,
        // the mov muxer turns the legacy rotate tag into the same matrix.
        var outcome = await FfmpegRunner.RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90", "-i", stored, "-c", "copy", output], TimeSpan.FromSeconds(60), null, CancellationToken.None);
        if (outcome.ExitCode != 0)
        {
            await FfmpegAsync("-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90", output);
        }
        File.Delete(stored);
    }

    /// <summary>Mean brightness (0–255) of the top and the bottom half of the first frame as stored, ignoring any rotation metadata.</summary>
    public static async Task<(int Top, int Bottom)> HalvesAsync(string path, bool autorotate = false)
    {
        var gray = Path.Combine(Path.GetTempPath(), $"lenta-halves-{Guid.NewGuid():N}.gray");
        await FfmpegAsync([.. autorotate ? Array.Empty<string>() : ["-noautorotate"], "-i", path, "-frames:v", "1", "-vf", "scale=1:2:flags=area,format=gray", "-f", "rawvideo", gray]);
        var bytes = await File.ReadAllBytesAsync(gray);
        File.Delete(gray);
        return (bytes[0], bytes[1]);
    }

    public async ValueTask InitializeAsync()
    {
        await Task.WhenAll(
            FfmpegAsync([.. Clip(640, 360, 3, true, Landscape360)]),
            FfmpegAsync([.. Clip(1280, 720, 2.5, true, Landscape720)]),
            FfmpegAsync("-f", "lavfi", "-i", "testsrc=size=720x1280:rate=30:duration=2", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k", Portrait),
            FfmpegAsync("-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", AudioOnly),
            FfmpegAsync([.. Clip(320, 180, 2, true, Truncated)]),
            RotatedAsync(Rotated, 1280, 720, 2));
        // Without faststart the moov index is at the end; cutting the file in half loses it.
        var bytes = await File.ReadAllBytesAsync(Truncated);
        await File.WriteAllBytesAsync(Truncated, bytes[..(bytes.Length / 2)]);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class VideoProcessorTests(VideoClips clips) : IClassFixture<VideoClips>
{
    private static readonly VideoLimits Limits = new(Timeout: TimeSpan.FromSeconds(60));

    private static string NewOutput() => Directory.CreateTempSubdirectory("lenta-video-out-").FullName;

    private static async Task<string> ProbeAsync(params string[] args)
    {
        var outcome = await FfmpegRunner.RunAsync("ffprobe", ["-v", "error", .. args], TimeSpan.FromSeconds(30), null, CancellationToken.None);
        Assert.True(outcome.ExitCode == 0, outcome.ErrorTail);
        return outcome.Output;
    }

    /// <summary>Decodes every frame of a file (the null muxer) and returns its width×height.</summary>
    private static async Task<string> DecodedSizeAsync(string path)
    {
        await VideoClips.FfmpegAsync("-xerror", "-i", path, "-f", "null", "-");
        return (await ProbeAsync("-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0:s=x", path))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
    }

    private static double SegmentSeconds(string playlist) =>
        File.ReadLines(playlist).Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal))
            .Sum(l => double.Parse(l["#EXTINF:".Length..].TrimEnd(','), CultureInfo.InvariantCulture));

    /// <summary>Processes into a fresh folder; the caller deletes it after a success, a failure deletes it here.</summary>
    private static async Task<(VideoResult Result, string Output)> ProcessAsync(string input, VideoLimits? limits = null, ILogger? log = null, CancellationToken? ct = null)
    {
        var output = NewOutput();
        try
        {
            var result = await VideoProcessor.ProcessAsync(input, output, limits ?? Limits, null, log ?? NullLogger.Instance, ct ?? TestContext.Current.CancellationToken);
            return (result, output);
        }
        catch
        {
            Directory.Delete(output, recursive: true);
            throw;
        }
    }

    private static async Task AssertLadderAsync(VideoResult result, string output, double sourceDuration, params string[] expected)
    {
        var master = await File.ReadAllLinesAsync(Path.Combine(output, result.MasterPlaylist));
        var variants = master.Where(l => l.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected, variants.Select(v => v.Split("RESOLUTION=")[1].Split(',')[0]));
        Assert.All(variants, v => Assert.Contains("CODECS=\"avc1.64", v, StringComparison.Ordinal));
        var bandwidths = variants.Select(v => v.Split("BANDWIDTH=")[1].Split(',')[0]).ToList();
        Assert.Equal(bandwidths.Count, bandwidths.Distinct().Count());
        Assert.Equal(expected, result.Rungs.Select(r => $"{r.Width}x{r.Height}"));
        foreach (var rung in result.Rungs)
        {
            var playlist = Path.Combine(output, rung.PlaylistFile);
            Assert.InRange(SegmentSeconds(playlist), sourceDuration - 0.5, sourceDuration + 0.5);
            Assert.Equal($"{rung.Width}x{rung.Height}", await DecodedSizeAsync(playlist));
        }
    }

    private static async Task AssertFaststartMp4Async(string mp4, string expectedSize)
    {
        var head = new byte[4096];
        await using (var stream = File.OpenRead(mp4))
        {
            await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false);
        }
        var moov = head.AsSpan().IndexOf("moov"u8);
        var mdat = head.AsSpan().IndexOf("mdat"u8);
        Assert.True(moov >= 0 && (mdat < 0 || moov < mdat), "moov must come before mdat");
        Assert.Equal(expectedSize, await DecodedSizeAsync(mp4));
    }

    [Fact]
    public void Sniff_reads_containers_from_bytes_only()
    {
        Assert.Equal("mp4", VideoProcessor.Sniff([0, 0, 0, 0x20, .. "ftypisom"u8, 0, 0, 2, 0]));
        Assert.Equal("webm", VideoProcessor.Sniff([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, .. "webm"u8]));
        Assert.Equal("matroska", VideoProcessor.Sniff([0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x82, 0x88, .. "matroska"u8]));
        Assert.Null(VideoProcessor.Sniff("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:4,\nfile:///etc/passwd\n"u8));
        Assert.Null(VideoProcessor.Sniff("ffconcat version 1.0\nfile /etc/passwd\n"u8));
        Assert.Null(VideoProcessor.Sniff("hello, this is a text file"u8));
        Assert.Null(VideoProcessor.Sniff([]));
    }

    [Fact]
    public async Task Landscape_360p_with_audio_gets_one_rung_an_mp4_and_a_poster()
    {
        var (result, output) = await ProcessAsync(clips.Landscape360);

        Assert.Equal((640, 360, true, "aac"), (result.Width, result.Height, result.HasAudio, result.AudioCodec));
        Assert.InRange(result.Duration, 2.9, 3.1);
        Assert.Equal(30, result.Fps, 0.01);
        await AssertLadderAsync(result, output, result.Duration, "640x360");
        await AssertFaststartMp4Async(Path.Combine(output, result.Mp4File), "640x360");
        Assert.Equal("640x360", await DecodedSizeAsync(Path.Combine(output, result.PosterFile)));
        var audio = await ProbeAsync("-select_streams", "a:0", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0", Path.Combine(output, result.Mp4File));
        Assert.Equal("aac,2", audio.Trim());
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public async Task Landscape_720p_gets_360p_and_720p_and_reports_progress()
    {
        var seen = new List<int>();
        var output = NewOutput();
        var result = await VideoProcessor.ProcessAsync(clips.Landscape720, output, Limits, new SynchronousProgress(seen.Add), NullLogger.Instance, TestContext.Current.CancellationToken);

        await AssertLadderAsync(result, output, result.Duration, "640x360", "1280x720");
        await AssertFaststartMp4Async(Path.Combine(output, result.Mp4File), "1280x720");
        Assert.Equal("1280x720", await DecodedSizeAsync(Path.Combine(output, result.PosterFile)));
        Assert.Equal(0, seen[0]);
        Assert.Equal(100, seen[^1]);
        Assert.Equal(seen.Order(), seen);
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public async Task Portrait_without_audio_uses_the_short_side_for_the_ladder_and_logs_no_warning()
    {
        var logs = new RecordingLogs();
        var (result, output) = await ProcessAsync(clips.Portrait, log: logs.CreateLogger());

        Assert.DoesNotContain(logs.Entries, x => x.Level > LogLevel.Debug);
        Assert.False(result.HasAudio);
        Assert.Null(result.AudioCodec);
        await AssertLadderAsync(result, output, result.Duration, "360x640", "720x1280");
        Assert.DoesNotContain("mp4a", await File.ReadAllTextAsync(Path.Combine(output, result.MasterPlaylist)), StringComparison.Ordinal);
        await AssertFaststartMp4Async(Path.Combine(output, result.Mp4File), "720x1280");
        Assert.Equal("720x1280", await DecodedSizeAsync(Path.Combine(output, result.PosterFile)));
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public async Task Rotated_phone_video_comes_out_upright_at_its_displayed_size()
    {
        // The clip as a player shows it: portrait, white on top; its pixels alone are landscape.
        var probe = FfprobeParser.Parse(await ProbeAsync("-print_format", "json", "-show_streams", clips.Rotated));
        Assert.Equal((90, 720, 1280), (Math.Abs(probe.Video!.Rotation), probe.Video.Width, probe.Video.Height));
        Assert.Equal("width=1280\nheight=720", (await ProbeAsync("-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "default=nw=1", clips.Rotated)).Trim());
        Assert.True(await VideoClips.HalvesAsync(clips.Rotated, autorotate: true) is ( > 200, < 55));

        var (result, output) = await ProcessAsync(clips.Rotated);

        Assert.Equal((720, 1280), (result.Width, result.Height));
        await AssertLadderAsync(result, output, result.Duration, "360x640", "720x1280");
        var files = result.Rungs.Select(r => r.PlaylistFile).Append(result.Mp4File).Append(result.PosterFile).Select(f => Path.Combine(output, f)).ToList();
        foreach (var file in files)
        {
            // Upright in the pixels themselves: nothing is left for a player to turn.
            var halves = await VideoClips.HalvesAsync(file);
            Assert.True(halves is ( > 200, < 55), $"{Path.GetFileName(file)}: top {halves.Top}, bottom {halves.Bottom}");
        }
        Assert.Equal(0, FfprobeParser.Parse(await ProbeAsync("-print_format", "json", "-show_streams", Path.Combine(output, result.Mp4File))).Video!.Rotation);
        await AssertFaststartMp4Async(Path.Combine(output, result.Mp4File), "720x1280");
        Assert.Equal("720x1280", await DecodedSizeAsync(Path.Combine(output, result.PosterFile)));
        Directory.Delete(output, recursive: true);
    }

    public static TheoryData<string, string> HostileFiles => new()
    {
        { "text", "just some text, certainly not a video\n" },
        { "hls", "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n" },
        { "ffconcat", "ffconcat version 1.0\nfile /etc/passwd\n" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public async Task Text_posing_as_a_video_is_rejected(string name, string content)
    {
        var input = Path.Combine(clips.Folder, name + ".mp4");
        await File.WriteAllTextAsync(input, content, Encoding.UTF8, TestContext.Current.CancellationToken);

        Assert.Null(VideoProcessor.Sniff(await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken)));
        await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(input));
    }

    [Fact]
    public async Task Audio_only_mp4_is_rejected()
    {
        var e = await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(clips.AudioOnly));
        Assert.Contains("audio", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Truncated_mp4_is_rejected_and_ffprobes_complaint_is_logged()
    {
        var logs = new RecordingLogs();
        var e = await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(clips.Truncated, log: logs.CreateLogger()));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        // The uploader gets a plain reason; the operator gets ffprobe's own words.
        var warning = Assert.Single(logs.Entries, x => x.Level == LogLevel.Warning);
        Assert.Contains("moov atom not found", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("moov", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Video_over_the_duration_limit_is_rejected()
    {
        var e = await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(clips.Landscape360, Limits with { MaxDurationSeconds = 1 }));
        Assert.Contains("too long", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Video_over_the_size_or_frame_rate_limit_is_rejected()
    {
        await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(clips.Landscape720, Limits with { MaxWidth = 1000, MaxHeight = 1000 }));
        await Assert.ThrowsAsync<MediaRejectedException>(() => ProcessAsync(clips.Landscape360, Limits with { MaxFps = 25 }));
    }

    [Fact]
    public async Task Cancellation_kills_the_encoder()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ProcessAsync(clips.Landscape720, ct: cts.Token));
    }

    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}

/// <summary>A job over its time limit fails cleanly: the whole ffmpeg tree is killed, nothing keeps running.</summary>
public sealed class VideoTimeoutTests(VideoClips clips) : IClassFixture<VideoClips>
{
    [Fact]
    public async Task A_video_over_its_time_limit_fails_and_leaves_no_ffmpeg_running()
    {
        var output = Directory.CreateTempSubdirectory("lenta-video-timeout-").FullName;
        var logs = new RecordingLogs();
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            VideoProcessor.ProcessAsync(clips.Landscape720, output, new VideoLimits(Timeout: TimeSpan.FromMilliseconds(300)), null, logs.CreateLogger(), TestContext.Current.CancellationToken));
        Assert.True(error is FfmpegException or MediaRejectedException, error.ToString());
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("stderr tail", StringComparison.Ordinal));
        // Any ffmpeg writing into this job's folder would show up in /proc with the folder on its command line.
        await Task.Delay(500, TestContext.Current.CancellationToken);
        var survivors = Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "cmdline")).Where(File.Exists)
            .Select(f => { try { return File.ReadAllText(f); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Count(cmd => cmd.Contains(output, StringComparison.Ordinal));
        Assert.Equal(0, survivors);
        Directory.Delete(output, recursive: true);
    }
}

/// <summary>The known ffmpeg local-file-read trick: an HLS playlist dressed as a video must read nothing local.</summary>
public sealed class VideoLocalFileTests
{
    [Fact]
    public async Task A_playlist_pointing_at_a_local_file_inside_a_video_container_reads_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("lenta-video-lfi-").FullName;
        var secret = Path.Combine(folder, "secret.txt");
        await File.WriteAllTextAsync(secret, "TOP-SECRET-LOCAL-CONTENT\n", TestContext.Current.CancellationToken);
        var playlist = $"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nconcat:file://{secret}|subfile,,start,0,end,0,,:{secret}\n#EXTINF:10.0,\nfile://{secret}\n#EXT-X-ENDLIST\n";
        // An MP4 'ftyp' box first, so our sniff says mp4, then the playlist.
        byte[] ftyp = [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'m', (byte)'p', (byte)'4', (byte)'1'];
        var input = Path.Combine(folder, "evil.mp4");
        await File.WriteAllBytesAsync(input, [.. ftyp, .. Encoding.ASCII.GetBytes(playlist)], TestContext.Current.CancellationToken);
        Assert.Equal("mp4", VideoProcessor.Sniff(await File.ReadAllBytesAsync(input, TestContext.Current.CancellationToken)));

        var output = Path.Combine(folder, "out");
        await Assert.ThrowsAsync<MediaRejectedException>(() => VideoProcessor.ProcessAsync(input, output, new VideoLimits(Timeout: TimeSpan.FromSeconds(30)), null, NullLogger.Instance, TestContext.Current.CancellationToken));
        if (Directory.Exists(output))
        {
            foreach (var file in Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories))
                Assert.DoesNotContain("TOP-SECRET", await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        Directory.Delete(folder, recursive: true);
    }
}
