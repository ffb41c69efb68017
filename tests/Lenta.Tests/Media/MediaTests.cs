using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Media;

/// <summary>Photo posts over real HTTP: upload to the raw store, the photo job, the processed store as a CDN origin.</summary>
public abstract class MediaTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private static byte[] Jpeg(int width, int height)
    {
        using var image = NetVips.Image.Black(width, height, bands: 3) + new double[] { 40, 120, 200 };
        using var cast = image.Cast(NetVips.Enums.BandFormat.Uchar);
        return cast.JpegsaveBuffer(q: 85);
    }

    private async Task<HttpResponseMessage> UploadAsync(Mastodon.User user, byte[] bytes, string fileName = "photo.jpg", string version = "v2", string? description = null, string contentType = "image/jpeg")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (description is not null)
            form.Add(new StringContent(description), "description");
        form.Add(file, "file", fileName);
        return await Client.SendAsync(HttpMethod.Post, $"api/{version}/media", user.Token, form);
    }

    private async Task<JsonElement> ReadyAsync(Mastodon.User user, string id) =>
        await Eventually.WaitAsync(async () =>
        {
            using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, Body: JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(60), "processing to finish") is var (status, body) && status == HttpStatusCode.OK
            ? body
            : throw new InvalidOperationException($"media {id} ended {status}: {body}");

    [Fact]
    public async Task A_photo_is_processed_served_and_posted()
    {
        var user = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, Jpeg(1200, 800), description: "a blue rectangle");
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var pending = await upload.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("url").ValueKind);
        var id = pending.GetProperty("id").GetString()!;

        var media = await ReadyAsync(user, id);
        Assert.Equal("image", media.GetProperty("type").GetString());
        Assert.Equal("a blue rectangle", media.GetProperty("description").GetString());
        Assert.Equal(1200, media.GetProperty("meta").GetProperty("original").GetProperty("width").GetInt32());
        Assert.Equal("1200x800", media.GetProperty("meta").GetProperty("original").GetProperty("size").GetString());
        Assert.True(media.GetProperty("meta").GetProperty("small").GetProperty("width").GetInt32() * media.GetProperty("meta").GetProperty("small").GetProperty("height").GetInt32() <= 230_400);
        Assert.False(string.IsNullOrEmpty(media.GetProperty("blurhash").GetString()));
        Assert.Equal(100, media.GetProperty("lenta").GetProperty("processing_progress").GetInt32());

        var url = new Uri(media.GetProperty("url").GetString()!);
        using var served = await Client.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/jpeg", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", served.Headers.CacheControl?.ToString().Replace(" ", "", StringComparison.Ordinal).Replace(",", ", ", StringComparison.Ordinal));
        Assert.Equal("nosniff", served.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.NotNull(served.Headers.ETag);
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(0, 9);
        using var part = await Client.Http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(10, (await part.Content.ReadAsByteArrayAsync()).Length);

        using var post = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "", media_ids = new[] { id } }));
        var status = await Mastodon.Ok(post);
        var attached = status.GetProperty("media_attachments");
        Assert.Equal(id, attached[0].GetProperty("id").GetString());
        Assert.Equal(url.AbsoluteUri, attached[0].GetProperty("url").GetString());
        Assert.Equal(1, (await Client.GetAsync($"api/v1/accounts/{user.Id}/statuses?only_media=true")).GetArrayLength());

        using var again = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode); // attached media leave /api/v1/media/:id
        using var reuse = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "again", media_ids = new[] { id } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reuse.StatusCode);

        using (var delete = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{status.GetProperty("id").GetString()}", user.Token))
            await Mastodon.Ok(delete);
        // Asked of the origin: an edge cache in front keeps what it holds until evicted (docs/DEPLOY.md).
        await Eventually.WaitAsync(async () => (await fixture.Server.GetFromOriginAsync(url)).StatusCode, s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(30), "the files to go with the post");
    }

    [Fact]
    public async Task The_v1_upload_waits_and_others_media_are_not_yours()
    {
        var user = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, Jpeg(300, 300), version: "v1");
        var media = await Mastodon.Ok(upload);
        Assert.NotEqual(JsonValueKind.Null, media.GetProperty("url").ValueKind);
        var id = media.GetProperty("id").GetString();

        using var theirs = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", other.Token);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        using var steal = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", other.Token, JsonContent.Create(new { status = "mine now", media_ids = new[] { id } }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, steal.StatusCode);

        using var put = await Client.SendAsync(HttpMethod.Put, $"api/v1/media/{id}", user.Token, JsonContent.Create(new { description = "alt", focus = "0.5,-0.25" }));
        var updated = await Mastodon.Ok(put);
        Assert.Equal("alt", updated.GetProperty("description").GetString());
        Assert.Equal(-0.25, updated.GetProperty("meta").GetProperty("focus").GetProperty("y").GetDouble());
        using var badFocus = await Client.SendAsync(HttpMethod.Put, $"api/v1/media/{id}", user.Token, JsonContent.Create(new { focus = "2,0" }));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badFocus.StatusCode);
    }

    [Theory]
    [InlineData("text", "notes.jpg")]
    [InlineData("html", "page.png")]
    [InlineData("svg", "drawing.svg")]
    [InlineData("empty", "empty.jpg")]
    public async Task Files_that_are_not_photos_are_refused_at_upload(string kind, string name)
    {
        var user = await Client.SignUpAsync();
        var bytes = kind switch
        {
            "text" => "just some text, not a JPEG"u8.ToArray(),
            "html" => "<html><script>alert(1)</script></html>"u8.ToArray(),
            "svg" => "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"u8.ToArray(),
            _ => [],
        };
        using var upload = await UploadAsync(user, bytes, name);
        Assert.StartsWith("Validation failed:", await Mastodon.ErrorAsync(upload, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_jpeg_fails_processing_with_its_reason()
    {
        var user = await Client.SignUpAsync();
        var jpeg = Jpeg(800, 600);
        using var upload = await UploadAsync(user, jpeg[..(jpeg.Length / 2)]);
        await AssertFailedAsync(user, upload);
    }

    /// <summary>The upload was accepted, then processing ended failed with a reason, and the server is still up.</summary>
    private async Task AssertFailedAsync(Mastodon.User user, HttpResponseMessage upload)
    {
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var (status, body) = await Eventually.WaitAsync(async () =>
        {
            using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, x => x.StatusCode != HttpStatusCode.PartialContent, TimeSpan.FromSeconds(60), "processing to end");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.False(string.IsNullOrWhiteSpace(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()));
        using var health = await Client.Http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Oversized_uploads_get_413()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string?> { ["Lenta:RateLimits:Enabled"] = "false", ["Lenta:Media:ImageSizeLimit"] = "50000", ["Lenta:Media:VideoSizeLimit"] = "500000" });
        var client = new Mastodon(server.Http);
        var user = await client.SignUpAsync();
        var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[600_000]), "file", "big.jpg" } };
        using var upload = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, form);
        Assert.StartsWith("File is too large", await Mastodon.ErrorAsync(upload, HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);

        // A real photo under the video limit but over the photo limit: refused once its type is known.
        using var noise = TestImages.Noise(400, 300);
        var photo = noise.JpegsaveBuffer(q: 95);
        Assert.InRange(photo.Length, 50_001, 500_000);
        var photoForm = new MultipartFormDataContent { { new ByteArrayContent(photo), "file", "noise.jpg" } };
        using var photoUpload = await client.SendAsync(HttpMethod.Post, "api/v2/media", user.Token, photoForm);
        Assert.StartsWith("File is too large", await Mastodon.ErrorAsync(photoUpload, HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Served_variants_are_upright_carry_no_gps_and_keep_the_promised_sizes()
    {
        var user = await Client.SignUpAsync();
        // A 4000×2000 landscape shot whose EXIF says "rotate 90°" and holds a GPS position.
        using var source = TestImages.Gradient(4000, 2000);
        var jpeg = TestImages.WithExif(source.JpegsaveBuffer(q: 90));
        using (var check = NetVips.Image.NewFromBuffer(jpeg))
            Assert.Contains("exif-ifd3-GPSLatitude", check.GetFields());
        using var upload = await UploadAsync(user, jpeg, "holiday.jpg", version: "v1");
        var media = await Mastodon.Ok(upload);

        foreach (var (key, maxPixels) in new[] { ("url", 8_294_400L), ("preview_url", 230_400L) })
        {
            var bytes = await Client.Http.GetByteArrayAsync(new Uri(media.GetProperty(key).GetString()!));
            using var served = NetVips.Image.NewFromBuffer(bytes);
            Assert.True(served.Height > served.Width, $"{key} is {served.Width}x{served.Height}: not upright");
            Assert.InRange((long)served.Width * served.Height, 1, maxPixels);
            Assert.Equal(2.0, (double)served.Height / served.Width, 2);
            Assert.DoesNotContain(served.GetFields(), f => f.StartsWith("exif", StringComparison.Ordinal) || f.StartsWith("xmp", StringComparison.Ordinal));
            Assert.DoesNotContain("GPS", System.Text.Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }
        var meta = media.GetProperty("meta");
        Assert.True(meta.GetProperty("original").GetProperty("height").GetInt32() > meta.GetProperty("original").GetProperty("width").GetInt32());
    }

    [Theory]
    [InlineData("png bomb")]
    [InlineData("gif bomb")]
    [InlineData("jpeg header only")]
    [InlineData("70000 px wide")]
    [InlineData("bmp")]
    public async Task Hostile_images_end_failed_or_refused_and_the_server_stays_up(string kind)
    {
        var user = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, TestImages.Hostile(kind), "innocent.png", contentType: "image/png");
        if (upload.StatusCode == HttpStatusCode.UnprocessableEntity)
        {
            Assert.StartsWith("Validation failed:", await Mastodon.ErrorAsync(upload, HttpStatusCode.UnprocessableEntity), StringComparison.Ordinal);
        }
        else
        {
            await AssertFailedAsync(user, upload);
        }
    }

    [Fact]
    public async Task Uploads_never_attached_are_deleted_after_the_retention()
    {
        var user = await Client.SignUpAsync();
        using var upload = await UploadAsync(user, Jpeg(200, 200), version: "v1");
        var media = await Mastodon.Ok(upload);
        var id = long.Parse(media.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var url = new Uri(media.GetProperty("url").GetString()!);
        var services = fixture.Server.Services;
        var janitor = services.GetRequiredService<Lenta.Server.Media.MediaJanitor>();
        Assert.Equal(0, await janitor.SweepAsync(CancellationToken.None)); // too young

        var db = services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        var twoDaysAgo = DateTimeOffset.UtcNow.AddDays(-2).ToUnixTimeMilliseconds();
        await db.WriteAsync(w => w.ExecuteAsync("UPDATE media_attachments SET created_at = @twoDaysAgo WHERE id = @id", new { twoDaysAgo, id }));
        Assert.True(await janitor.SweepAsync(CancellationToken.None) >= 1);
        using var gone = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var file = await fixture.Server.GetFromOriginAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
    }

    [Fact]
    public async Task The_owner_deletes_an_unattached_upload_with_its_files_but_not_an_attached_one()
    {
        var user = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var media = await Mastodon.Ok(await UploadAsync(user, Jpeg(200, 200), version: "v1"));
        var id = media.GetProperty("id").GetString()!;
        var url = new Uri(media.GetProperty("url").GetString()!);

        using var notTheirs = await Client.SendAsync(HttpMethod.Delete, $"api/v1/media/{id}", other.Token);
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        using var deleted = await Client.SendAsync(HttpMethod.Delete, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(JsonValueKind.Object, (await Mastodon.Ok(deleted)).ValueKind);
        using var gone = await Client.SendAsync(HttpMethod.Get, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var file = await fixture.Server.GetFromOriginAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        using var twice = await Client.SendAsync(HttpMethod.Delete, $"api/v1/media/{id}", user.Token);
        Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);

        var kept = await Mastodon.Ok(await UploadAsync(user, Jpeg(200, 200), version: "v1"));
        var keptId = kept.GetProperty("id").GetString()!;
        await Mastodon.Ok(await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = "kept", media_ids = new[] { keptId } })));
        using var attached = await Client.SendAsync(HttpMethod.Delete, $"api/v1/media/{keptId}", user.Token);
        await Mastodon.ErrorAsync(attached, HttpStatusCode.UnprocessableEntity);
        using var stillServed = await Client.Http.GetAsync(new Uri(kept.GetProperty("url").GetString()!));
        Assert.Equal(HttpStatusCode.OK, stillServed.StatusCode);
    }

    [Fact]
    public async Task Raw_originals_are_never_served()
    {
        using var probe = await Client.Http.GetAsync("system/../objects/raw/x.jpg");
        Assert.Equal(HttpStatusCode.NotFound, probe.StatusCode);
        using var noExtension = await Client.Http.GetAsync("system/media/1/abc/original");
        Assert.Equal(HttpStatusCode.NotFound, noExtension.StatusCode);
    }
}

public sealed class SqliteMediaTests(SqliteServer f) : MediaTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresMediaTests(PostgresServer f) : MediaTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisMediaTests(PostgresRedisServer f) : MediaTests(f), IClassFixture<PostgresRedisServer>;

[ThroughFront]
public sealed class PostgresS3MediaTests(PostgresS3Server f) : MediaTests(f), IClassFixture<PostgresS3Server>;
