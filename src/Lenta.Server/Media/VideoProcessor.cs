using System.Diagnostics;
using System.Globalization;

namespace Lenta.Server.Media;

/// <summary>What a video upload may be. Width and height are checked orientation-free (a 2160×3840 portrait passes 3840×2160).</summary>
public sealed record VideoLimits(long MaxWidth = 3840, long MaxHeight = 2160, double MaxFps = 120, double MaxDurationSeconds = 600, TimeSpan? Timeout = null);

/// <summary>
/// One HLS rendition; <paramref name="PlaylistFile"/> is relative to the output folder. <paramref name="Bandwidth"/> and
/// <paramref name="AverageBandwidth"/> are measured from the written segments (see <see cref="HlsPlaylist.PeakBitrate"/>).
/// </summary>
public sealed record VideoRung(string Name, int Width, int Height, int Bandwidth, int AverageBandwidth, string Codecs, string PlaylistFile);

/// <summary>What <see cref="VideoProcessor.ProcessAsync"/> wrote; file names are relative to the output folder. Width/Height/Fps/Duration describe the source.</summary>
public sealed record VideoResult(string MasterPlaylist, IReadOnlyList<VideoRung> Rungs, string Mp4File, string PosterFile, int Width, int Height, double Duration, double Fps, bool HasAudio, string? AudioCodec, long Bitrate);

/// <summary>
/// Turns an untrusted upload into an HLS ladder, a progressive MP4 and a poster. The container is sniffed
/// from the bytes and forced on ffprobe/ffmpeg, and only the file protocol is allowed, so a playlist or an
/// ffconcat file posing as a video cannot make ffmpeg read other files or URLs.
/// </summary>
public static class VideoProcessor
{
    public const string MasterFile = "master.m3u8";
    public const string Mp4FileName = "video.mp4";
    public const string PosterFileName = "poster.jpg";

    private const string Ffmpeg = "ffmpeg";
    private const string Ffprobe = "ffprobe";
    private const string Preset = "veryfast";
    private const int Crf = 23;
    private const double SegmentSeconds = 4;
    private const double KeyframeSeconds = 2;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    private const string NotAVideo = "File type of uploaded media could not be verified: only MP4, MOV, WebM and Matroska videos are accepted";
    private const string Unreadable = "Video could not be read: the file is damaged, truncated or not really a video";

    private static readonly HashSet<string> VideoCodecs = ["h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "prores"];
    private static readonly HashSet<string> AudioCodecs = ["aac", "mp3", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_f32le"];

    /// <summary>"mp4" (also MOV), "webm", "matroska" from the first bytes, or null. Never from names.</summary>
    public static string? Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 12)
        {
            var box = head.Slice(4, 4);
            if (box.SequenceEqual("ftyp"u8))
            {
                return "mp4";
            }
            // QuickTime files from before ftyp start straight with one of these atoms.
            if (box.SequenceEqual("moov"u8) || box.SequenceEqual("mdat"u8) || box.SequenceEqual("wide"u8))
            {
                return "mp4";
            }
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3]))
        {
            // The EBML header's DocType is within the first few dozen bytes.
            var header = head[..Math.Min(head.Length, 64)];
            return header.IndexOf("webm"u8) >= 0 ? "webm" : header.IndexOf("matroska"u8) >= 0 ? "matroska" : null;
        }
        return null;
    }

    /// <param name="log">gets each run's stderr tail: at Warning when the run fails or times out, at Debug otherwise;
    /// the caller's logging scope says which upload it is</param>
    public static async Task<VideoResult> ProcessAsync(string inputPath, string outputFolder, VideoLimits limits, IProgress<int>? progress, ILogger log, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var budget = limits.Timeout ?? DefaultTimeout;
        TimeSpan Remaining() => budget - clock.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1);

        var demuxer = Sniff(await ReadHeadAsync(inputPath, ct)) ?? throw new MediaRejectedException(NotAVideo);
        var probe = await ProbeAsync(inputPath, demuxer, Remaining(), log, ct);
        var video = Check(probe, limits);
        var audio = UsableAudio(probe);
        var hasAudio = audio is not null;

        Directory.CreateDirectory(outputFolder);
        var planned = VideoLadder.Plan(video.Width, video.Height, video.Fps, hasAudio);
        progress?.Report(0);
        var lastPercent = 0;
        var encoded = 0.0;
        var encode = await RunAsync(Ffmpeg, "ladder", LadderArguments(inputPath, demuxer, outputFolder, video, audio, planned), Remaining(), line =>
        {
            if (FfmpegRunner.ParseProgressSeconds(line) is { } seconds)
            {
                encoded = seconds;
                var percent = (int)Math.Clamp(seconds / probe.Duration * 90, 0, 90);
                if (percent > lastPercent)
                {
                    lastPercent = percent;
                    progress?.Report(percent);
                }
            }
        }, log, ct);
        // ffmpeg exits 0 on a file whose tail is missing; a ladder much shorter than the header's duration means truncation.
        var truncated = encoded < (probe.Duration * 0.9) - 0.5;
        LogStderr(log, Ffmpeg, "ladder", encode, encode.ExitCode != 0 ? $"exit code {encode.ExitCode}"
            : truncated ? string.Create(CultureInfo.InvariantCulture, $"stopped at {encoded:0.##} s of {probe.Duration:0.##} s") : null);
        if (encode.ExitCode != 0 || truncated)
        {
            throw new MediaRejectedException(Unreadable);
        }

        var rungs = new List<VideoRung>();
        foreach (var p in planned)
        {
            rungs.Add(await MeasureAsync(outputFolder, p, ct));
        }
        await File.WriteAllTextAsync(Path.Combine(outputFolder, MasterFile), HlsPlaylist.Master(rungs), ct);

        var mp4Source = rungs.LastOrDefault(r => Math.Min(r.Width, r.Height) <= 720) ?? rungs[0];
        await RunOurOwnAsync(Mp4Arguments(Path.Combine(outputFolder, mp4Source.PlaylistFile), Path.Combine(outputFolder, Mp4FileName)), "MP4 remux", Remaining(), log, ct);
        progress?.Report(95);
        var posterAt = Math.Min(1.0, probe.Duration / 3);
        await RunOurOwnAsync(PosterArguments(Path.Combine(outputFolder, Mp4FileName), posterAt, Path.Combine(outputFolder, PosterFileName)), "poster", Remaining(), log, ct);
        progress?.Report(100);

        return new VideoResult(MasterFile, rungs, Mp4FileName, PosterFileName, video.Width, video.Height, probe.Duration, video.Fps, hasAudio, audio?.Codec, probe.Bitrate);
    }

    /// <summary>The rung with BANDWIDTH and AVERAGE-BANDWIDTH from the sizes of the segments ffmpeg wrote for it.</summary>
    private static async Task<VideoRung> MeasureAsync(string outputFolder, PlannedRung planned, CancellationToken ct)
    {
        var playlist = $"{planned.Name}.m3u8";
        var (target, segments) = HlsPlaylist.ReadMedia(await File.ReadAllTextAsync(Path.Combine(outputFolder, playlist), ct));
        if (segments.Count == 0)
        {
            throw new FfmpegException($"ffmpeg wrote no segments for {planned.Name}");
        }
        // ffmpeg names the segments next to the playlist; GetFileName keeps the lookup inside the folder.
        var sized = segments.Select(s => (s.Seconds, new FileInfo(Path.Combine(outputFolder, Path.GetFileName(s.Uri))).Length)).ToList();
        return new VideoRung(planned.Name, planned.Width, planned.Height, HlsPlaylist.PeakBitrate(sized, target), HlsPlaylist.AverageBitrate(sized), planned.Codecs, playlist);
    }

    private static async Task<byte[]> ReadHeadAsync(string path, CancellationToken ct)
    {
        var head = new byte[64];
        await using var stream = File.OpenRead(path);
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        return head[..read];
    }

    private static async Task<ProbeResult> ProbeAsync(string inputPath, string demuxer, TimeSpan timeout, ILogger log, CancellationToken ct)
    {
        // ffprobe has no -nostdin; the runner closes its stdin instead.
        var outcome = await RunAsync(Ffprobe, "probe",
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", .. Input(demuxer, inputPath)],
            timeout, null, log, ct);
        ProbeResult? probe = null;
        if (outcome.ExitCode == 0)
        {
            try
            {
                probe = FfprobeParser.Parse(outcome.Output);
            }
            catch (FormatException)
            {
            }
        }
        LogStderr(log, Ffprobe, "probe", outcome, outcome.ExitCode != 0 ? $"exit code {outcome.ExitCode}" : probe is null ? "output is not ffprobe JSON" : null);
        return probe ?? throw new MediaRejectedException(Unreadable);
    }

    /// <summary>The limits, applied to what ffprobe read from the headers before anything is decoded.</summary>
    public static ProbedVideo Check(ProbeResult probe, VideoLimits limits)
    {
        var video = probe.Video ?? throw new MediaRejectedException(probe.Audio is null
            ? "Video has no video stream"
            : "File has only audio: audio uploads are not accepted as video");
        if (!VideoCodecs.Contains(video.Codec))
        {
            throw new MediaRejectedException($"Video codec {video.Codec} is not supported");
        }
        if (video.Width <= 0 || video.Height <= 0 || probe.Duration <= 0 || video.Fps <= 0)
        {
            throw new MediaRejectedException(Unreadable);
        }
        if (probe.Duration > limits.MaxDurationSeconds)
        {
            throw new MediaRejectedException(string.Create(CultureInfo.InvariantCulture,
                $"Video is too long: {probe.Duration:0.#} s, at most {limits.MaxDurationSeconds:0.#} s are accepted"));
        }
        var (longLimit, shortLimit) = (Math.Max(limits.MaxWidth, limits.MaxHeight), Math.Min(limits.MaxWidth, limits.MaxHeight));
        if (Math.Max(video.Width, video.Height) > longLimit || Math.Min(video.Width, video.Height) > shortLimit)
        {
            throw new MediaRejectedException($"Video is too large: {video.Width}×{video.Height}, at most {limits.MaxWidth}×{limits.MaxHeight} is accepted");
        }
        if (video.Fps > limits.MaxFps + 0.01)
        {
            throw new MediaRejectedException(string.Create(CultureInfo.InvariantCulture,
                $"Video frame rate is too high: {video.Fps:0.##} fps, at most {limits.MaxFps:0.##} fps are accepted"));
        }
        return video;
    }

    /// <summary>The probed audio stream when its codec is one we transcode; others are dropped.</summary>
    public static ProbedAudio? UsableAudio(ProbeResult probe) => probe.Audio is { } a && AudioCodecs.Contains(a.Codec) ? a : null;

    /// <summary>Input options shared by every run on an upload: file protocol only, the demuxer we sniffed.</summary>
    private static IEnumerable<string> Input(string demuxer, string path) =>
        ["-protocol_whitelist", "file", "-f", demuxer, "-i", "file:" + path];

    /// <summary>
    /// The exact ffmpeg arguments of the one-run ladder encode for a probed upload: what the job runs, and what the
    /// <c>video</c> benchmark runs bare to compare the job's wall time against.
    /// </summary>
    public static List<string> LadderArguments(string inputPath, string demuxer, string outputFolder, ProbedVideo video, ProbedAudio? audio, IReadOnlyList<PlannedRung> rungs)
    {
        var args = new List<string> { "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y" };
        args.AddRange(Input(demuxer, inputPath));
        // ffmpeg's autorotate (on by default) turns the frames upright per the display matrix before this graph, so the
        // rung sizes are the displayed ones the probe reports; the segments and the MP4 made from them carry no matrix.
        var graph = $"[0:{video.Index}]split={rungs.Count}" + string.Concat(rungs.Select((_, i) => $"[s{i}]"))
            + string.Concat(rungs.Select((r, i) => $";[s{i}]scale={r.Width}:{r.Height},setsar=1,format=yuv420p[v{i}]"));
        args.AddRange(["-filter_complex", graph]);
        for (var i = 0; i < rungs.Count; i++)
        {
            args.AddRange(["-map", $"[v{i}]"]);
            if (audio is not null)
            {
                args.AddRange(["-map", $"0:{audio.Index}"]);
            }
        }
        args.AddRange([
            "-map_metadata", "-1", "-map_chapters", "-1",
            "-c:v", "libx264", "-preset", Preset, "-crf", Crf.ToString(CultureInfo.InvariantCulture), "-profile:v", "high",
            "-force_key_frames", FormattableString.Invariant($"expr:gte(t,n_forced*{KeyframeSeconds})"), "-sc_threshold", "0",
        ]);
        for (var i = 0; i < rungs.Count; i++)
        {
            var rate = rungs[i].MaxVideoBitrate.ToString(CultureInfo.InvariantCulture);
            var buffer = (rungs[i].MaxVideoBitrate * 2).ToString(CultureInfo.InvariantCulture);
            args.AddRange([$"-maxrate:v:{i}", rate, $"-bufsize:v:{i}", buffer, $"-level:v:{i}", rungs[i].Level]);
        }
        if (audio is not null)
        {
            args.AddRange(["-c:a", "aac", "-b:a", VideoLadder.AudioBitrate.ToString(CultureInfo.InvariantCulture), "-ac", "2", "-ar", "48000"]);
        }
        var streamMap = string.Join(' ', rungs.Select((r, i) => audio is null ? $"v:{i},name:{r.Name}" : $"v:{i},a:{i},name:{r.Name}"));
        args.AddRange([
            "-f", "hls", "-hls_time", SegmentSeconds.ToString(CultureInfo.InvariantCulture), "-hls_playlist_type", "vod",
            "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
            "-hls_segment_filename", Path.Combine(outputFolder, "%v_%03d.ts"),
            "-var_stream_map", streamMap,
            "-progress", "pipe:1",
            Path.Combine(outputFolder, "%v.m3u8"),
        ]);
        return args;
    }

    private static List<string> Mp4Arguments(string playlist, string mp4) =>
    [
        "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        "-protocol_whitelist", "file", "-f", "hls", "-i", "file:" + playlist,
        "-map", "0:v", "-map", "0:a?", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "file:" + mp4,
    ];

    private static List<string> PosterArguments(string mp4, double at, string poster) =>
    [
        "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
        "-ss", at.ToString("0.###", CultureInfo.InvariantCulture),
        "-protocol_whitelist", "file", "-f", "mp4", "-i", "file:" + mp4,
        "-map", "0:v:0", "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "-update", "1", "file:" + poster,
    ];

    /// <summary>A run on files we wrote ourselves: a failure is our bug or the machine's, not the uploader's.</summary>
    private static async Task RunOurOwnAsync(List<string> arguments, string step, TimeSpan timeout, ILogger log, CancellationToken ct)
    {
        var outcome = await RunAsync(Ffmpeg, step, arguments, timeout, null, log, ct);
        LogStderr(log, Ffmpeg, step, outcome, outcome.ExitCode != 0 ? $"exit code {outcome.ExitCode}" : null);
        if (outcome.ExitCode != 0)
        {
            throw new FfmpegException($"ffmpeg {step} failed with exit code {outcome.ExitCode}: {outcome.ErrorTail}");
        }
    }

    /// <summary>One run; a timeout (or a failure to start) is logged with what the tool had written to stderr by then.</summary>
    private static async Task<FfmpegOutcome> RunAsync(string executable, string step, IEnumerable<string> arguments, TimeSpan timeout, Action<string>? onOutputLine, ILogger log, CancellationToken ct)
    {
        try
        {
            return await FfmpegRunner.RunAsync(executable, arguments, timeout, onOutputLine, ct);
        }
        catch (FfmpegException e)
        {
            log.LogWarning("Video {Step} failed: {Error}; {Tool} stderr tail:\n{Stderr}", step, e.Message, executable, e.ErrorTail);
            throw;
        }
    }

    /// <summary>A finished run's stderr: at Warning with the <paramref name="problem"/> when it failed, else at Debug if it said anything.</summary>
    private static void LogStderr(ILogger log, string executable, string step, FfmpegOutcome outcome, string? problem)
    {
        if (problem is not null)
        {
            log.LogWarning("Video {Step} failed: {Error}; {Tool} stderr tail:\n{Stderr}", step, problem, executable, outcome.ErrorTail);
        }
        else if (outcome.ErrorTail.Length > 0)
        {
            log.LogDebug("Video {Step} done; {Tool} stderr tail:\n{Stderr}", step, executable, outcome.ErrorTail);
        }
    }
}
