using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Graph;

/// <summary>Blocks and mutes over real HTTP (docs.joinmastodon.org/methods/accounts/#block, #mute, /methods/blocks, /methods/mutes), on SQLite, PostgreSQL and PostgreSQL + Redis.</summary>
public abstract class BlocksAndMutesTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private async Task<JsonElement> PostAsync(string path, string token, object? body = null)
    {
        using var response = await Client.SendAsync(HttpMethod.Post, path, token, body is null ? null : JsonContent.Create(body));
        return await Mastodon.Ok(response);
    }

    private async Task<string> StatusAsync(Mastodon.User user, string text)
    {
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = text }));
        return (await Mastodon.Ok(r)).GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> RelationshipAsync(Mastodon.User me, Mastodon.User other) =>
        (await Client.GetAsync($"api/v1/accounts/relationships?id[]={other.Id}", me.Token))[0];

    private async Task<List<string>> TimelineAsync(string path, string? token) =>
        (await Client.GetAsync(path, token)).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    private static List<string> AccountIds(JsonElement array) => array.EnumerateArray().Select(a => a.GetProperty("id").GetString()!).ToList();

    [Fact]
    public async Task A_block_ends_follows_both_ways_and_no_follow_is_possible_until_unblocked()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{bob.Id}/follow", alice.Token);
        await PostAsync($"api/v1/accounts/{alice.Id}/follow", bob.Token);

        var blocked = await PostAsync($"api/v1/accounts/{bob.Id}/block", alice.Token);
        Assert.True(blocked.GetProperty("blocking").GetBoolean());
        Assert.False(blocked.GetProperty("following").GetBoolean());
        Assert.False(blocked.GetProperty("followed_by").GetBoolean());
        Assert.True((await PostAsync($"api/v1/accounts/{bob.Id}/block", alice.Token)).GetProperty("blocking").GetBoolean()); // idempotent
        var theirs = await RelationshipAsync(bob, alice);
        Assert.True(theirs.GetProperty("blocked_by").GetBoolean());
        Assert.False(theirs.GetProperty("blocking").GetBoolean());
        Assert.False(theirs.GetProperty("following").GetBoolean());
        foreach (var user in new[] { alice, bob })
        {
            var account = await Client.GetAsync($"api/v1/accounts/{user.Id}");
            Assert.Equal(0, account.GetProperty("followers_count").GetInt64());
            Assert.Equal(0, account.GetProperty("following_count").GetInt64());
        }
        Assert.Equal([bob.Id], AccountIds(await Client.GetAsync("api/v1/blocks", alice.Token)));
        Assert.Empty(AccountIds(await Client.GetAsync("api/v1/blocks", bob.Token)));

        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/follow", bob.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Forbidden);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{bob.Id}/follow", alice.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Forbidden);

        var unblocked = await PostAsync($"api/v1/accounts/{bob.Id}/unblock", alice.Token);
        Assert.False(unblocked.GetProperty("blocking").GetBoolean());
        Assert.False((await RelationshipAsync(bob, alice)).GetProperty("blocked_by").GetBoolean());
        Assert.Empty(AccountIds(await Client.GetAsync("api/v1/blocks", alice.Token)));
        Assert.True((await PostAsync($"api/v1/accounts/{alice.Id}/follow", bob.Token)).GetProperty("following").GetBoolean());
    }

    [Fact]
    public async Task Blocked_accounts_posts_leave_both_timelines_both_ways_and_come_back_after_unblocking()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{bob.Id}/follow", alice.Token);
        var fromBob = await StatusAsync(bob, "bob speaks");
        var fromAlice = await StatusAsync(alice, "alice speaks");
        await Eventually.WaitAsync(() => TimelineAsync("api/v1/timelines/home", alice.Token), ids => ids.Contains(fromBob), TimeSpan.FromSeconds(10), "bob's post in alice's home");

        await PostAsync($"api/v1/accounts/{bob.Id}/block", alice.Token);
        Assert.DoesNotContain(fromBob, await TimelineAsync("api/v1/timelines/home", alice.Token));
        Assert.DoesNotContain(fromBob, await TimelineAsync("api/v1/timelines/public?limit=40", alice.Token));
        Assert.DoesNotContain(fromAlice, await TimelineAsync("api/v1/timelines/public?limit=40", bob.Token));
        Assert.Contains(fromAlice, await TimelineAsync("api/v1/timelines/public?limit=40", alice.Token));
        Assert.Contains(fromBob, await TimelineAsync("api/v1/timelines/public?limit=40", null)); // nobody's filter for anonymous readers

        await PostAsync($"api/v1/accounts/{bob.Id}/unblock", alice.Token);
        Assert.Contains(fromBob, await TimelineAsync("api/v1/timelines/public?limit=40", alice.Token));
        Assert.Contains(fromAlice, await TimelineAsync("api/v1/timelines/public?limit=40", bob.Token));
    }

    [Fact]
    public async Task A_mute_hides_posts_without_ending_the_follow_and_shows_in_the_relationship_and_list()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await PostAsync($"api/v1/accounts/{bob.Id}/follow", alice.Token);
        var fromBob = await StatusAsync(bob, "noisy");
        await Eventually.WaitAsync(() => TimelineAsync("api/v1/timelines/home", alice.Token), ids => ids.Contains(fromBob), TimeSpan.FromSeconds(10), "bob's post in alice's home");

        var muted = await PostAsync($"api/v1/accounts/{bob.Id}/mute", alice.Token, new { notifications = false });
        Assert.True(muted.GetProperty("muting").GetBoolean());
        Assert.False(muted.GetProperty("muting_notifications").GetBoolean());
        Assert.True(muted.GetProperty("following").GetBoolean());
        Assert.Equal(JsonValueKind.Null, muted.GetProperty("muting_expires_at").ValueKind);
        Assert.True((await PostAsync($"api/v1/accounts/{bob.Id}/mute", alice.Token)).GetProperty("muting_notifications").GetBoolean()); // again: options updated
        Assert.False((await RelationshipAsync(bob, alice)).GetProperty("muting").GetBoolean());
        Assert.Equal([bob.Id], AccountIds(await Client.GetAsync("api/v1/mutes", alice.Token)));
        Assert.DoesNotContain(fromBob, await TimelineAsync("api/v1/timelines/home", alice.Token));
        Assert.DoesNotContain(fromBob, await TimelineAsync("api/v1/timelines/public?limit=40", alice.Token));
        // A mute is one-sided: bob still sees alice's posts, and his own.
        Assert.Contains(fromBob, await TimelineAsync("api/v1/timelines/home", bob.Token));

        var unmuted = await PostAsync($"api/v1/accounts/{bob.Id}/unmute", alice.Token);
        Assert.False(unmuted.GetProperty("muting").GetBoolean());
        Assert.Empty(AccountIds(await Client.GetAsync("api/v1/mutes", alice.Token)));
        Assert.Contains(fromBob, await TimelineAsync("api/v1/timelines/home", alice.Token));
    }

    [Fact]
    public async Task A_mute_with_a_duration_ends_by_itself()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var fromBob = await StatusAsync(bob, "for a while");
        var muted = await PostAsync($"api/v1/accounts/{bob.Id}/mute", alice.Token, new { duration = 2 });
        Assert.NotEqual(JsonValueKind.Null, muted.GetProperty("muting_expires_at").ValueKind);
        Assert.DoesNotContain(fromBob, await TimelineAsync("api/v1/timelines/public?limit=40", alice.Token));

        await Eventually.WaitAsync(() => TimelineAsync("api/v1/timelines/public?limit=40", alice.Token), ids => ids.Contains(fromBob), TimeSpan.FromSeconds(15), "the mute to end");
        Assert.False((await RelationshipAsync(alice, bob)).GetProperty("muting").GetBoolean());
        Assert.Empty(AccountIds(await Client.GetAsync("api/v1/mutes", alice.Token)));
    }

    [Fact]
    public async Task Unknown_accounts_are_404_oneself_403_and_anonymous_callers_401()
    {
        var alice = await Client.SignUpAsync();
        foreach (var action in new[] { "block", "unblock", "mute", "unmute" })
        {
            using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/999999999/{action}", alice.Token))
                await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
            using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/{action}", alice.Token))
                await Mastodon.ErrorAsync(r, HttpStatusCode.Forbidden);
            using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/{action}"))
                await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
        }
        using (var r = await Client.SendAsync(HttpMethod.Get, "api/v1/blocks"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
    }
}

public sealed class SqliteBlocksAndMutesTests(SqliteServer f) : BlocksAndMutesTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresBlocksAndMutesTests(PostgresServer f) : BlocksAndMutesTests(f), IClassFixture<PostgresServer>;

[ThroughFront]
public sealed class PostgresRedisBlocksAndMutesTests(PostgresRedisServer f) : BlocksAndMutesTests(f), IClassFixture<PostgresRedisServer>;
