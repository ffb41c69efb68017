using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>Pinned posts over real HTTP (docs.joinmastodon.org/methods/statuses/#pin), on SQLite, PostgreSQL and PostgreSQL + Redis.</summary>
public abstract class PinsTests(ServerFixture fixture)
{
    private const string LimitError = "Validation failed: You have already pinned the maximum number of posts";

    private Mastodon Client => fixture.Client;

    private Task<string> PostAsync(Mastodon.User user, string text = "pin me", string visibility = "public") => Client.PostAsync(user, text, visibility);

    private Task<HttpResponseMessage> PinRawAsync(Mastodon.User user, string id, bool pin = true) =>
        Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/{(pin ? "pin" : "unpin")}", user.Token);

    private async Task<JsonElement> PinAsync(Mastodon.User user, string id, bool pin = true)
    {
        using var r = await PinRawAsync(user, id, pin);
        return await Mastodon.Ok(r);
    }

    private async Task<List<string>> PinnedAsync(Mastodon.User owner, string? token = null) =>
        Ids(await Client.GetAsync($"api/v1/accounts/{owner.Id}/statuses?pinned=true", token));

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task Pinning_shows_on_the_authors_reads_and_in_the_pinned_list_and_unpinning_undoes_it()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var id = await PostAsync(alice);
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", alice.Token)).GetProperty("pinned").GetBoolean());

        Assert.True((await PinAsync(alice, id)).GetProperty("pinned").GetBoolean());
        Assert.True((await PinAsync(alice, id)).GetProperty("pinned").GetBoolean()); // idempotent
        Assert.True((await Client.GetAsync($"api/v1/statuses/{id}", alice.Token)).GetProperty("pinned").GetBoolean());
        Assert.True((await Client.GetAsync($"api/v1/accounts/{alice.Id}/statuses", alice.Token))[0].GetProperty("pinned").GetBoolean());
        Assert.True((await Client.GetAsync("api/v1/timelines/home", alice.Token))[0].GetProperty("pinned").GetBoolean());
        // The flag is the author's only.
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", bob.Token)).TryGetProperty("pinned", out _));
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}")).TryGetProperty("pinned", out _));
        Assert.Equal([id], await PinnedAsync(alice));
        Assert.Equal([id], await PinnedAsync(alice, bob.Token));
        using (var pinnedPage = await Client.SendAsync(HttpMethod.Get, $"api/v1/accounts/{alice.Id}/statuses?pinned=true"))
        {
            await Mastodon.Ok(pinnedPage);
            Assert.False(pinnedPage.Headers.Contains("Link"));
        }

        Assert.False((await PinAsync(alice, id, pin: false)).GetProperty("pinned").GetBoolean());
        Assert.False((await PinAsync(alice, id, pin: false)).GetProperty("pinned").GetBoolean());
        Assert.Empty(await PinnedAsync(alice));
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", alice.Token)).GetProperty("pinned").GetBoolean());
    }

    [Fact]
    public async Task At_most_five_pins_newest_pin_first_and_the_sixth_is_a_422()
    {
        var alice = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 6; i++)
            posts.Add(await PostAsync(alice, $"post {i}"));
        foreach (var id in new[] { posts[2], posts[0], posts[4], posts[1], posts[3] })
            await PinAsync(alice, id);
        Assert.Equal([posts[3], posts[1], posts[4], posts[0], posts[2]], await PinnedAsync(alice));

        using (var sixth = await PinRawAsync(alice, posts[5]))
            Assert.Equal(LimitError, await Mastodon.ErrorAsync(sixth, (HttpStatusCode)422));
        Assert.False((await Client.GetAsync($"api/v1/statuses/{posts[5]}", alice.Token)).GetProperty("pinned").GetBoolean());
        // Pinning one already pinned at the limit is no new pin.
        Assert.True((await PinAsync(alice, posts[0])).GetProperty("pinned").GetBoolean());

        await PinAsync(alice, posts[4], pin: false);
        Assert.True((await PinAsync(alice, posts[5])).GetProperty("pinned").GetBoolean());
        Assert.Equal([posts[5], posts[3], posts[1], posts[0], posts[2]], await PinnedAsync(alice));
    }

    [Fact]
    public async Task Concurrent_pins_never_pass_the_limit()
    {
        var alice = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 12; i++)
            posts.Add(await PostAsync(alice, $"post {i}"));
        var responses = await Task.WhenAll(posts.Select(id => PinRawAsync(alice, id)));
        Assert.Equal(5, responses.Count(r => r.IsSuccessStatusCode));
        Assert.Equal(7, responses.Count(r => (int)r.StatusCode == 422));
        foreach (var r in responses)
            r.Dispose();
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        Assert.Equal(5, await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM status_pins WHERE account_id = @a", new { a = long.Parse(alice.Id, CultureInfo.InvariantCulture) })));
        Assert.Equal(5, (await PinnedAsync(alice)).Count);
    }

    [Fact]
    public async Task Only_ones_own_visible_posts_can_be_pinned_and_private_pins_show_to_followers_only()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        using (var f = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/follow", follower.Token))
            await Mastodon.Ok(f);
        var open = await PostAsync(alice, "public");
        var secret = await PostAsync(alice, "followers only", "private");

        using (var r = await PinRawAsync(bob, open))
            Assert.Equal("Validation failed: Someone else's post cannot be pinned", await Mastodon.ErrorAsync(r, (HttpStatusCode)422));
        using (var r = await PinRawAsync(bob, secret))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await PinRawAsync(bob, "999999999"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{open}/pin"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);

        // Mastodon pins private posts too (only direct ones are refused); the list shows them to whom may see them.
        await PinAsync(alice, open);
        await PinAsync(alice, secret);
        Assert.Equal([secret, open], await PinnedAsync(alice, alice.Token));
        Assert.Equal([secret, open], await PinnedAsync(alice, follower.Token));
        Assert.Equal([open], await PinnedAsync(alice, bob.Token));
        Assert.Equal([open], await PinnedAsync(alice));
    }

    [Fact]
    public async Task Deleting_a_pinned_post_removes_the_pin()
    {
        var alice = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 6; i++)
            posts.Add(await PostAsync(alice, $"post {i}"));
        for (var i = 0; i < 5; i++)
            await PinAsync(alice, posts[i]);
        Assert.Equal(5, (await PinnedAsync(alice)).Count);

        using (var d = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{posts[0]}", alice.Token))
            await Mastodon.Ok(d);
        Assert.DoesNotContain(posts[0], await PinnedAsync(alice));
        Assert.Equal(4, (await PinnedAsync(alice)).Count);
        // The freed place can be taken.
        Assert.True((await PinAsync(alice, posts[5])).GetProperty("pinned").GetBoolean());
    }
}

public sealed class SqlitePinsTests(SqliteServer f) : PinsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresPinsTests(PostgresServer f) : PinsTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisPinsTests(PostgresRedisServer f) : PinsTests(f), IClassFixture<PostgresRedisServer>;
