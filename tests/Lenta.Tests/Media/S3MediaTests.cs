using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Media;

/// <summary>
/// Photos and videos over HTTP on the S3 stores, against the same uploads on the disk stores: what is served must be the
/// same bytes, ranges must be answered from ranged reads, and deleting or purging must leave nothing in either bucket.
/// </summary>
[NotThroughFront("It compares the disk object store's files with S3's, and nodes of split roles refuse the disk store.")]
public sealed class S3MediaTests(PostgresS3Server s3, PostgresServer disk) : IClassFixture<PostgresS3Server>, IClassFixture<PostgresServer>
{
    private static async Task<HttpResponseMessage> UploadAsync(Mastodon client, Mastodon.User user, byte[] bytes, string name, string contentType, string version)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", name);
        return await client.SendAsync(HttpMethod.Post, $"api/{version}/media", user.Token, form);
    }

    /// <summary>Uploads <paramref name="bytes"/> as a new user of <paramref name="fixture"/> and waits for it to be ready.</summary>
    private static async Task<(Mastodon.User User, JsonElement Media)> ProcessAsync(ServerFixture fixture, byte[] bytes, string name, string contentType)
    {
        var client = fixture.Client;
        var user = await client.SignUpAsync();
        using var upload = await UploadAsync(client, user, bytes, name, contentType, "v2");
        var id = (await Mastodon.Ok(upload)).GetProperty("id").GetString()!;
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(120), "processing to finish");
        Assert.True(status == HttpStatusCode.OK, body);
        return (user, JsonDocument.Parse(body).RootElement.Clone());
    }

    private static async Task<byte[]> BytesAsync(ServerFixture fixture, Uri url)
    {
        using var response = await fixture.Server.Http.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task AssertRangeAsync(ServerFixture fixture, Uri url, byte[] whole, long from, long to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(from, to);
        using var part = await fixture.Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal($"bytes {from}-{to}/{whole.Length}", part.Content.Headers.ContentRange?.ToString());
        Assert.Equal(whole.AsSpan((int)from, (int)(to - from + 1)).ToArray(), await part.Content.ReadAsByteArrayAsync());
    }

    private static long IdOf(JsonElement media) => long.Parse(media.GetProperty("id").GetString()!, CultureInfo.InvariantCulture);

    private static async Task<List<string>> KeysOfAsync(string bucket, long id) =>
        (await S3.KeysAsync(bucket)).Where(k => k.StartsWith($"media/{id}/", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task Photo_variants_on_s3_are_the_disk_bytes_ranges_answer_206_and_a_purge_empties_both_buckets()
    {
        using var image = TestImages.Noise(1600, 1000);
        var jpeg = image.JpegsaveBuffer(q: 90);
        var (_, onDisk) = await ProcessAsync(disk, jpeg, "photo.jpg", "image/jpeg");
        var (user, onS3) = await ProcessAsync(s3, jpeg, "photo.jpg", "image/jpeg");

        foreach (var variant in new[] { "url", "preview_url" })
        {
            var fromS3 = await BytesAsync(s3, new Uri(onS3.GetProperty(variant).GetString()!));
            Assert.Equal(await BytesAsync(disk, new Uri(onDisk.GetProperty(variant).GetString()!)), fromS3);
        }
        var original = new Uri(onS3.GetProperty("url").GetString()!);
        var whole = await BytesAsync(s3, original);
        await AssertRangeAsync(s3, original, whole, 0, 9);
        await AssertRangeAsync(s3, original, whole, 1000, whole.Length - 1);

        var id = IdOf(onS3);
        Assert.NotEmpty(await KeysOfAsync(s3.RawBucket, id));
        Assert.Equal(2, (await KeysOfAsync(s3.ProcessedBucket, id)).Count);
        var services = s3.Server.Services;
        var db = services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        var twoDaysAgo = DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeMilliseconds();
        await db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET created_at = @twoDaysAgo WHERE id = @id", new { twoDaysAgo, id }));
        Assert.True(await services.GetRequiredService<Lenta.Server.Media.MediaJanitor>().SweepAsync(CancellationToken.None) >= 1);
        Assert.Empty(await KeysOfAsync(s3.RawBucket, id));
        Assert.Empty(await KeysOfAsync(s3.ProcessedBucket, id));
        using var gone = await s3.Server.GetFromOriginAsync(original);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var media = await s3.Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, media.StatusCode);
    }

    [Fact]
    public async Task Video_playlists_segments_mp4_and_poster_on_s3_are_the_disk_bytes_and_deleting_the_post_empties_both_buckets()
    {
        var clip = await VideoUploadTests.ClipAsync(1280, 720, 3);
        var (_, onDisk) = await ProcessAsync(disk, clip, "clip.mp4", "video/mp4");
        var (user, onS3) = await ProcessAsync(s3, clip, "clip.mp4", "video/mp4");

        var diskMaster = new Uri(onDisk.GetProperty("lenta").GetProperty("hls_url").GetString()!);
        var s3Master = new Uri(onS3.GetProperty("lenta").GetProperty("hls_url").GetString()!);
        var compared = 0;
        // Every file the master playlist reaches, by its name relative to the playlist that names it.
        var pending = new Queue<(Uri Disk, Uri S3)>([(diskMaster, s3Master)]);
        while (pending.TryDequeue(out var pair))
        {
            var fromS3 = await BytesAsync(s3, pair.S3);
            Assert.True((await BytesAsync(disk, pair.Disk)).AsSpan().SequenceEqual(fromS3), $"{pair.S3} differs from the disk adapter's copy");
            compared++;
            if (!pair.S3.AbsolutePath.EndsWith(".m3u8", StringComparison.Ordinal))
                continue;
            foreach (var line in System.Text.Encoding.UTF8.GetString(fromS3).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
                pending.Enqueue((new Uri(pair.Disk, line), new Uri(pair.S3, line)));
        }
        Assert.True(compared >= 5, $"only {compared} HLS files"); // master, two rung playlists, their segments
        foreach (var variant in new[] { "url", "preview_url" })
            Assert.Equal(await BytesAsync(disk, new Uri(onDisk.GetProperty(variant).GetString()!)), await BytesAsync(s3, new Uri(onS3.GetProperty(variant).GetString()!)));

        var mp4 = new Uri(onS3.GetProperty("url").GetString()!);
        var whole = await BytesAsync(s3, mp4);
        await AssertRangeAsync(s3, mp4, whole, 0, 99);
        await AssertRangeAsync(s3, mp4, whole, whole.Length / 2, whole.Length * 3 / 4);

        var id = IdOf(onS3);
        using var post = await s3.Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "clip", media_ids = new[] { id.ToString(CultureInfo.InvariantCulture) } }));
        var status = await Mastodon.Ok(post);
        using (var delete = await s3.Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{status.GetProperty("id").GetString()}", user.Token))
            await Mastodon.Ok(delete);
        await Eventually.WaitAsync(async () => (await KeysOfAsync(s3.RawBucket, id)).Count + (await KeysOfAsync(s3.ProcessedBucket, id)).Count,
            n => n == 0, TimeSpan.FromSeconds(30), "the post's objects to leave both buckets");
        using var gone = await s3.Server.GetFromOriginAsync(s3Master);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_rerun_photo_job_replaces_the_earlier_attempts_objects_in_the_bucket()
    {
        using var image = TestImages.Noise(900, 700);
        var (_, media) = await ProcessAsync(s3, image.JpegsaveBuffer(), "photo.jpg", "image/jpeg");
        var id = IdOf(media);
        var first = await KeysOfAsync(s3.ProcessedBucket, id);
        Assert.Equal(2, first.Count);

        // As after a crash between storing the variants and marking the upload ready: the job is delivered again.
        var services = s3.Server.Services;
        var db = services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        await db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET state = 'processing' WHERE id = @id", new { id }));
        var handler = services.GetServices<Lenta.Server.Platform.Jobs.IJobHandler>().Single(h => h.Type == Lenta.Server.Media.PhotoJobHandler.JobType);
        var payload = JsonSerializer.Serialize(new Lenta.Server.Media.PhotoJob(id));
        await handler.HandleAsync(new Lenta.Server.Platform.Jobs.Job(1, Lenta.Server.Media.MediaService.Queue, Lenta.Server.Media.PhotoJobHandler.JobType, payload, 2), CancellationToken.None);

        var second = await KeysOfAsync(s3.ProcessedBucket, id);
        Assert.Equal(2, second.Count);
        Assert.Empty(second.Intersect(first));
        var row = await services.GetRequiredService<Lenta.Server.Media.MediaService>().GetAsync(id);
        Assert.Equal("ready", row!.State);
        Assert.Contains(row.OriginalKey, second);
    }

    [Fact]
    public async Task A_failed_upload_leaves_nothing_in_either_bucket_once_swept()
    {
        using var image = TestImages.Noise(400, 300);
        var jpeg = image.JpegsaveBuffer();
        var client = s3.Client;
        var user = await client.SignUpAsync();
        using var upload = await UploadAsync(client, user, jpeg[..(jpeg.Length * 6 / 10)], "cut.jpg", "image/jpeg", "v2");
        var id = long.Parse((await Mastodon.Ok(upload)).GetProperty("id").GetString()!, CultureInfo.InvariantCulture);
        await Eventually.WaitAsync(async () =>
        {
            using var r = await client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return r.StatusCode;
        }, c => c == HttpStatusCode.UnprocessableEntity, TimeSpan.FromSeconds(60), "processing to fail");
        Assert.NotEmpty(await KeysOfAsync(s3.RawBucket, id));

        var services = s3.Server.Services;
        var twoDaysAgo = DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeMilliseconds();
        await services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>()
            .WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET created_at = @twoDaysAgo WHERE id = @id", new { twoDaysAgo, id }));
        Assert.True(await services.GetRequiredService<Lenta.Server.Media.MediaJanitor>().SweepAsync(CancellationToken.None) >= 1);
        Assert.Empty(await KeysOfAsync(s3.RawBucket, id));
        Assert.Empty(await KeysOfAsync(s3.ProcessedBucket, id));
    }

    [Fact]
    public async Task Health_ready_reports_the_s3_stores()
    {
        using var response = await s3.Server.Http.GetAsync("health/ready");
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal("ok", body.GetProperty("checks").GetProperty("object_store").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_turns_unavailable_naming_the_bucket_when_a_bucket_goes()
    {
        var raw = S3.NewBucket("raw");
        var processed = S3.NewBucket("processed");
        await using var server = await TestServer.StartAsync(S3.ServerSettings(raw, processed));
        using (var ready = await server.Http.GetAsync("health/ready"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await S3.DropBucketAsync(processed);
        using var gone = await server.Http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.StatusCode);
        var check = (await gone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("object_store");
        Assert.Equal("unavailable", check.GetProperty("status").GetString());
        Assert.Contains($"processed store: bucket '{processed}'", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        await S3.DropBucketAsync(raw);
    }

}

/// <summary>With <c>Lenta__Media__BaseUrl</c> on the processed bucket, clients fetch from the bucket itself: the headers come from the object.</summary>
[ThroughFront]
public sealed class S3CdnMediaTests(PostgresS3CdnServer fixture) : IClassFixture<PostgresS3CdnServer>
{
    [Fact]
    public async Task Media_urls_point_into_the_bucket_whose_objects_carry_content_type_and_cache_control()
    {
        var client = fixture.Client;
        var user = await client.SignUpAsync();
        using var image = TestImages.Noise(640, 480);
        var form = new MultipartFormDataContent { { new ByteArrayContent(image.JpegsaveBuffer()), "file", "p.jpg" } };
        using var upload = await client.SendAsync(HttpMethod.Post, "api/v1/media", user.Token, form);
        var media = await Mastodon.Ok(upload);
        var url = new Uri(media.GetProperty("url").GetString()!);
        Assert.StartsWith($"{S3.ServiceUrl}/{fixture.ProcessedBucket}/media/", url.AbsoluteUri, StringComparison.Ordinal);

        using var http = new HttpClient();
        using var served = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/jpeg", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", served.Headers.CacheControl?.ToString().Replace(" ", "", StringComparison.Ordinal).Replace(",", ", ", StringComparison.Ordinal));
        using var system = await fixture.Server.Http.GetAsync($"system{url.AbsolutePath[(fixture.ProcessedBucket.Length + 1)..]}");
        Assert.Equal(await system.Content.ReadAsByteArrayAsync(), await served.Content.ReadAsByteArrayAsync());
    }
}
