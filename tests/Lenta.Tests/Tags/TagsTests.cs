using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Server.Posts;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Tags;

/// <summary>Mastodon's hashtag rules as a pure function (app/models/tag.rb HASHTAG_RE, app/lib/hashtag_normalizer.rb).</summary>
public sealed class HashtagRulesTests
{
    [Theory]
    [InlineData("Lenta", "lenta")]
    [InlineData("#ЛЕНТА_2", "лента_2")]
    [InlineData("Ｌｅｎｔａ", "lenta")]   // full-width letters, as Mastodon's NFKC step
    [InlineData("café", "café")]
    [InlineData("a·b", "a·b")]
    [InlineData("_1", null)]             // no letter
    [InlineData("123", null)]
    [InlineData("a·", null)]             // a joiner never ends a name
    [InlineData("a-b", null)]
    [InlineData("", null)]
    public void Names_are_folded_and_checked(string typed, string? name) => Assert.Equal(name, Hashtags.Normalize(typed));
}

/// <summary>
/// Hashtags and search over real HTTP (docs.joinmastodon.org/methods/timelines/#tag, /methods/tags, /methods/followed_tags,
/// /methods/search), on SQLite (FTS5) and PostgreSQL (tsvector).
/// </summary>
public abstract class TagsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private static string Unique() => "q" + Guid.NewGuid().ToString("N")[..10];

    private async Task<JsonElement> PostAsync(Mastodon.User user, string text, string visibility = "public", string[]? media = null)
    {
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = text, visibility, media_ids = media ?? [] }));
        return await Mastodon.Ok(r);
    }

    private async Task<string> PostIdAsync(Mastodon.User user, string text, string visibility = "public", string[]? media = null) =>
        (await PostAsync(user, text, visibility, media)).GetProperty("id").GetString()!;

    private async Task<JsonElement> SendOkAsync(HttpMethod method, string path, Mastodon.User user)
    {
        using var r = await Client.SendAsync(method, path, user.Token);
        return await Mastodon.Ok(r);
    }

    private async Task<List<string>> TimelineAsync(string path, Mastodon.User? user = null) => Ids(await Client.GetAsync(path, user?.Token));

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    private static List<string> Tags(JsonElement status) => status.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();

    private async Task<string> UploadAsync(Mastodon.User user)
    {
        using var image = NetVips.Image.Black(64, 48, bands: 3) + new double[] { 40, 120, 200 };
        using var cast = image.Cast(NetVips.Enums.BandFormat.Uchar);
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(cast.JpegsaveBuffer(q: 85));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", "photo.jpg");
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/media", user.Token, form); // v1 waits for processing
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    private Task QueueDrainedAsync() => Eventually.WaitAsync(
        () => fixture.Server.Services.GetRequiredService<IJobQueue>().CountAsync(),
        c => c.Ready + c.Running == 0, TimeSpan.FromSeconds(60), "the job queue to drain");

    private Task<long> TagRowsAsync(string statusId) =>
        fixture.Server.Services.GetRequiredService<IDatabase>().ReadAsync(c =>
            c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_tags WHERE status_id = @id", new { id = long.Parse(statusId, CultureInfo.InvariantCulture) }));

    [Fact]
    public async Task Tags_are_extracted_by_Mastodons_rules_and_linked_in_the_content()
    {
        var author = await Client.SignUpAsync();
        var u = Unique();
        var status = await PostAsync(author,
            $"#Привет{u} #ЛЕНТА_{u} #123 #café{u} #Ｌｅｎｔａ{u} a#inword{u} x/#path{u} #a·b{u} #end{u}· https://example.com/#frag{u} (#paren{u}) ##double{u} #Lenta{u}");
        Assert.Equal(
            [$"привет{u}", $"лента_{u}", $"café{u}", $"lenta{u}", $"a·b{u}", $"end{u}", $"paren{u}", $"double{u}"],
            Tags(status));
        var content = status.GetProperty("content").GetString()!;
        // The link names the folded tag; the text shows it as typed (Mastodon's TextFormatter markup).
        Assert.Contains($"<a href=\"{Client.Http.BaseAddress!.ToString().TrimEnd('/')}/tags/{Uri.EscapeDataString($"лента_{u}")}\" class=\"mention hashtag\" rel=\"tag\">#<span>ЛЕНТА_{u}</span></a>", content, StringComparison.Ordinal);
        Assert.Contains("#123", content, StringComparison.Ordinal);
        Assert.DoesNotContain("#<span>123", content, StringComparison.Ordinal);
        var tagUrl = status.GetProperty("tags")[0].GetProperty("url").GetString()!;
        Assert.EndsWith($"/tags/{Uri.EscapeDataString($"привет{u}")}", tagUrl, StringComparison.Ordinal);

        // Any spelling of the tag finds the post: case and width fold.
        var id = status.GetProperty("id").GetString()!;
        Assert.Equal([id], await TimelineAsync($"api/v1/timelines/tag/{Uri.EscapeDataString($"ПРИВЕТ{u}")}"));
        Assert.Equal([id], await TimelineAsync($"api/v1/timelines/tag/{Uri.EscapeDataString($"ＬＥＮＴＡ{u}")}"));
        Assert.Empty(await TimelineAsync($"api/v1/timelines/tag/{Uri.EscapeDataString($"inword{u}")}"));
        Assert.Empty(await TimelineAsync("api/v1/timelines/tag/123"));
    }

    [Fact]
    public async Task An_edit_replaces_the_tags_and_a_delete_removes_them()
    {
        var author = await Client.SignUpAsync();
        var u = Unique();
        var id = await PostIdAsync(author, $"#one{u} #two{u}");
        Assert.Equal(2, await TagRowsAsync(id));
        using (var e = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{id}", author.Token, JsonContent.Create(new { status = $"#TWO{u} #Three{u} #456" })))
            Assert.Equal([$"two{u}", $"three{u}"], Tags(await Mastodon.Ok(e)));
        Assert.Equal([$"two{u}", $"three{u}"], Tags(await Client.GetAsync($"api/v1/statuses/{id}")));
        Assert.Empty(await TimelineAsync($"api/v1/timelines/tag/one{u}"));
        Assert.Equal([id], await TimelineAsync($"api/v1/timelines/tag/three{u}"));
        Assert.Equal(2, await TagRowsAsync(id));

        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author);
        Assert.Equal(0, await TagRowsAsync(id));
        Assert.Empty(await TimelineAsync($"api/v1/timelines/tag/two{u}"));
    }

    [Fact]
    public async Task The_tag_timeline_takes_any_all_none_only_media_and_pages_public_posts_only()
    {
        var author = await Client.SignUpAsync();
        var u = Unique();
        var (a, b, c) = ($"a{u}", $"b{u}", $"c{u}");
        var p1 = await PostIdAsync(author, $"#{a}");
        var p2 = await PostIdAsync(author, $"#{a} #{b}");
        var p3 = await PostIdAsync(author, $"#{b}");
        var p4 = await PostIdAsync(author, $"#{a} #{c}");
        await PostIdAsync(author, $"#{a} unlisted", "unlisted");
        await PostIdAsync(author, $"#{a} private", "private");
        var p7 = await PostIdAsync(author, $"#{a} with a photo", media: [await UploadAsync(author)]);

        Assert.Equal([p7, p4, p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}"));
        Assert.Equal([p7, p4, p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}", author)); // the author's own unlisted post is not here either
        Assert.Equal([p7, p4, p3, p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}?any[]={b}"));
        Assert.Equal([p2], await TimelineAsync($"api/v1/timelines/tag/{a}?all[]={b}"));
        Assert.Equal([p7, p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}?none[]={c}"));
        Assert.Equal([p7], await TimelineAsync($"api/v1/timelines/tag/{a}?only_media=true"));
        Assert.Equal([p7, p4, p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}?local=true"));
        Assert.Empty(await TimelineAsync($"api/v1/timelines/tag/{a}?remote=true"));

        using var first = await Client.SendAsync(HttpMethod.Get, $"api/v1/timelines/tag/{a}?limit=2");
        Assert.Equal([p7, p4], Ids(await Mastodon.Ok(first)));
        var link = first.Headers.GetValues("Link").Single();
        Assert.Contains($"max_id={p4}", link, StringComparison.Ordinal);
        Assert.Contains($"min_id={p7}", link, StringComparison.Ordinal);
        Assert.Equal([p2, p1], await TimelineAsync($"api/v1/timelines/tag/{a}?limit=2&max_id={p4}"));
        Assert.Equal([p4, p2], await TimelineAsync($"api/v1/timelines/tag/{a}?limit=2&min_id={p1}"));
        Assert.Equal([p7, p4], await TimelineAsync($"api/v1/timelines/tag/{a}?limit=2&since_id={p1}"));
    }

    [Fact]
    public async Task Blocked_and_muted_authors_never_show_in_tag_timelines_or_search()
    {
        var reader = await Client.SignUpAsync();
        var blocked = await Client.SignUpAsync();
        var muted = await Client.SignUpAsync();
        var blocker = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{blocked.Id}/block", reader);
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{muted.Id}/mute", reader);
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{reader.Id}/block", blocker);
        var u = Unique();
        var fromBlocked = await PostIdAsync(blocked, $"#{u} word{u}");
        var fromMuted = await PostIdAsync(muted, $"#{u} word{u}");
        var fromBlocker = await PostIdAsync(blocker, $"#{u} word{u}");
        var fromOther = await PostIdAsync(other, $"#{u} word{u}");

        Assert.Equal([fromOther], await TimelineAsync($"api/v1/timelines/tag/{u}", reader));
        Assert.Equal([fromOther, fromBlocker, fromMuted, fromBlocked], await TimelineAsync($"api/v1/timelines/tag/{u}"));
        Assert.Equal([fromOther], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q=word{u}", reader.Token)).GetProperty("statuses")));
        Assert.Equal(4, (await Client.GetAsync($"api/v2/search?type=statuses&q=word{u}", other.Token)).GetProperty("statuses").GetArrayLength());
    }

    [Fact]
    public async Task A_tag_answers_its_history_and_whether_the_caller_follows_it()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var u = Unique();
        await PostIdAsync(author, $"#{u} one");
        await PostIdAsync(author, $"#{u.ToUpperInvariant()} two");
        await PostIdAsync(reader, $"#{u} three", "unlisted");
        await PostIdAsync(reader, $"#{u} private", "private");

        var anonymous = await Client.GetAsync($"api/v1/tags/{u.ToUpperInvariant()}");
        Assert.Equal(u, anonymous.GetProperty("name").GetString());
        Assert.NotEqual("", anonymous.GetProperty("id").GetString());
        Assert.EndsWith($"/tags/{u}", anonymous.GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.False(anonymous.TryGetProperty("following", out _));
        var history = anonymous.GetProperty("history");
        Assert.Equal(7, history.GetArrayLength());
        var today = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        Assert.Equal(today, history[0].GetProperty("day").GetString());
        Assert.Equal("3", history[0].GetProperty("uses").GetString());     // public and unlisted, not private
        Assert.Equal("2", history[0].GetProperty("accounts").GetString());
        Assert.Equal("0", history[1].GetProperty("uses").GetString());

        Assert.False((await Client.GetAsync($"api/v1/tags/{u}", reader.Token)).GetProperty("following").GetBoolean());
        var never = await Client.GetAsync($"api/v1/tags/never{u}", reader.Token);
        Assert.Equal("", never.GetProperty("id").GetString());
        Assert.Equal("0", never.GetProperty("history")[0].GetProperty("uses").GetString());
        using (var bad = await Client.SendAsync(HttpMethod.Get, "api/v1/tags/123"))
            Assert.Equal("Record not found", await Mastodon.ErrorAsync(bad, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task Following_and_unfollowing_tags_and_the_followed_list_pages()
    {
        var reader = await Client.SignUpAsync();
        var u = Unique();
        var first = await SendOkAsync(HttpMethod.Post, $"api/v1/tags/One{u}/follow", reader);
        Assert.True(first.GetProperty("following").GetBoolean());
        Assert.Equal($"one{u}", first.GetProperty("name").GetString());
        Assert.NotEqual("", first.GetProperty("id").GetString()); // a tag nobody used exists once followed
        Assert.True((await SendOkAsync(HttpMethod.Post, $"api/v1/tags/one{u}/follow", reader)).GetProperty("following").GetBoolean()); // twice: one follow
        await SendOkAsync(HttpMethod.Post, $"api/v1/tags/two{u}/follow", reader);
        await SendOkAsync(HttpMethod.Post, $"api/v1/tags/three{u}/follow", reader);
        Assert.True((await Client.GetAsync($"api/v1/tags/one{u}", reader.Token)).GetProperty("following").GetBoolean());

        var all = await Client.GetAsync("api/v1/followed_tags", reader.Token);
        Assert.Equal([$"three{u}", $"two{u}", $"one{u}"], all.EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());
        Assert.All(all.EnumerateArray(), t => Assert.True(t.GetProperty("following").GetBoolean()));

        using var page = await Client.SendAsync(HttpMethod.Get, "api/v1/followed_tags?limit=2", reader.Token);
        Assert.Equal([$"three{u}", $"two{u}"], (await Mastodon.Ok(page)).EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());
        var next = System.Text.RegularExpressions.Regex.Match(page.Headers.GetValues("Link").Single(), "<([^>]+)>; rel=\"next\"").Groups[1].Value;
        using var rest = await Client.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, next) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", reader.Token) } });
        Assert.Equal([$"one{u}"], (await Mastodon.Ok(rest)).EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());

        Assert.False((await SendOkAsync(HttpMethod.Post, $"api/v1/tags/two{u}/unfollow", reader)).GetProperty("following").GetBoolean());
        Assert.False((await SendOkAsync(HttpMethod.Post, $"api/v1/tags/two{u}/unfollow", reader)).GetProperty("following").GetBoolean());
        Assert.Equal([$"three{u}", $"one{u}"], (await Client.GetAsync("api/v1/followed_tags", reader.Token)).EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());
        using (var anonymous = await Client.SendAsync(HttpMethod.Post, $"api/v1/tags/one{u}/follow"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var bad = await Client.SendAsync(HttpMethod.Post, "api/v1/tags/12/follow", reader.Token))
            Assert.Equal(HttpStatusCode.NotFound, bad.StatusCode);
    }

    [Fact]
    public async Task Public_posts_of_followed_tags_reach_the_home_timeline_once()
    {
        var reader = await Client.SignUpAsync();
        var friend = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        var u = Unique();
        var earlier = await PostIdAsync(stranger, $"before the follow #{u}");
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{friend.Id}/follow", reader);
        await QueueDrainedAsync();
        Assert.Empty(await TimelineAsync("api/v1/timelines/home", reader)); // the timeline is cached from here on

        // Following the tag brings its recent public posts in (the timeline is rebuilt on the next read).
        await SendOkAsync(HttpMethod.Post, $"api/v1/tags/{u}/follow", reader);
        Assert.Equal([earlier], await TimelineAsync("api/v1/timelines/home", reader));

        // New posts are fanned out: the friend's (followed twice over) once, the stranger's public one, nothing unlisted or private.
        var both = await PostIdAsync(friend, $"from a friend #{u}");
        var fromStranger = await PostIdAsync(stranger, $"from a stranger #{u.ToUpperInvariant()}");
        await PostIdAsync(stranger, $"unlisted #{u}", "unlisted");
        await PostIdAsync(stranger, $"private #{u}", "private");
        await QueueDrainedAsync();
        Assert.Equal([fromStranger, both, earlier], await TimelineAsync("api/v1/timelines/home", reader));

        // A rebuilt timeline holds the same.
        var feed = fixture.Server.Services.GetRequiredService<Lenta.Server.Feed.FeedService>();
        Assert.Equal([fromStranger, both, earlier], (await feed.ComputeAsync(long.Parse(reader.Id, CultureInfo.InvariantCulture), default)).Select(i => i.ToString(CultureInfo.InvariantCulture)));

        // Unfollowing the tag takes the strangers' tag posts out; the friend's post stays.
        await SendOkAsync(HttpMethod.Post, $"api/v1/tags/{u}/unfollow", reader);
        Assert.Equal([both], await TimelineAsync("api/v1/timelines/home", reader));
    }

    [Fact]
    public async Task Statuses_search_finds_only_what_the_viewer_may_see()
    {
        var viewer = await Client.SignUpAsync();
        var followed = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{followed.Id}/follow", viewer);
        var u = Unique();
        var word = $"слово{u}";
        var publicPost = await PostIdAsync(stranger, $"A public {word} here");
        await PostIdAsync(stranger, $"A private {word} of a stranger", "private");
        await PostIdAsync(stranger, $"An unlisted {word}", "unlisted");
        var mentioning = await PostIdAsync(stranger, $"@{viewer.Username} a private {word} for you", "private");
        var followersOnly = await PostIdAsync(followed, $"For followers: {word}", "private");
        var own = await PostIdAsync(viewer, $"My own {word}", "private");
        var ownUnlisted = await PostIdAsync(viewer, $"My own unlisted {word}", "unlisted");

        var found = await Client.GetAsync($"api/v2/search?type=statuses&q={Uri.EscapeDataString(word.ToUpperInvariant())}", viewer.Token);
        Assert.Equal([ownUnlisted, own, followersOnly, mentioning, publicPost], Ids(found.GetProperty("statuses")));
        Assert.Empty(found.GetProperty("accounts").EnumerateArray());
        Assert.Empty(found.GetProperty("hashtags").EnumerateArray());
        // Every word must occur; the content warning counts.
        Assert.Equal([publicPost], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q=public+{word}", viewer.Token)).GetProperty("statuses")));
        Assert.Equal([followersOnly], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q={word}&account_id={followed.Id}", viewer.Token)).GetProperty("statuses")));
        Assert.Equal([followersOnly], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q={word}&following=true", viewer.Token)).GetProperty("statuses")));
        Assert.Equal([own, followersOnly], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q={word}&limit=2&offset=1", viewer.Token)).GetProperty("statuses")));
        // The stranger sees their own private posts; someone else sees only the public one.
        Assert.Equal(4, (await Client.GetAsync($"api/v2/search?type=statuses&q={word}", stranger.Token)).GetProperty("statuses").GetArrayLength());
        var nobody = await Client.SignUpAsync();
        Assert.Equal([publicPost], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q={word}", nobody.Token)).GetProperty("statuses")));
        // Without a token statuses are not searched (Mastodon); a hashtag-looking query is not searched as text.
        Assert.Empty((await Client.GetAsync($"api/v2/search?q={word}")).GetProperty("statuses").EnumerateArray());
        Assert.Empty((await Client.GetAsync($"api/v2/search?type=statuses&q=%23{word}", viewer.Token)).GetProperty("statuses").EnumerateArray());

        // Edits and deletes move the index with the post.
        using (var e = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{publicPost}", stranger.Token, JsonContent.Create(new { status = $"Now about other{u}", spoiler_text = "" })))
            await Mastodon.Ok(e);
        Assert.DoesNotContain(publicPost, Ids((await Client.GetAsync($"api/v2/search?type=statuses&q={word}", viewer.Token)).GetProperty("statuses")));
        Assert.Equal([publicPost], Ids((await Client.GetAsync($"api/v2/search?type=statuses&q=other{u}", viewer.Token)).GetProperty("statuses")));
        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{publicPost}", stranger);
        Assert.Empty((await Client.GetAsync($"api/v2/search?type=statuses&q=other{u}", viewer.Token)).GetProperty("statuses").EnumerateArray());
    }

    [Fact]
    public async Task Hashtags_are_searched_by_prefix_and_links_resolve_to_posts()
    {
        var author = await Client.SignUpAsync();
        var u = Unique();
        var id = await PostIdAsync(author, $"#{u}alphabet #{u}alpha #{u}beta");

        var found = await Client.GetAsync($"api/v2/search?type=hashtags&q=%23{u.ToUpperInvariant()}ALP");
        Assert.Equal([$"{u}alpha", $"{u}alphabet"], found.GetProperty("hashtags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());
        Assert.Equal("1", found.GetProperty("hashtags")[0].GetProperty("history")[0].GetProperty("uses").GetString());
        Assert.Equal([$"{u}alphabet"], (await Client.GetAsync($"api/v2/search?type=hashtags&q={u}alp&limit=1&offset=1", author.Token))
            .GetProperty("hashtags").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList());
        var everything = await Client.GetAsync($"api/v2/search?q={u}", author.Token);
        Assert.Equal(3, everything.GetProperty("hashtags").GetArrayLength());
        Assert.False(everything.GetProperty("hashtags")[0].GetProperty("following").GetBoolean());

        var url = (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("url").GetString()!;
        var resolved = await Client.GetAsync($"api/v2/search?q={Uri.EscapeDataString(url)}&resolve=true", author.Token);
        Assert.Equal([id], Ids(resolved.GetProperty("statuses")));
        Assert.Empty(resolved.GetProperty("hashtags").EnumerateArray());

        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v2/search?q={u}&resolve=true"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v2/search?q={u}&offset=1"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v2/search?q={u}&type=tags", author.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.BadRequest);
    }
}

public sealed class SqliteTagsTests(SqliteServer f) : TagsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresTagsTests(PostgresServer f) : TagsTests(f), IClassFixture<PostgresServer>;
