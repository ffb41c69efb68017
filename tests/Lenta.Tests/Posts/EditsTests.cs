using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>
/// Editing posts over real HTTP (docs.joinmastodon.org/methods/statuses/#edit, #source, #history), on SQLite, PostgreSQL
/// and PostgreSQL + Redis: every read shows the new version at once, history keeps every version.
/// </summary>
public abstract class EditsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private async Task<string> PostAsync(Mastodon.User user, object body)
    {
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(body));
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    private Task<HttpResponseMessage> EditRawAsync(Mastodon.User user, string id, object body) =>
        Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", user.Token, JsonContent.Create(body));

    private async Task<JsonElement> EditAsync(Mastodon.User user, string id, object body)
    {
        using var r = await EditRawAsync(user, id, body);
        return await Mastodon.Ok(r);
    }

    private static string? Content(JsonElement array, string id) =>
        array.EnumerateArray().Where(s => s.GetProperty("id").GetString() == id).Select(s => s.GetProperty("content").GetString()).SingleOrDefault();

    private async Task<string> UploadAsync(Mastodon.User user, string description)
    {
        using var image = NetVips.Image.Black(64, 48, bands: 3) + new double[] { 40, 120, 200 };
        using var cast = image.Cast(NetVips.Enums.BandFormat.Uchar);
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(cast.JpegsaveBuffer(q: 85));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(new StringContent(description), "description");
        form.Add(file, "file", "photo.jpg");
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/media", user.Token, form); // v1 waits for processing
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task An_edit_shows_at_once_on_every_read_and_history_keeps_the_original()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        using (var f = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token))
            await Mastodon.Ok(f);
        var id = await PostAsync(author, new { status = "first version" });
        // Every read caches and renders the first version.
        await Eventually.WaitAsync(async () => Content(await Client.GetAsync("api/v1/timelines/home", reader.Token), id), c => c is not null, TimeSpan.FromSeconds(10), "the post in the home feed");
        Assert.Contains("first version", Content(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", reader.Token), id), StringComparison.Ordinal);
        Assert.Contains("first version", (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("edited_at").ValueKind);
        var unedited = await Client.GetAsync($"api/v1/statuses/{id}/history");
        Assert.Equal(1, unedited.GetArrayLength());
        Assert.Contains("first version", unedited[0].GetProperty("content").GetString(), StringComparison.Ordinal);

        var edited = await EditAsync(author, id, new { status = "second version #fresh", spoiler_text = "cw", language = "de" });
        Assert.Contains("second version", edited.GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal(id, edited.GetProperty("id").GetString());
        Assert.NotEqual(JsonValueKind.Null, edited.GetProperty("edited_at").ValueKind);
        Assert.True(edited.GetProperty("sensitive").GetBoolean()); // a content warning makes it sensitive
        Assert.Equal("de", edited.GetProperty("language").GetString());
        Assert.Equal("fresh", edited.GetProperty("tags")[0].GetProperty("name").GetString());

        foreach (var token in new[] { reader.Token, author.Token, null })
        {
            var single = await Client.GetAsync($"api/v1/statuses/{id}", token);
            Assert.Contains("second version", single.GetProperty("content").GetString(), StringComparison.Ordinal);
            Assert.Equal("cw", single.GetProperty("spoiler_text").GetString());
            Assert.Equal(edited.GetProperty("edited_at").GetString(), single.GetProperty("edited_at").GetString());
            Assert.Contains("second version", Content(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", token), id), StringComparison.Ordinal);
            Assert.Contains("second version", Content(await Client.GetAsync("api/v1/timelines/public", token), id), StringComparison.Ordinal);
        }
        Assert.Contains("second version", Content(await Client.GetAsync("api/v1/timelines/home", reader.Token), id), StringComparison.Ordinal);
        Assert.Contains("second version", Content(await Client.GetAsync("api/v1/timelines/home", author.Token), id), StringComparison.Ordinal);
        Assert.Contains("second version", Content(await Client.GetAsync($"api/v1/statuses?id[]={id}", reader.Token), id), StringComparison.Ordinal);
        Assert.Equal([id], (await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses?tagged=fresh")).EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var source = await Client.GetAsync($"api/v1/statuses/{id}/source", author.Token);
        Assert.Equal(id, source.GetProperty("id").GetString());
        Assert.Equal("second version #fresh", source.GetProperty("text").GetString());
        Assert.Equal("cw", source.GetProperty("spoiler_text").GetString());

        await EditAsync(author, id, new { status = "third version" });
        var history = await Client.GetAsync($"api/v1/statuses/{id}/history", reader.Token);
        Assert.Equal(3, history.GetArrayLength());
        Assert.Contains("first version", history[0].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Contains("second version", history[1].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal("cw", history[1].GetProperty("spoiler_text").GetString());
        Assert.True(history[1].GetProperty("sensitive").GetBoolean());
        Assert.Contains("third version", history[2].GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal("", history[2].GetProperty("spoiler_text").GetString());
        Assert.Equal(author.Id, history[0].GetProperty("account").GetProperty("id").GetString());
        var original = await Client.GetAsync($"api/v1/statuses/{id}");
        Assert.Equal(original.GetProperty("created_at").GetString(), history[0].GetProperty("created_at").GetString());
        Assert.Equal(original.GetProperty("edited_at").GetString(), history[2].GetProperty("created_at").GetString());
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses?tagged=fresh")).GetArrayLength());
    }

    [Fact]
    public async Task Only_the_author_edits_and_edits_are_checked_as_compose_is()
    {
        var author = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var id = await PostAsync(author, new { status = "mine" });
        var secret = await PostAsync(author, new { status = "followers only", visibility = "private" });

        using (var r = await EditRawAsync(other, id, new { status = "theirs now" }))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Forbidden);
        using (var r = await EditRawAsync(other, secret, new { status = "theirs now" }))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await EditRawAsync(author, "999999999", new { status = "nothing" }))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", null, JsonContent.Create(new { status = "anonymous" })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
        using (var r = await EditRawAsync(author, id, new { status = new string('a', 501) }))
            Assert.Equal("Validation failed: Text character limit of 500 exceeded", await Mastodon.ErrorAsync(r, (HttpStatusCode)422));
        using (var r = await EditRawAsync(author, id, new { status = "  " }))
            Assert.Equal("Validation failed: Text can't be blank", await Mastodon.ErrorAsync(r, (HttpStatusCode)422));
        using (var r = await EditRawAsync(author, id, new { status = "ok", language = "not a language" }))
            await Mastodon.ErrorAsync(r, (HttpStatusCode)422);
        using (var r = await EditRawAsync(author, id, new { status = "ok", poll = new { options = new[] { "a", "b" }, expires_in = 600 } }))
            await Mastodon.ErrorAsync(r, (HttpStatusCode)422);
        using (var r = await EditRawAsync(author, id, new { status = "ok", media_ids = new[] { "999999999" } }))
            await Mastodon.ErrorAsync(r, (HttpStatusCode)422);

        // Nothing of the refused edits stuck; the source is the author's (and visible readers') only.
        var status = await Client.GetAsync($"api/v1/statuses/{id}");
        Assert.Contains("mine", status.GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("edited_at").ValueKind);
        Assert.Equal(1, (await Client.GetAsync($"api/v1/statuses/{id}/history")).GetArrayLength());
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/source", other.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/history", other.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{id}/source"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_edit_changes_media_and_alt_text_and_history_shows_each_versions_own()
    {
        var author = await Client.SignUpAsync();
        var first = await UploadAsync(author, "old alt");
        var id = await PostAsync(author, new { status = "with a photo", media_ids = new[] { first } });

        // Keep the photo with new alt text (media_attributes, form-encoded as clients send it) and add a second one.
        var second = await UploadAsync(author, "second alt");
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["status"] = "two photos", ["media_ids[]"] = first, ["media_attributes[][id]"] = first, ["media_attributes[][description]"] = "new alt",
        }.Append(new KeyValuePair<string, string>("media_ids[]", second)));
        using (var r = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", author.Token, form))
        {
            var edited = await Mastodon.Ok(r);
            Assert.Equal([first, second], edited.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
            Assert.Equal("new alt", edited.GetProperty("media_attachments")[0].GetProperty("description").GetString());
        }
        var status = await Client.GetAsync($"api/v1/statuses/{id}", author.Token);
        Assert.Equal(["new alt", "second alt"], status.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("description").GetString()));

        // Drop the first photo: the post shows one, history still shows what each version had.
        var last = await EditAsync(author, id, new { status = "one photo", media_ids = new[] { second } });
        Assert.Equal([second], last.GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var history = await Client.GetAsync($"api/v1/statuses/{id}/history");
        Assert.Equal(3, history.GetArrayLength());
        Assert.Equal(["old alt"], history[0].GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("description").GetString()));
        Assert.Equal(["new alt", "second alt"], history[1].GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("description").GetString()));
        Assert.Equal([second], history[2].GetProperty("media_attachments").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        // Someone else's upload cannot come in through an edit.
        var other = await Client.SignUpAsync();
        var theirs = await UploadAsync(other, "not yours");
        using (var r = await EditRawAsync(author, id, new { status = "stolen", media_ids = new[] { second, theirs } }))
            await Mastodon.ErrorAsync(r, (HttpStatusCode)422);

        // Media only: the text may then be blank.
        var mediaOnly = await EditAsync(author, id, new { status = "", media_ids = new[] { second } });
        Assert.Equal("", mediaOnly.GetProperty("content").GetString());

        // Deleting the post purges every medium it ever showed, those an edit took out included.
        using (var d = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token))
            await Mastodon.Ok(d);
        var db = fixture.Server.Services.GetRequiredService<Lenta.Server.Platform.Database.IDatabase>();
        var mediaIds = new[] { first, second }.Select(m => long.Parse(m, CultureInfo.InvariantCulture)).ToArray();
        await Eventually.WaitAsync(() => db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c,
            "SELECT COUNT(*) FROM media_attachments WHERE id = @a OR id = @b", new { a = mediaIds[0], b = mediaIds[1] })), n => n == 0, TimeSpan.FromSeconds(30), "the post's media to be purged");
        Assert.Equal(0, await db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM status_edits WHERE status_id = @id",
            new { id = long.Parse(id, CultureInfo.InvariantCulture) })));
    }
}

public sealed class SqliteEditsTests(SqliteServer f) : EditsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresEditsTests(PostgresServer f) : EditsTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisEditsTests(PostgresRedisServer f) : EditsTests(f), IClassFixture<PostgresRedisServer>;

/// <summary>Two processes on one database and one Redis: an edit through one is what the other serves next, however warm its caches.</summary>
public sealed class EditsAcrossProcessesTests
{
    [Fact]
    public async Task An_edit_through_one_process_is_served_by_the_other_at_once()
    {
        var database = await Postgres.CreateDatabaseAsync();
        var prefix = Redis.NewPrefix();
        Dictionary<string, string?> Settings(int node) => new()
        {
            ["Lenta:NodeId"] = node.ToString(CultureInfo.InvariantCulture),
            ["Lenta:Database:Provider"] = "postgres",
            ["Lenta:Database:ConnectionString"] = database,
            ["Lenta:Cache:Provider"] = "redis",
            ["Lenta:Cache:ConnectionString"] = Redis.Single,
            ["Lenta:Cache:KeyPrefix"] = prefix,
            ["Lenta:RateLimits:Enabled"] = "false",
        };
        await using var a = await TestServer.StartAsync(Settings(1));
        await using var b = await TestServer.StartAsync(Settings(2));
        var viaA = new Mastodon(a.Http);
        var viaB = new Mastodon(b.Http);
        var author = await viaA.SignUpAsync();
        var reader = await viaB.SignUpAsync();
        using (var f = await viaB.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", reader.Token))
            await Mastodon.Ok(f);
        using var post = await viaA.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = "before" }));
        var id = (await Mastodon.Ok(post)).GetProperty("id").GetString()!;
        // B reads it (its decoded memo and rendering are warm) in every place a reader meets it.
        await Eventually.WaitAsync(async () => Content(await viaB.GetAsync("api/v1/timelines/home", reader.Token), id), c => c is not null, TimeSpan.FromSeconds(10), "the post on B's home");
        Assert.Contains("before", (await viaB.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("content").GetString(), StringComparison.Ordinal);

        using (var edit = await viaA.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", author.Token, JsonContent.Create(new { status = "after" })))
            await Mastodon.Ok(edit);

        Assert.Contains("after", (await viaB.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Contains("after", Content(await viaB.GetAsync("api/v1/timelines/home", reader.Token), id), StringComparison.Ordinal);
        Assert.Contains("after", Content(await viaB.GetAsync($"api/v1/accounts/{author.Id}/statuses", reader.Token), id), StringComparison.Ordinal);
        Assert.Contains("after", Content(await viaB.GetAsync("api/v1/timelines/public"), id), StringComparison.Ordinal);
    }

    private static string? Content(JsonElement array, string id) =>
        array.EnumerateArray().Where(s => s.GetProperty("id").GetString() == id).Select(s => s.GetProperty("content").GetString()).SingleOrDefault();
}
