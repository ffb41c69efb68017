using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lenta.Bench.Cli;
using Lenta.Server.Media;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lenta.Bench.Video;

/// <summary>
/// <c>video</c>: wall time of the whole video job (<see cref="VideoProcessor.ProcessAsync"/>: probe, the one-run HLS
/// ladder, the MP4 remux, the poster) against the bare ffmpeg command for the same ladder (the same arguments,
/// from <see cref="VideoProcessor.LadderArguments"/>), on the same generated clip, alternating runs.
/// </summary>
internal static class VideoCommand
{
    public static BenchCommand Command { get; } = new(
        "video",
        "video job wall time vs the bare ffmpeg ladder command on the same generated clip (ffmpeg from Debian)",
        "[--size WxH (1920x1080)] [--seconds N (10)] [--runs N (3)] [--out FILE.md]",
        RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var options = BenchOptions.Parse(args, "size", "seconds", "runs", "out");
        var size = options.String("size") ?? "1920x1080";
        var seconds = options.Seconds("seconds", 10, 1, 600);
        var runs = options.Int("runs", 3, 1, 20);
        var folder = Directory.CreateTempSubdirectory("lenta-video-bench-").FullName;
        try
        {
            var clip = Path.Combine(folder, "clip.mp4");
            await FfmpegAsync(ct, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc2=size={size}:rate=30:duration={seconds.ToString(CultureInfo.InvariantCulture)}",
                "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds.ToString(CultureInfo.InvariantCulture)}", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", clip);

            var probe = FfprobeParser.Parse((await FfmpegRunner.RunAsync("ffprobe",
                ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-protocol_whitelist", "file", "-f", "mp4", "-i", "file:" + clip], TimeSpan.FromMinutes(1), null, ct)).Output);
            var video = VideoProcessor.Check(probe, new VideoLimits());
            var audio = VideoProcessor.UsableAudio(probe);
            var rungs = VideoLadder.Plan(video.Width, video.Height, video.Fps, audio is not null);

            var job = new List<double>();
            var bare = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                var jobOut = Path.Combine(folder, $"job{i}");
                var sw = Stopwatch.StartNew();
                await VideoProcessor.ProcessAsync(clip, jobOut, new VideoLimits(), null, NullLogger.Instance, ct);
                job.Add(sw.Elapsed.TotalSeconds);

                var bareOut = Path.Combine(folder, $"bare{i}");
                Directory.CreateDirectory(bareOut);
                var ladder = VideoProcessor.LadderArguments(clip, "mp4", bareOut, video, audio, rungs);
                sw.Restart();
                var outcome = await FfmpegRunner.RunAsync("ffmpeg", ladder, TimeSpan.FromMinutes(30), null, ct);
                bare.Add(sw.Elapsed.TotalSeconds);
                if (outcome.ExitCode != 0)
                    throw new InvalidOperationException("the bare ladder failed");
            }
            var jobMedian = job.Order().ElementAt(runs / 2);
            var bareMedian = bare.Order().ElementAt(runs / 2);
            var report = new StringBuilder()
                .AppendLine(CultureInfo.InvariantCulture, $"Run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} processors; clip {size}, {seconds} s, 30 fps, H.264 + AAC; rungs {string.Join(", ", rungs.Select(r => r.Name))}; median of {runs} alternating runs.")
                .AppendLine()
                .AppendLine("| side | median s | runs (s) | × bare ffmpeg |")
                .AppendLine("|---|---:|---|---:|")
                .AppendLine(CultureInfo.InvariantCulture, $"| bare ffmpeg, the same ladder arguments | {bareMedian:F2} | {string.Join(", ", bare.Select(b => b.ToString("F2", CultureInfo.InvariantCulture)))} | 1.00 |")
                .AppendLine(CultureInfo.InvariantCulture, $"| Lenta video job (probe + ladder + MP4 remux + poster) | {jobMedian:F2} | {string.Join(", ", job.Select(b => b.ToString("F2", CultureInfo.InvariantCulture)))} | {jobMedian / bareMedian:F2} |");
            Console.Write(report.ToString());
            if (options.String("out") is { } file)
                await File.WriteAllTextAsync(file, report.ToString(), ct);
            return 0;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task FfmpegAsync(CancellationToken ct, params string[] args)
    {
        var outcome = await FfmpegRunner.RunAsync("ffmpeg", args, TimeSpan.FromMinutes(10), null, ct);
        if (outcome.ExitCode != 0)
            throw new InvalidOperationException("generating the clip failed");
    }
}
