using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Feed;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Likes;

/// <summary>Likes over real HTTP, on SQLite and PostgreSQL.</summary>
public abstract class LikesTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private IDatabase Db => fixture.Server.Services.GetRequiredService<IDatabase>();

    private Task<string> PostAsync(Mastodon.User user, string text = "like me", string visibility = "public") => Client.PostAsync(user, text, visibility);

    private async Task<HttpResponseMessage> LikeAsync(string token, string id, bool like = true) =>
        await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/{(like ? "favourite" : "unfavourite")}", token);

    /// <summary>Many likers at once: accounts seeded in the database with real tokens (sign-up's password hashing would dominate).</summary>
    private async Task<List<string>> LikersAsync(int count)
    {
        var author = await Client.SignUpAsync();
        var seeded = await Seed.FollowersAsync(fixture.Server.Services, long.Parse(author.Id, CultureInfo.InvariantCulture), count);
        var tokens = fixture.Server.Services.GetRequiredService<AccessTokens>();
        var result = new List<string>();
        foreach (var id in seeded)
            result.Add((await tokens.IssueAsync("seeded", id, ["read", "write"])).Token);
        return result;
    }

    /// <summary>
    /// Rows, stored count and likes not yet folded, in one statement, so one snapshot (separate statements could straddle
    /// a fold); Listed: the rows of the lists' two tables for the post, which the fold writes (twice the folded rows).
    /// </summary>
    private Task<(long Rows, long Stored, long Pending, long Listed)> TruthAsync(string statusId) =>
        Db.ReadAsync(c => c.QuerySingleAsync<(long Rows, long Stored, long Pending, long Listed)>("""
            SELECT (SELECT COUNT(*) FROM favourites WHERE status_id = @id),
                   COALESCE((SELECT favourites_count FROM favourite_counts WHERE status_id = @id), 0),
                   (SELECT COUNT(*) FROM favourites WHERE folded = 0 AND status_id = @id),
                   (SELECT COUNT(*) FROM favourites_by_status WHERE status_id = @id) + (SELECT COUNT(*) FROM favourites_by_account WHERE status_id = @id)
            """, new { id = long.Parse(statusId, CultureInfo.InvariantCulture) }));

    /// <summary>Once the write-behind folded every like of the post: rows, stored count, and the lists' rows checked.</summary>
    private async Task<(long Rows, long Stored, long Pending)> SettledAsync(string statusId)
    {
        var t = await Eventually.WaitAsync(() => TruthAsync(statusId), t => t.Pending == 0, TimeSpan.FromSeconds(30), "the write-behind to fold the likes");
        Assert.Equal(2 * t.Rows, t.Listed);
        return (t.Rows, t.Stored, t.Pending);
    }

    [Fact]
    public async Task Liking_is_idempotent_and_shows_on_the_status()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var id = await PostAsync(author);

        using var like = await LikeAsync(fan.Token, id);
        var liked = await Mastodon.Ok(like);
        Assert.True(liked.GetProperty("favourited").GetBoolean());
        Assert.Equal(1, liked.GetProperty("favourites_count").GetInt64());
        using var again = await LikeAsync(fan.Token, id);
        Assert.Equal(1, (await Mastodon.Ok(again)).GetProperty("favourites_count").GetInt64());

        Assert.Equal(1, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64());
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", author.Token)).GetProperty("favourited").GetBoolean());
        Assert.True((await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", fan.Token))[0].GetProperty("favourited").GetBoolean());

        using var unlike = await LikeAsync(fan.Token, id, like: false);
        var unliked = await Mastodon.Ok(unlike);
        Assert.False(unliked.GetProperty("favourited").GetBoolean());
        Assert.Equal(0, unliked.GetProperty("favourites_count").GetInt64());
        using var unlikeAgain = await LikeAsync(fan.Token, id, like: false);
        Assert.Equal(0, (await Mastodon.Ok(unlikeAgain)).GetProperty("favourites_count").GetInt64());
        Assert.Equal((0L, 0L, 0L), await SettledAsync(id));
    }

    [Fact]
    public async Task Unknown_or_invisible_posts_cannot_be_liked()
    {
        var author = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        var secret = await PostAsync(author, "followers only", "private");
        foreach (var id in new[] { secret, "999999999", "nope" })
        {
            using var r = await LikeAsync(stranger.Token, id);
            Assert.Equal("Record not found", await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound));
        }
        using var anonymous = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/favourite");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal((0L, 0L, 0L, 0L), await TruthAsync(secret));
    }

    [Fact]
    public async Task A_hundred_parallel_likes_count_a_hundred_and_reach_the_table()
    {
        var author = await Client.SignUpAsync();
        var id = await PostAsync(author, "hot post");
        Assert.Equal(0, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64()); // count cached before the storm
        var likers = await LikersAsync(100);
        var responses = await Task.WhenAll(likers.Select(t => LikeAsync(t, id)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses)
            r.Dispose();
        await Task.WhenAll(likers.Take(10).Select(async t => { using var r = await LikeAsync(t, id); })); // likes again: nothing changes

        Assert.Equal(100, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64());
        Assert.Equal((100L, 100L, 0L), await SettledAsync(id));
        await fixture.Server.Services.GetRequiredService<ICache>().ClearAsync();
        Assert.Equal(100, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64());
    }

    [Fact]
    public async Task Many_likers_of_many_posts_at_once_each_pair_sent_twice_count_each_once()
    {
        // On PostgreSQL likes waiting at once share one statement: pairs repeated within a batch and across batches, in
        // every order, must neither count twice nor deadlock.
        var author = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 8; i++)
            posts.Add(await PostAsync(author, $"post {i}"));
        var likers = await LikersAsync(12);
        var sends = likers.SelectMany(t => posts.Select(p => (Token: t, Post: p))).SelectMany(x => new[] { x, x }).OrderBy(_ => Random.Shared.Next()).ToList();
        var responses = await Task.WhenAll(sends.Select(s => LikeAsync(s.Token, s.Post)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var r in responses)
            r.Dispose();

        foreach (var post in posts)
        {
            Assert.Equal(12, (await Client.GetAsync($"api/v1/statuses/{post}")).GetProperty("favourites_count").GetInt64());
            Assert.Equal((12L, 12L, 0L), await SettledAsync(post));
        }
        var seen = await Client.GetAsync($"api/v1/statuses/{posts[3]}", likers[5]);
        Assert.True(seen.GetProperty("favourited").GetBoolean());
    }

    [Fact]
    public async Task Concurrent_like_and_unlike_of_one_pair_ends_consistent()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var id = await PostAsync(author);
        await Client.GetAsync($"api/v1/statuses/{id}", fan.Token); // count and flag cached
        await Task.WhenAll(Enumerable.Range(0, 30).Select(async i => { using var r = await LikeAsync(fan.Token, id, like: i % 2 == 0); Assert.Equal(HttpStatusCode.OK, r.StatusCode); }));

        var (rows, stored, _) = await SettledAsync(id);
        Assert.Equal(rows, stored);
        Assert.InRange(rows, 0, 1);
        var seen = await Client.GetAsync($"api/v1/statuses/{id}", fan.Token);
        Assert.Equal(rows, seen.GetProperty("favourites_count").GetInt64());
        await Eventually.WaitAsync(async () => (await Client.GetAsync($"api/v1/statuses/{id}", fan.Token)).GetProperty("favourited").GetBoolean(),
            f => f == (rows == 1), TimeSpan.FromSeconds(15), "the flag to settle");
    }

    [Fact]
    public async Task Likers_and_liked_posts_page_with_links()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = await PostAsync(author, $"p{i}");
            ids.Add(id);
            using var r = await LikeAsync(fan.Token, id);
            await Mastodon.Ok(r);
        }
        using var first = await Client.SendAsync(HttpMethod.Get, "api/v1/favourites?limit=2", fan.Token);
        var page = await Mastodon.Ok(first);
        Assert.Equal([ids[2], ids[1]], page.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.All(page.EnumerateArray(), s => Assert.True(s.GetProperty("favourited").GetBoolean()));
        var next = System.Text.RegularExpressions.Regex.Match(first.Headers.GetValues("Link").Single(), "<([^>]+)>; rel=\"next\"").Groups[1].Value;
        using var second = await Client.SendAsync(HttpMethod.Get, next, fan.Token);
        Assert.Equal([ids[0]], (await Mastodon.Ok(second)).EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var likers = await Client.GetAsync($"api/v1/statuses/{ids[0]}/favourited_by");
        Assert.Equal([fan.Id], likers.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        using var unknown = await Client.SendAsync(HttpMethod.Get, "api/v1/statuses/999999999/favourited_by");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>
    /// Lists and counts read folded likes and likes the write-behind has not folded yet as one: likes made right after a
    /// fold are (almost always) still unfolded when read; every assertion holds whichever state each like is in.
    /// </summary>
    [Fact]
    public async Task Lists_and_counts_see_folded_and_unfolded_likes_alike()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(await PostAsync(author, $"p{i}"));
        foreach (var id in ids.Take(3))
        {
            using var r = await LikeAsync(fan.Token, id);
            await Mastodon.Ok(r);
        }
        foreach (var id in ids.Take(3))
            Assert.Equal((1L, 1L, 0L), await SettledAsync(id)); // folded
        foreach (var id in ids.Skip(3))
        {
            using var r = await LikeAsync(fan.Token, id);
            await Mastodon.Ok(r);
        }
        using (var r = await LikeAsync(other.Token, ids[0]))
            await Mastodon.Ok(r);

        async Task<List<List<string>>> PagesAsync()
        {
            var pages = new List<List<string>>();
            var url = "api/v1/favourites?limit=2";
            while (url.Length > 0)
            {
                using var r = await Client.SendAsync(HttpMethod.Get, url, fan.Token);
                var page = (await Mastodon.Ok(r)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
                if (page.Count == 0)
                    break;
                pages.Add(page);
                var link = r.Headers.TryGetValues("Link", out var v) ? v.Single() : "";
                url = System.Text.RegularExpressions.Regex.Match(link, "<([^>]+)>; rel=\"next\"").Groups[1].Value;
            }
            return pages;
        }

        // The newest two likes (unfolded) page before the three folded ones, across the boundary with the cursor.
        Assert.Equal([[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]], await PagesAsync());
        var likers = await Client.GetAsync($"api/v1/statuses/{ids[0]}/favourited_by");
        Assert.Equal([other.Id, fan.Id], likers.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        using (var since = await Client.SendAsync(HttpMethod.Get, $"api/v1/favourites?limit=1&min_id=0", fan.Token))
            Assert.Equal([ids[0]], (await Mastodon.Ok(since)).EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(2, (await Client.GetAsync($"api/v1/statuses/{ids[0]}")).GetProperty("favourites_count").GetInt64());

        // Unlike a folded like and one made after the fold (most likely unfolded still): both leave the lists and the counts.
        foreach (var id in new[] { ids[1], ids[4] })
        {
            using var r = await LikeAsync(fan.Token, id, like: false);
            Assert.Equal(0, (await Mastodon.Ok(r)).GetProperty("favourites_count").GetInt64());
        }
        Assert.Equal([[ids[3], ids[2]], [ids[0]]], await PagesAsync());
        await fixture.Server.Services.GetRequiredService<ICache>().ClearAsync(); // counts read back from the database
        long[] expected = [2, 0, 1, 1, 0];
        Assert.Equal(expected, await Task.WhenAll(ids.Select(async id => (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("favourites_count").GetInt64())));
        for (var i = 0; i < ids.Count; i++)
            Assert.Equal((expected[i], expected[i], 0L), await SettledAsync(ids[i]));
        Assert.Equal([[ids[3], ids[2]], [ids[0]]], await PagesAsync());
    }

    [Fact]
    public async Task Deleting_a_post_takes_its_likes_along()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var id = await PostAsync(author);
        using (var r = await LikeAsync(fan.Token, id))
            await Mastodon.Ok(r);
        using (var r = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token))
            await Mastodon.Ok(r);
        Assert.Equal(0, (await Client.GetAsync("api/v1/favourites", fan.Token)).GetArrayLength());
        Assert.Equal(0L, (await TruthAsync(id)).Rows);
    }
}

public sealed class SqliteLikesTests(SqliteServer f) : LikesTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresLikesTests(PostgresServer f) : LikesTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisLikesTests(PostgresRedisServer f) : LikesTests(f), IClassFixture<PostgresRedisServer>;
