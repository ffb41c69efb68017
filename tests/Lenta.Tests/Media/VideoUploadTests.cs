using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Server.Media;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Media;

/// <summary>Video posts over real HTTP: upload, the video job, HLS and MP4 served, posting a video.</summary>
public sealed class VideoUploadTests(SqliteServerWithLogs fixture) : IClassFixture<SqliteServerWithLogs>
{
    private Mastodon Client => fixture.Client;

    /// <summary>An H.264/AAC MP4 of ffmpeg's test pattern and a tone; the media tests elsewhere upload it too.</summary>
    internal static async Task<byte[]> ClipAsync(int width, int height, double seconds, int rate = 30)
    {
        var file = Path.Combine(Path.GetTempPath(), $"lenta-clip-{Guid.NewGuid():N}.mp4");
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-nostdin", "-v", "error", "-f", "lavfi", "-i", $"testsrc=size={width}x{height}:rate={rate}:duration={seconds}", "-f", "lavfi", "-i", $"sine=frequency=440:duration={seconds}",
                     "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", file })
            info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
        var bytes = await File.ReadAllBytesAsync(file);
        File.Delete(file);
        return bytes;
    }

    private async Task<HttpResponseMessage> UploadAsync(Mastodon.User user, byte[] bytes, string name)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
        form.Add(file, "file", name);
        return await Client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, form);
    }

    [Fact]
    public async Task A_video_becomes_hls_an_mp4_and_a_poster_and_can_be_posted_alone()
    {
        var user = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, await ClipAsync(1280, 720, 3), "clip.mp4");
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var progress = new List<int>();
        var media = await Eventually.WaitAsync(async () =>
        {
            using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
            if (r.StatusCode == HttpStatusCode.PartialContent)
                progress.Add(body.GetProperty("lenta").GetProperty("processing_progress").GetInt32());
            return (r.StatusCode, body);
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(120), "the video to be processed");
        Assert.Equal(HttpStatusCode.OK, media.StatusCode);
        var m = media.body;
        Assert.Equal("video", m.GetProperty("type").GetString());
        Assert.True(progress.SequenceEqual(progress.Order()), "progress never goes back");
        Assert.Equal(1280, m.GetProperty("meta").GetProperty("width").GetInt32());
        Assert.InRange(m.GetProperty("meta").GetProperty("duration").GetDouble(), 2.5, 3.5);

        var master = new Uri(m.GetProperty("lenta").GetProperty("hls_url").GetString()!);
        using var playlist = await Client.Http.GetAsync(master);
        Assert.Equal("application/vnd.apple.mpegurl", playlist.Content.Headers.ContentType?.MediaType);
        Assert.Equal("*", playlist.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var text = await playlist.Content.ReadAsStringAsync();
        Assert.Contains("#EXT-X-STREAM-INF", text, StringComparison.Ordinal);
        Assert.Contains("RESOLUTION=1280x720", text, StringComparison.Ordinal);
        var rung = text.Split('\n').First(l => l.EndsWith(".m3u8", StringComparison.Ordinal)).Trim();
        using var media720 = await Client.Http.GetAsync(new Uri(master, rung));
        Assert.Equal(HttpStatusCode.OK, media720.StatusCode);
        var segment = (await media720.Content.ReadAsStringAsync()).Split('\n').First(l => l.Length > 0 && !l.StartsWith('#')).Trim();
        using var seg = await Client.Http.GetAsync(new Uri(new Uri(master, rung), segment));
        Assert.Equal(HttpStatusCode.OK, seg.StatusCode);

        var mp4 = new Uri(m.GetProperty("url").GetString()!);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, mp4);
        ranged.Headers.Range = new RangeHeaderValue(0, 99);
        using var part = await Client.Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal("video/mp4", part.Content.Headers.ContentType?.MediaType);
        using var poster = await Client.Http.GetAsync(new Uri(m.GetProperty("preview_url").GetString()!));
        Assert.Equal("image/jpeg", poster.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrEmpty(m.GetProperty("blurhash").GetString()));

        // A video goes alone: with a photo it is refused; alone it posts.
        var photoForm = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Solid(64, 64, 10, 20, 30).JpegsaveBuffer()), "file", "p.jpg" } };
        using var photoUpload = await Client.SendAsync(HttpMethod.Post, "api/v1/media", user.Token, photoForm);
        var photoId = (await Mastodon.Ok(photoUpload)).GetProperty("id").GetString();
        using var mixed = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "mix", media_ids = new[] { id, photoId } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, mixed.StatusCode);
        using var post = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "my clip", media_ids = new[] { id } }));
        var status = await Mastodon.Ok(post);
        Assert.Equal("video", status.GetProperty("media_attachments")[0].GetProperty("type").GetString());
    }

    private async Task<JsonElement> ProcessedAsync(Mastodon.User user, string id)
    {
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(120), "the video to be processed");
        Assert.True(status == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<string> GetTextAsync(Uri uri, string contentType)
    {
        using var response = await Client.Http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task<string> FfprobeAsync(params string[] args)
    {
        var outcome = await FfmpegRunner.RunAsync("ffprobe", ["-v", "error", .. args], TimeSpan.FromSeconds(30), null, CancellationToken.None);
        Assert.True(outcome.ExitCode == 0, outcome.ErrorTail);
        return outcome.Output.Trim();
    }

    [Fact]
    public async Task A_1080p_video_is_served_as_three_rungs_with_their_segments_and_a_decodable_mp4()
    {
        var user = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, await ClipAsync(1920, 1080, 4, rate: 24), "full-hd.mp4");
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var m = await ProcessedAsync(user, id);

        var meta = m.GetProperty("meta");
        Assert.Equal((1920, 1080, "1920x1080"), (meta.GetProperty("width").GetInt32(), meta.GetProperty("height").GetInt32(), meta.GetProperty("size").GetString()));
        Assert.Equal((1920, 1080), (meta.GetProperty("original").GetProperty("width").GetInt32(), meta.GetProperty("original").GetProperty("height").GetInt32()));
        Assert.Equal(1920.0 / 1080, meta.GetProperty("aspect").GetDouble(), 4);

        var master = new Uri(m.GetProperty("lenta").GetProperty("hls_url").GetString()!);
        var lines = (await GetTextAsync(master, "application/vnd.apple.mpegurl")).Split('\n', StringSplitOptions.TrimEntries);
        var variants = lines.Index().Where(x => x.Item.StartsWith("#EXT-X-STREAM-INF:", StringComparison.Ordinal))
            .Select(x => (Resolution: x.Item.Split("RESOLUTION=")[1].Split(',')[0], Uri: new Uri(master, lines[x.Index + 1]))).ToList();
        Assert.Equal(["640x360", "1280x720", "1920x1080"], variants.Select(v => v.Resolution));
        foreach (var (_, rung) in variants)
        {
            var segments = (await GetTextAsync(rung, "application/vnd.apple.mpegurl")).Split('\n', StringSplitOptions.TrimEntries)
                .Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            Assert.NotEmpty(segments);
            foreach (var segment in segments)
            {
                using var response = await Client.Http.GetAsync(new Uri(rung, segment));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("video/mp2t", response.Content.Headers.ContentType?.MediaType);
                // MPEG-TS: 188-byte packets, each starting with the sync byte 0x47.
                var bytes = await response.Content.ReadAsByteArrayAsync();
                Assert.True(bytes.Length > 0 && bytes.Length % 188 == 0 && bytes[0] == 0x47, $"{segment} is not MPEG-TS");
            }
        }

        using var mp4 = await Client.Http.GetAsync(new Uri(m.GetProperty("url").GetString()!));
        Assert.Equal(HttpStatusCode.OK, mp4.StatusCode);
        Assert.Equal("video/mp4", mp4.Content.Headers.ContentType?.MediaType);
        var file = Path.Combine(Path.GetTempPath(), $"lenta-served-{Guid.NewGuid():N}.mp4");
        await File.WriteAllBytesAsync(file, await mp4.Content.ReadAsByteArrayAsync());
        try
        {
            // Decoded to the end without an error, as the 720p rung (the MP4 is remuxed from it), with its audio.
            var decode = await FfmpegRunner.RunAsync("ffmpeg", ["-nostdin", "-v", "error", "-xerror", "-i", file, "-f", "null", "-"], TimeSpan.FromSeconds(60), null, CancellationToken.None);
            Assert.True(decode.ExitCode == 0 && decode.ErrorTail.Length == 0, decode.ErrorTail);
            Assert.Equal("h264,1280,720", await FfprobeAsync("-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", file));
            Assert.Equal("aac", await FfprobeAsync("-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", file));
            Assert.InRange(double.Parse(await FfprobeAsync("-show_entries", "format=duration", "-of", "csv=p=0", file), CultureInfo.InvariantCulture), 3.5, 4.5);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_rotated_phone_video_reports_its_displayed_portrait_size()
    {
        var user = await Client.SignUpAsync();
        var clip = Path.Combine(Path.GetTempPath(), $"lenta-rotated-{Guid.NewGuid():N}.mp4");
        await VideoClips.RotatedAsync(clip, 640, 360, 2);
        var bytes = await File.ReadAllBytesAsync(clip);
        File.Delete(clip);
        using var upload = await UploadAsync(user, bytes, "portrait.mp4");
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var meta = (await ProcessedAsync(user, id)).GetProperty("meta");

        Assert.Equal((360, 640, "360x640"), (meta.GetProperty("width").GetInt32(), meta.GetProperty("height").GetInt32(), meta.GetProperty("size").GetString()));
        Assert.Equal(0.5625, meta.GetProperty("aspect").GetDouble(), 4);
        Assert.Equal((360, 640), (meta.GetProperty("small").GetProperty("width").GetInt32(), meta.GetProperty("small").GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task A_truncated_video_ends_failed_with_a_reason_and_ffprobes_complaint_is_logged_for_it()
    {
        var user = await Client.SignUpAsync();
        var clip = await ClipAsync(640, 360, 3);
        using var upload = await UploadAsync(user, clip[..(clip.Length / 3)], "cut.mp4");
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(120), "processing to end");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains("Video", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var warning = Assert.Single(fixture.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("stderr tail", StringComparison.Ordinal)
            && e.Scope.TryGetValue("MediaId", out var mediaId) && mediaId?.ToString() == id);
        Assert.Contains("moov atom not found", warning.Message, StringComparison.Ordinal);
        Assert.True(warning.Scope.ContainsKey("JobId"));
    }
}
