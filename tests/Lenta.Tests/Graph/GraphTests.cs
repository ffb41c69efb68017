using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Server.Graph;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Graph;

/// <summary>The follow graph over real HTTP (docs.joinmastodon.org/methods/accounts, /follow_requests, /search), on SQLite and PostgreSQL.</summary>
public abstract class GraphTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private async Task<JsonElement> PostAsync(string path, string token, object? body = null)
    {
        using var response = await Client.SendAsync(HttpMethod.Post, path, token, body is null ? null : JsonContent.Create(body));
        return await Mastodon.Ok(response);
    }

    private async Task<JsonElement> AccountAsync(Mastodon.User user) => await Client.GetAsync($"api/v1/accounts/{user.Id}");

    private async Task LockAsync(Mastodon.User user)
    {
        using var response = await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, JsonContent.Create(new { locked = true }));
        await Mastodon.Ok(response);
    }

    [Fact]
    public async Task Following_makes_the_relationship_and_moves_both_counts_once()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var rel = await PostAsync($"api/v1/accounts/{bob.Id}/follow", alice.Token);
        Assert.Equal(bob.Id, rel.GetProperty("id").GetString());
        Assert.True(rel.GetProperty("following").GetBoolean());
        Assert.True(rel.GetProperty("showing_reblogs").GetBoolean());
        Assert.False(rel.GetProperty("followed_by").GetBoolean());
        Assert.False(rel.GetProperty("requested").GetBoolean());
        foreach (var key in new[] { "blocking", "blocked_by", "muting", "muting_notifications", "domain_blocking", "endorsed", "requested_by", "notifying" })
            Assert.False(rel.GetProperty(key).GetBoolean(), key);
        Assert.Equal("", rel.GetProperty("note").GetString());

        var again = await PostAsync($"api/v1/accounts/{bob.Id}/follow", alice.Token, new { reblogs = false, notify = true });
        Assert.False(again.GetProperty("showing_reblogs").GetBoolean());
        Assert.True(again.GetProperty("notifying").GetBoolean());

        Assert.Equal(1, (await AccountAsync(bob)).GetProperty("followers_count").GetInt64());
        Assert.Equal(1, (await AccountAsync(alice)).GetProperty("following_count").GetInt64());

        var back = await PostAsync($"api/v1/accounts/{alice.Id}/follow", bob.Token);
        Assert.True(back.GetProperty("followed_by").GetBoolean()); // friends now

        var gone = await PostAsync($"api/v1/accounts/{bob.Id}/unfollow", alice.Token);
        Assert.False(gone.GetProperty("following").GetBoolean());
        Assert.True(gone.GetProperty("followed_by").GetBoolean());
        var twice = await PostAsync($"api/v1/accounts/{bob.Id}/unfollow", alice.Token);
        Assert.False(twice.GetProperty("following").GetBoolean());
        Assert.Equal(0, (await AccountAsync(bob)).GetProperty("followers_count").GetInt64());
        Assert.Equal(0, (await AccountAsync(alice)).GetProperty("following_count").GetInt64());
        Assert.Equal(1, (await AccountAsync(alice)).GetProperty("followers_count").GetInt64());
    }

    [Fact]
    public async Task Following_yourself_or_nobody_is_refused()
    {
        var alice = await Client.SignUpAsync();
        using var self = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/follow", alice.Token);
        Assert.Equal("Following your own account is not allowed", await Mastodon.ErrorAsync(self, HttpStatusCode.Forbidden));
        foreach (var path in new[] { "api/v1/accounts/987654321/follow", "api/v1/accounts/nope/follow", "api/v1/accounts/987654321/unfollow" })
        {
            using var response = await Client.SendAsync(HttpMethod.Post, path, alice.Token);
            Assert.Equal("Record not found", await Mastodon.ErrorAsync(response, HttpStatusCode.NotFound));
        }
        using var anonymous = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/follow");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(0, (await AccountAsync(alice)).GetProperty("following_count").GetInt64());
    }

    [Fact]
    public async Task A_locked_account_turns_a_follow_into_a_request_it_can_authorize()
    {
        var owner = await Client.SignUpAsync();
        await LockAsync(owner);
        var fan = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();

        var requested = await PostAsync($"api/v1/accounts/{owner.Id}/follow", fan.Token);
        Assert.False(requested.GetProperty("following").GetBoolean());
        Assert.True(requested.GetProperty("requested").GetBoolean());
        await PostAsync($"api/v1/accounts/{owner.Id}/follow", other.Token);
        Assert.Equal(0, (await AccountAsync(owner)).GetProperty("followers_count").GetInt64());

        var me = await Client.GetAsync("api/v1/accounts/verify_credentials", owner.Token);
        Assert.Equal(2, me.GetProperty("source").GetProperty("follow_requests_count").GetInt64());
        var pending = await Client.GetAsync("api/v1/follow_requests", owner.Token);
        Assert.Equal([other.Id, fan.Id], pending.EnumerateArray().Select(a => a.GetProperty("id").GetString()));

        var ownerView = (await Client.GetAsync($"api/v1/accounts/relationships?id[]={fan.Id}", owner.Token))[0];
        Assert.True(ownerView.GetProperty("requested_by").GetBoolean());

        var authorized = await PostAsync($"api/v1/follow_requests/{fan.Id}/authorize", owner.Token);
        Assert.True(authorized.GetProperty("followed_by").GetBoolean());
        Assert.False(authorized.GetProperty("requested_by").GetBoolean());
        var rejected = await PostAsync($"api/v1/follow_requests/{other.Id}/reject", owner.Token);
        Assert.False(rejected.GetProperty("followed_by").GetBoolean());

        var fanView = (await Client.GetAsync($"api/v1/accounts/relationships?id[]={owner.Id}", fan.Token))[0];
        Assert.True(fanView.GetProperty("following").GetBoolean());
        Assert.False(fanView.GetProperty("requested").GetBoolean());
        Assert.Equal(1, (await AccountAsync(owner)).GetProperty("followers_count").GetInt64());
        Assert.Equal(0, (await Client.GetAsync("api/v1/follow_requests", owner.Token)).GetArrayLength());

        foreach (var path in new[] { $"api/v1/follow_requests/{fan.Id}/authorize", $"api/v1/follow_requests/{other.Id}/reject", "api/v1/follow_requests/123456789/authorize" })
        {
            using var none = await Client.SendAsync(HttpMethod.Post, path, owner.Token);
            Assert.Equal("Record not found", await Mastodon.ErrorAsync(none, HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task Unfollowing_withdraws_a_pending_request()
    {
        var owner = await Client.SignUpAsync();
        await LockAsync(owner);
        var fan = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{owner.Id}/follow", fan.Token);
        var withdrawn = await PostAsync($"api/v1/accounts/{owner.Id}/unfollow", fan.Token);
        Assert.False(withdrawn.GetProperty("requested").GetBoolean());
        Assert.Equal(0, (await Client.GetAsync("api/v1/follow_requests", owner.Token)).GetArrayLength());
    }

    [Fact]
    public async Task Relationships_answer_for_known_ids_in_order_and_skip_unknown_ones()
    {
        var me = await Client.SignUpAsync();
        var a = await Client.SignUpAsync();
        var b = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{b.Id}/follow", me.Token);
        var rels = await Client.GetAsync($"api/v1/accounts/relationships?id[]={b.Id}&id[]=999999999&id[]={a.Id}&id[]=junk", me.Token);
        Assert.Equal([b.Id, a.Id], rels.EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.True(rels[0].GetProperty("following").GetBoolean());
        Assert.False(rels[1].GetProperty("following").GetBoolean());
        var single = await Client.GetAsync($"api/v1/accounts/relationships?id={a.Id}", me.Token);
        Assert.Equal(1, single.GetArrayLength());
        using var anonymous = await Client.SendAsync(HttpMethod.Get, $"api/v1/accounts/relationships?id[]={a.Id}");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Followers_and_following_page_newest_first_with_mastodons_link_header()
    {
        var star = await Client.SignUpAsync();
        var fans = new List<Mastodon.User>();
        for (var i = 0; i < 5; i++)
        {
            var fan = await Client.SignUpAsync();
            await PostAsync($"api/v1/accounts/{star.Id}/follow", fan.Token);
            fans.Add(fan);
        }
        var newestFirst = fans.Select(f => f.Id).Reverse().ToList();

        using var first = await Client.SendAsync(HttpMethod.Get, $"api/v1/accounts/{star.Id}/followers?limit=2");
        var page1 = await Mastodon.Ok(first);
        Assert.Equal(newestFirst.Take(2), page1.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        var link = first.Headers.GetValues("Link").Single();
        var next = LinkOf(link, "next");
        var prev = LinkOf(link, "prev");
        Assert.Contains("limit=2", next.Query, StringComparison.Ordinal);
        Assert.Contains("max_id=", next.Query, StringComparison.Ordinal);
        Assert.Contains("since_id=", prev.Query, StringComparison.Ordinal);

        using var second = await Client.Http.GetAsync(next);
        Assert.Equal(newestFirst.Skip(2).Take(2), (await Mastodon.Ok(second)).EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        using var third = await Client.Http.GetAsync(LinkOf(second.Headers.GetValues("Link").Single(), "next"));
        var last = await Mastodon.Ok(third);
        Assert.Equal(newestFirst.Skip(4), last.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        Assert.DoesNotContain("rel=\"next\"", third.Headers.GetValues("Link").Single(), StringComparison.Ordinal); // not a full page

        // min_id pages forward without gaps: the two right above the cursor, still newest first.
        using var back = await Client.Http.GetAsync(new Uri(Client.Http.BaseAddress!, $"api/v1/accounts/{star.Id}/followers?limit=2&min_id={NextCursor(third)}"));
        Assert.Equal(newestFirst.Skip(2).Take(2), (await Mastodon.Ok(back)).EnumerateArray().Select(a => a.GetProperty("id").GetString()));

        var following = await Client.GetAsync($"api/v1/accounts/{fans[0].Id}/following");
        Assert.Equal([star.Id], following.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        using var unknown = await Client.SendAsync(HttpMethod.Get, "api/v1/accounts/999999999/followers");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static string NextCursor(HttpResponseMessage response)
    {
        var prev = LinkOf(response.Headers.GetValues("Link").Single(), "prev");
        return prev.Query.Split('&').Single(p => p.Contains("since_id=", StringComparison.Ordinal)).Split('=')[1];
    }

    private static Uri LinkOf(string header, string rel)
    {
        foreach (var part in header.Split(','))
        {
            var m = System.Text.RegularExpressions.Regex.Match(part, "<([^>]+)>;\\s*rel=\"([^\"]+)\"");
            if (m.Success && m.Groups[2].Value == rel)
                return new Uri(m.Groups[1].Value);
        }
        throw new InvalidOperationException($"no rel={rel} in {header}");
    }

    [Fact]
    public async Task Hidden_collections_are_empty_to_others_but_not_to_the_owner()
    {
        var owner = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{owner.Id}/follow", fan.Token);
        using (await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", owner.Token, JsonContent.Create(new { hide_collections = true })))
        {
        }
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{owner.Id}/followers")).GetArrayLength());
        Assert.Equal(1, (await Client.GetAsync($"api/v1/accounts/{owner.Id}/followers", owner.Token)).GetArrayLength());
        Assert.Equal(1, (await AccountAsync(owner)).GetProperty("followers_count").GetInt64());
    }

    [Fact]
    public async Task Search_finds_people_by_username_or_display_name_prefix()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var exact = await Client.SignUpAsync($"zed{tag}");
        var longer = await Client.SignUpAsync($"zed{tag}_more");
        var byName = await Client.SignUpAsync($"q{tag}");
        using (await Client.SendAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", byName.Token, JsonContent.Create(new { display_name = $"Zed{tag} Fan" })))
        {
        }
        var decoy = await Client.SignUpAsync($"not_zed{tag}");

        var v2 = await Client.GetAsync($"api/v2/search?type=accounts&q=ZED{tag}&resolve=true", exact.Token);
        var ids = v2.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("id").GetString()).ToList();
        Assert.Equal(exact.Id, ids[0]); // the exact username first
        Assert.Contains(longer.Id, ids);
        Assert.Contains(byName.Id, ids);
        Assert.DoesNotContain(decoy.Id, ids);
        Assert.Equal(0, v2.GetProperty("statuses").GetArrayLength());
        Assert.Equal(0, v2.GetProperty("hashtags").GetArrayLength());

        var anonymous = await Client.GetAsync($"api/v2/search?q=@zed{tag}_");
        Assert.Equal([longer.Id], anonymous.GetProperty("accounts").EnumerateArray().Select(a => a.GetProperty("id").GetString()));

        var v1 = await Client.GetAsync($"api/v1/accounts/search?q=zed{tag}&limit=1", exact.Token);
        Assert.Equal([exact.Id], v1.EnumerateArray().Select(a => a.GetProperty("id").GetString()));

        await PostAsync($"api/v1/accounts/{longer.Id}/follow", exact.Token);
        var mine = await Client.GetAsync($"api/v1/accounts/search?q=zed{tag}&following=true", exact.Token);
        Assert.Equal(new[] { exact.Id, longer.Id }.Order(), mine.EnumerateArray().Select(a => a.GetProperty("id").GetString()).Order());

        var wildcard = await Client.GetAsync("api/v2/search?type=accounts&q=%25");
        Assert.Equal(0, wildcard.GetProperty("accounts").GetArrayLength()); // '%' is a character, not a wildcard

        using var noQuery = await Client.SendAsync(HttpMethod.Get, "api/v2/search?type=accounts");
        Assert.Equal(HttpStatusCode.BadRequest, noQuery.StatusCode);
    }

    [Fact]
    public async Task Concurrent_follow_and_unfollow_end_consistent_with_counts_matching_rows()
    {
        var target = await Client.SignUpAsync();
        var followers = new List<Mastodon.User>();
        for (var i = 0; i < 6; i++)
            followers.Add(await Client.SignUpAsync());

        // Each follower fires follows and unfollows at once, many times over.
        await Task.WhenAll(followers.SelectMany(f => Enumerable.Range(0, 8).Select(async i =>
        {
            var path = i % 2 == 0 ? "follow" : "unfollow";
            using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{target.Id}/{path}", f.Token);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        })));

        var rels = await Client.GetAsync($"api/v1/accounts/relationships?{string.Join('&', followers.Select(f => $"id[]={f.Id}"))}", target.Token);
        var actuallyFollowing = rels.EnumerateArray().Count(r => r.GetProperty("followed_by").GetBoolean());
        var listed = (await Client.GetAsync($"api/v1/accounts/{target.Id}/followers?limit=80")).GetArrayLength();
        Assert.Equal(actuallyFollowing, listed);
        Assert.Equal(actuallyFollowing, (await AccountAsync(target)).GetProperty("followers_count").GetInt64());
        foreach (var f in followers)
        {
            var following = (await Client.GetAsync($"api/v1/accounts/relationships?id[]={target.Id}", f.Token))[0].GetProperty("following").GetBoolean();
            Assert.Equal(following ? 1 : 0, (await AccountAsync(f)).GetProperty("following_count").GetInt64());
        }
    }

    [Fact]
    public async Task The_graph_service_pages_followers_for_fan_out_by_cursor()
    {
        var star = await Client.SignUpAsync();
        for (var i = 0; i < 7; i++)
            await PostAsync($"api/v1/accounts/{star.Id}/follow", (await Client.SignUpAsync()).Token);
        var graph = fixture.Server.Services.GetRequiredService<GraphService>();
        var seen = new List<long>();
        long after = 0;
        while (true)
        {
            var batch = await graph.FollowersAfterAsync(long.Parse(star.Id, System.Globalization.CultureInfo.InvariantCulture), after, 3, CancellationToken.None);
            if (batch.Count == 0)
                break;
            Assert.True(batch.Count <= 3);
            seen.AddRange(batch.Select(e => e.AccountId));
            after = batch[^1].Id;
        }
        Assert.Equal(7, seen.Distinct().Count());
        Assert.Equal(7, await graph.FollowerCountAsync(long.Parse(star.Id, System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None));
    }
}

public sealed class SqliteGraphTests(SqliteServer f) : GraphTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresGraphTests(PostgresServer f) : GraphTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisGraphTests(PostgresRedisServer f) : GraphTests(f), IClassFixture<PostgresRedisServer>;
