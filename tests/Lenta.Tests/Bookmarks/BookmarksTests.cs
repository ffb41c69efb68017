using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Bookmarks;

/// <summary>Bookmarks over real HTTP (docs.joinmastodon.org/methods/statuses/#bookmark, /methods/bookmarks), on SQLite, PostgreSQL and PostgreSQL + Redis.</summary>
public abstract class BookmarksTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private Task<string> PostAsync(Mastodon.User user, string text = "keep me", string visibility = "public") => Client.PostAsync(user, text, visibility);

    private async Task<JsonElement> BookmarkAsync(Mastodon.User user, string id, bool bookmark = true)
    {
        using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/{(bookmark ? "bookmark" : "unbookmark")}", user.Token);
        return await Mastodon.Ok(r);
    }

    private Task FollowAsync(Mastodon.User follower, Mastodon.User target) => Client.FollowAsync(follower, target);

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    private static bool? Flag(JsonElement array, string id) =>
        array.EnumerateArray().Where(s => s.GetProperty("id").GetString() == id).Select(s => s.TryGetProperty("bookmarked", out var b) ? b.GetBoolean() : (bool?)null).Single();

    [Fact]
    public async Task Bookmarking_is_idempotent_and_answers_with_the_flag()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var id = await PostAsync(author);

        Assert.True((await BookmarkAsync(reader, id)).GetProperty("bookmarked").GetBoolean());
        Assert.True((await BookmarkAsync(reader, id)).GetProperty("bookmarked").GetBoolean());
        var list = await Client.GetAsync("api/v1/bookmarks", reader.Token);
        Assert.Equal([id], Ids(list));
        Assert.True(list[0].GetProperty("bookmarked").GetBoolean());

        Assert.False((await BookmarkAsync(reader, id, bookmark: false)).GetProperty("bookmarked").GetBoolean());
        Assert.False((await BookmarkAsync(reader, id, bookmark: false)).GetProperty("bookmarked").GetBoolean());
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", reader.Token)).GetArrayLength());
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", reader.Token)).GetProperty("bookmarked").GetBoolean());
    }

    [Fact]
    public async Task The_flag_is_right_on_every_read_of_the_viewer_and_absent_for_anonymous_readers()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        await FollowAsync(reader, author);
        var kept = await PostAsync(author, "kept");
        var reply = await PostAsync(author, "not kept");
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", author.Token, JsonContent.Create(new { status = "a reply", in_reply_to_id = kept })))
            reply = (await Mastodon.Ok(r)).GetProperty("id").GetString()!;

        // Read before the first bookmark (the viewer's "no bookmarks" mark gets cached), then bookmark: every read shows it at once.
        Assert.False(Flag(await Client.GetAsync("api/v1/timelines/home", reader.Token), kept));
        await BookmarkAsync(reader, kept);

        Assert.True((await Client.GetAsync($"api/v1/statuses/{kept}", reader.Token)).GetProperty("bookmarked").GetBoolean());
        Assert.True(Flag(await Client.GetAsync("api/v1/timelines/home", reader.Token), kept));
        Assert.False(Flag(await Client.GetAsync("api/v1/timelines/home", reader.Token), reply));
        Assert.True(Flag(await Client.GetAsync("api/v1/timelines/public", reader.Token), kept));
        Assert.True(Flag(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", reader.Token), kept));
        Assert.True(Flag(await Client.GetAsync($"api/v1/statuses?id[]={kept}&id[]={reply}", reader.Token), kept));
        Assert.True((await Client.GetAsync($"api/v1/statuses/{reply}/context", reader.Token)).GetProperty("ancestors")[0].GetProperty("bookmarked").GetBoolean());
        using (var fav = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{kept}/favourite", reader.Token))
            Assert.True((await Mastodon.Ok(fav)).GetProperty("bookmarked").GetBoolean());

        // Someone else's view and an anonymous one.
        Assert.False((await Client.GetAsync($"api/v1/statuses/{kept}", other.Token)).GetProperty("bookmarked").GetBoolean());
        Assert.False((await Client.GetAsync($"api/v1/statuses/{kept}", author.Token)).GetProperty("bookmarked").GetBoolean());
        Assert.False((await Client.GetAsync($"api/v1/statuses/{kept}")).TryGetProperty("bookmarked", out _));
    }

    [Fact]
    public async Task The_list_is_in_bookmark_order_and_pages_by_bookmark_ids_with_link()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 5; i++)
            posts.Add(await PostAsync(author, $"post {i}"));
        // Bookmarked oldest post last: it comes first.
        foreach (var id in new[] { posts[3], posts[1], posts[4], posts[2], posts[0] })
            await BookmarkAsync(reader, id);
        var expected = new List<string> { posts[0], posts[2], posts[4], posts[1], posts[3] };
        Assert.Equal(expected, Ids(await Client.GetAsync("api/v1/bookmarks", reader.Token)));

        var seen = new List<string>();
        var url = "api/v1/bookmarks?limit=2";
        var pages = 0;
        while (url is not null && pages++ < 10)
        {
            using var response = await Client.SendAsync(HttpMethod.Get, url, reader.Token);
            var page = await Mastodon.Ok(response);
            seen.AddRange(Ids(page));
            var link = response.Headers.TryGetValues("Link", out var values) ? string.Join(",", values) : "";
            var next = System.Text.RegularExpressions.Regex.Match(link, "<([^>]+)>; rel=\"next\"");
            if (page.GetArrayLength() == 2)
            {
                Assert.True(next.Success, link);
                // The cursor is a bookmark's id, not a post's.
                var cursor = next.Groups[1].Value[(next.Groups[1].Value.IndexOf("max_id=", StringComparison.Ordinal) + 7)..];
                Assert.DoesNotContain(cursor, posts);
                Assert.Contains("rel=\"prev\"", link, StringComparison.Ordinal);
            }
            url = next.Success ? next.Groups[1].Value : null;
        }
        Assert.Equal(expected, seen);
        using var anonymous = await Client.SendAsync(HttpMethod.Get, "api/v1/bookmarks");
        await Mastodon.ErrorAsync(anonymous, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Posts_the_viewer_cannot_see_are_404_and_leave_the_list()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await FollowAsync(follower, author);
        var secret = await PostAsync(author, "followers only", "private");

        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/bookmark", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses/999999999/bookmark", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses/nonsense/bookmark", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", stranger.Token)).GetArrayLength());

        Assert.True((await BookmarkAsync(follower, secret)).GetProperty("bookmarked").GetBoolean());
        Assert.Equal([secret], Ids(await Client.GetAsync("api/v1/bookmarks", follower.Token)));
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/unfollow", follower.Token))
            await Mastodon.Ok(r);
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", follower.Token)).GetArrayLength());
    }

    [Fact]
    public async Task Deleting_a_post_removes_its_bookmarks()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var gone = await PostAsync(author, "soon gone");
        var stays = await PostAsync(author, "stays");
        await BookmarkAsync(reader, gone);
        await BookmarkAsync(other, gone);
        await BookmarkAsync(reader, stays);

        using (var d = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{gone}", author.Token))
            await Mastodon.Ok(d);

        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        var rows = await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM bookmarks WHERE status_id = @id", new { id = long.Parse(gone, CultureInfo.InvariantCulture) }));
        Assert.Equal(0, rows);
        Assert.Equal([stays], Ids(await Client.GetAsync("api/v1/bookmarks", reader.Token)));
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", other.Token)).GetArrayLength());
    }
}

public sealed class SqliteBookmarksTests(SqliteServer f) : BookmarksTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresBookmarksTests(PostgresServer f) : BookmarksTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisBookmarksTests(PostgresRedisServer f) : BookmarksTests(f), IClassFixture<PostgresRedisServer>;
