using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Posts;

/// <summary>
/// Boosts over real HTTP (docs.joinmastodon.org/methods/statuses/#boost, #unreblog, #reblogged_by), on SQLite and
/// PostgreSQL: the boost's shape, counts and flags, who may boost what, home timelines with one entry per original,
/// profile pages, notifications, and the filters of blocks and mutes that come with them.
/// </summary>
public abstract class BoostsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    private Task<string> PostAsync(Mastodon.User user, string text = "worth sharing", string visibility = "public") => Client.PostAsync(user, text, visibility);

    private async Task<JsonElement> SendOkAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var r = await Client.SendAsync(method, path, token, body is null ? null : JsonContent.Create(body));
        return await Mastodon.Ok(r);
    }

    private Task<JsonElement> ReblogAsync(Mastodon.User who, string id, string? visibility = null) =>
        SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{id}/reblog", who.Token, visibility is null ? null : new { visibility });

    private Task<JsonElement> UnreblogAsync(Mastodon.User who, string id) => SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{id}/unreblog", who.Token);

    private Task<JsonElement> FollowAsync(Mastodon.User who, Mastodon.User whom) => SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{whom.Id}/follow", who.Token);

    /// <summary>Every job of what the test did so far has run (fan-out, notifications) and every like is folded.</summary>
    private async Task SettledAsync()
    {
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        await Eventually.WaitAsync(() => db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM favourites WHERE folded = 0")), n => n == 0,
            TimeSpan.FromSeconds(30), "the write-behind to fold the likes");
        var queue = fixture.Server.Services.GetRequiredService<IJobQueue>();
        await Eventually.WaitAsync(() => queue.CountAsync(), c => c.Ready == 0 && c.Running == 0, TimeSpan.FromSeconds(30), "the job queue to drain");
    }

    private async Task<JsonElement> HomeAsync(Mastodon.User reader)
    {
        await SettledAsync();
        return await Client.GetAsync("api/v1/timelines/home?limit=40", reader.Token);
    }

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    /// <summary>What each entry shows: the original's id for a boost, else the post's own.</summary>
    private static List<string> Shown(JsonElement array) =>
        array.EnumerateArray().Select(s => s.GetProperty("reblog").ValueKind == JsonValueKind.Object ? s.GetProperty("reblog").GetProperty("id").GetString()! : s.GetProperty("id").GetString()!).ToList();

    private Task<long> StoredCountAsync(string id)
    {
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        return db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT reblogs_count FROM statuses WHERE id = @id", new { id = long.Parse(id, CultureInfo.InvariantCulture) }));
    }

    [Fact]
    public async Task A_boost_is_a_status_of_the_booster_holding_the_original_and_boosting_again_returns_it()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var id = await PostAsync(author, "boost me");

        var boost = await ReblogAsync(booster, id);
        var boostId = boost.GetProperty("id").GetString()!;
        Assert.NotEqual(id, boostId);
        Assert.Equal(booster.Id, boost.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal("", boost.GetProperty("content").GetString());
        Assert.Equal("public", boost.GetProperty("visibility").GetString());
        var original = boost.GetProperty("reblog");
        Assert.Equal(id, original.GetProperty("id").GetString());
        Assert.Equal(author.Id, original.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal("<p>boost me</p>", original.GetProperty("content").GetString());
        Assert.True(original.GetProperty("reblogged").GetBoolean());
        Assert.Equal(1, original.GetProperty("reblogs_count").GetInt64());
        Assert.Equal(JsonValueKind.Null, original.GetProperty("reblog").ValueKind);

        // Again, and through the boost itself: the same boost, counted once.
        Assert.Equal(boostId, (await ReblogAsync(booster, id)).GetProperty("id").GetString());
        Assert.Equal(boostId, (await ReblogAsync(booster, boostId)).GetProperty("id").GetString());
        Assert.Equal(1, await StoredCountAsync(id));

        var seenByBooster = await Client.GetAsync($"api/v1/statuses/{id}", booster.Token);
        Assert.True(seenByBooster.GetProperty("reblogged").GetBoolean());
        Assert.Equal(1, seenByBooster.GetProperty("reblogs_count").GetInt64());
        Assert.False((await Client.GetAsync($"api/v1/statuses/{id}", other.Token)).GetProperty("reblogged").GetBoolean());
        var anonymous = await Client.GetAsync($"api/v1/statuses/{boostId}");
        Assert.False(anonymous.TryGetProperty("reblogged", out _));
        Assert.Equal(id, anonymous.GetProperty("reblog").GetProperty("id").GetString());

        // The original's reader-dependent flags inside a boost are the viewer's.
        await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{id}/favourite", other.Token);
        await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{id}/bookmark", other.Token);
        var viaBoost = (await Client.GetAsync($"api/v1/statuses/{boostId}", other.Token)).GetProperty("reblog");
        Assert.True(viaBoost.GetProperty("favourited").GetBoolean());
        Assert.True(viaBoost.GetProperty("bookmarked").GetBoolean());
        Assert.False(viaBoost.GetProperty("reblogged").GetBoolean());

        var undone = await UnreblogAsync(booster, id);
        Assert.Equal(id, undone.GetProperty("id").GetString());
        Assert.False(undone.GetProperty("reblogged").GetBoolean());
        Assert.Equal(0, undone.GetProperty("reblogs_count").GetInt64());
        Assert.False((await UnreblogAsync(booster, id)).GetProperty("reblogged").GetBoolean());
        Assert.Equal(0, await StoredCountAsync(id));
        using (var gone = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{boostId}", booster.Token))
            await Mastodon.ErrorAsync(gone, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Who_may_boost_what_follows_Mastodon()
    {
        var author = await Client.SignUpAsync();
        var follower = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        await FollowAsync(follower, author);
        var secret = await PostAsync(author, "followers only", "private");
        var open = await PostAsync(author, "for all");

        // Someone else's private post: hidden from a stranger (404), not boostable by a follower (403).
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/reblog", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/reblog", follower.Token))
            Assert.Equal("This action is not allowed", await Mastodon.ErrorAsync(r, HttpStatusCode.Forbidden));
        // The author may boost their own private post: the boost stays private, whatever was asked.
        var own = await ReblogAsync(author, secret, "public");
        Assert.Equal("private", own.GetProperty("visibility").GetString());
        Assert.Equal(secret, own.GetProperty("reblog").GetProperty("id").GetString());

        Assert.Equal("unlisted", (await ReblogAsync(follower, open, "unlisted")).GetProperty("visibility").GetString());
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{open}/reblog", stranger.Token, JsonContent.Create(new { visibility = "direct" })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.UnprocessableEntity);
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses/12345/reblog", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{open}/unreblog", stranger.Token))
            Assert.False((await Mastodon.Ok(r)).GetProperty("reblogged").GetBoolean());
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/unreblog", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{open}/reblog"))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);

        // A boost is neither pinned nor edited.
        var boostOfOpen = (await ReblogAsync(follower, open)).GetProperty("id").GetString()!;
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{boostOfOpen}/pin", follower.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.UnprocessableEntity);
        using (var r = await Client.SendAsync(HttpMethod.Put, $"api/v1/statuses/{boostOfOpen}", follower.Token, JsonContent.Create(new { status = "rewritten" })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.UnprocessableEntity);

        // A private boost reaches the booster's followers only.
        var privateBoost = (await ReblogAsync(stranger, open, "private")).GetProperty("id").GetString()!;
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{privateBoost}", follower.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        Assert.Equal(privateBoost, (await Client.GetAsync($"api/v1/statuses/{privateBoost}", stranger.Token)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Reblogged_by_lists_the_boosters_newest_first_with_link_paging()
    {
        var author = await Client.SignUpAsync();
        var id = await PostAsync(author);
        var boosters = new List<Mastodon.User>();
        for (var i = 0; i < 3; i++)
        {
            var b = await Client.SignUpAsync();
            await ReblogAsync(b, id);
            boosters.Add(b);
        }
        var hidden = await Client.SignUpAsync();
        await ReblogAsync(hidden, id, "private"); // Mastodon lists public and unlisted boosts only

        using var first = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{id}/reblogged_by?limit=2");
        var page = await Mastodon.Ok(first);
        Assert.Equal([boosters[2].Id, boosters[1].Id], Ids(page));
        var link = first.Headers.GetValues("Link").Single();
        var next = System.Text.RegularExpressions.Regex.Match(link, "<([^>]+)>; rel=\"next\"").Groups[1].Value;
        Assert.Equal([boosters[0].Id], Ids(await Client.GetAsync(new Uri(next).PathAndQuery.TrimStart('/'))));
        Assert.Equal(4, (await Client.GetAsync($"api/v1/statuses/{id}")).GetProperty("reblogs_count").GetInt64());

        var secret = await PostAsync(author, "mine", "private");
        using var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/reblogged_by", boosters[0].Token);
        await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_home_timeline_shows_each_original_once()
    {
        var author = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var b1 = await Client.SignUpAsync();
        var b2 = await Client.SignUpAsync();
        var b3 = await Client.SignUpAsync();
        foreach (var b in new[] { b1, b2, b3 })
            await FollowAsync(reader, b);
        var id = await PostAsync(author, "popular");
        var first = (await ReblogAsync(b1, id)).GetProperty("id").GetString()!;
        var second = (await ReblogAsync(b2, id)).GetProperty("id").GetString()!;
        await ReblogAsync(b3, id);
        var own = await PostAsync(b2, "b2's own");

        var home = await HomeAsync(reader);
        Assert.Equal([own, first], Ids(home));
        Assert.Equal(id, home[1].GetProperty("reblog").GetProperty("id").GetString());
        Assert.Equal(b1.Id, home[1].GetProperty("account").GetProperty("id").GetString());

        // The first boost taken back: the next one stands for the original.
        await UnreblogAsync(b1, id);
        Assert.Equal([own, second], Ids(await HomeAsync(reader)));

        // A reader with the original in their home (its author followed, or their own post) sees no boost of it.
        await FollowAsync(reader, author);
        Assert.Equal([own, id], Shown(await HomeAsync(reader)));
        Assert.Equal(id, Ids(await HomeAsync(reader))[1]);
        var mine = await PostAsync(reader, "my own");
        await ReblogAsync(b3, mine);
        Assert.Equal([mine, own, id], Ids(await HomeAsync(reader)));

        // The booster's own home has their boost (their own timeline), and the boost's followers get it pushed.
        var boosterHome = await HomeAsync(b3);
        Assert.Contains(id, Shown(boosterHome));

        // Deleting the original takes its boosts along: out of homes and the boosters' pages.
        using (var d = await Client.SendAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token))
            await Mastodon.Ok(d);
        var unfollowed = await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/unfollow", reader.Token);
        Assert.False(unfollowed.GetProperty("following").GetBoolean());
        Assert.DoesNotContain(id, Shown(await HomeAsync(reader)));
        Assert.DoesNotContain(id, Shown(await Client.GetAsync($"api/v1/accounts/{b2.Id}/statuses", reader.Token)));
        Assert.DoesNotContain(id, Shown(await Client.GetAsync($"api/v1/accounts/{b2.Id}/statuses", b2.Token)));
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        Assert.Equal(0, await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM statuses WHERE reblog_of_id = @id", new { id = long.Parse(id, CultureInfo.InvariantCulture) })));
        // Their statuses_count went back down with them.
        Assert.Equal(1, (await Client.GetAsync($"api/v1/accounts/{b2.Id}")).GetProperty("statuses_count").GetInt64());
    }

    [Fact]
    public async Task Profile_pages_show_boosts_unless_exclude_reblogs_and_public_timelines_never()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var id = await PostAsync(author, "shared");
        var own = await PostAsync(booster, "own words");
        var boost = (await ReblogAsync(booster, id)).GetProperty("id").GetString()!;

        foreach (var viewer in new[] { reader, booster })
        {
            var page = await Client.GetAsync($"api/v1/accounts/{booster.Id}/statuses", viewer.Token);
            Assert.Equal([boost, own], Ids(page));
            Assert.Equal(id, page[0].GetProperty("reblog").GetProperty("id").GetString());
            Assert.Equal([own], Ids(await Client.GetAsync($"api/v1/accounts/{booster.Id}/statuses?exclude_reblogs=true", viewer.Token)));
        }
        Assert.Equal([boost, own], Ids(await Client.GetAsync($"api/v1/accounts/{booster.Id}/statuses")));

        var local = Ids(await Client.GetAsync("api/v1/timelines/public?limit=40"));
        Assert.Contains(id, local);
        Assert.DoesNotContain(boost, local);
    }

    [Fact]
    public async Task Concurrent_boosts_and_unboosts_leave_counts_equal_to_the_boosts()
    {
        var author = await Client.SignUpAsync();
        var id = await PostAsync(author, "contended");
        var accounts = new List<Mastodon.User>();
        for (var i = 0; i < 24; i++)
            accounts.Add(await Client.SignUpAsync());

        // Each account boosts and unboosts several times at once; even-numbered ones end boosted.
        await Parallel.ForEachAsync(accounts.Select((a, i) => (a, i)), new ParallelOptions { MaxDegreeOfParallelism = 12 }, async (x, _) =>
        {
            var rounds = new List<Task>();
            for (var k = 0; k < 3; k++)
            {
                rounds.Add(SendAsync(x.a, "reblog"));
                rounds.Add(SendAsync(x.a, "unreblog"));
            }
            await Task.WhenAll(rounds);
            await SendAsync(x.a, x.i % 2 == 0 ? "reblog" : "unreblog");
        });

        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        var rows = await db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM statuses WHERE reblog_of_id = @id", new { id = long.Parse(id, CultureInfo.InvariantCulture) }));
        Assert.Equal(12, rows);
        Assert.Equal(12, await StoredCountAsync(id));
        Assert.Equal(12, (await Client.GetAsync($"api/v1/statuses/{id}", author.Token)).GetProperty("reblogs_count").GetInt64());
        for (var i = 0; i < accounts.Count; i++)
            Assert.Equal(i % 2 == 0, (await Client.GetAsync($"api/v1/statuses/{id}", accounts[i].Token)).GetProperty("reblogged").GetBoolean());
        Assert.Equal(12, (await Client.GetAsync($"api/v1/statuses/{id}/reblogged_by?limit=80")).GetArrayLength());

        async Task SendAsync(Mastodon.User who, string action)
        {
            using var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/{action}", who.Token);
            await Mastodon.Ok(r);
        }
    }

    [Fact]
    public async Task A_boost_notifies_the_author_once_and_unboosting_takes_it_back()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var id = await PostAsync(author, "tell me");
        await ReblogAsync(booster, id);
        await ReblogAsync(author, id); // one's own boost tells nobody
        await SettledAsync();

        var list = await Client.GetAsync("api/v1/notifications", author.Token);
        var n = Assert.Single(list.EnumerateArray());
        Assert.Equal("reblog", n.GetProperty("type").GetString());
        Assert.Equal(booster.Id, n.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal(id, n.GetProperty("status").GetProperty("id").GetString());
        Assert.StartsWith($"reblog-{id}-", n.GetProperty("group_key").GetString());
        var grouped = await Client.GetAsync("api/v2/notifications", author.Token);
        Assert.Equal("reblog", Assert.Single(grouped.GetProperty("notification_groups").EnumerateArray()).GetProperty("type").GetString());

        await UnreblogAsync(booster, id);
        await SettledAsync();
        Assert.Equal(0, (await Client.GetAsync("api/v1/notifications", author.Token)).GetArrayLength());

        // Boosted and taken back before the job ran: the job finds no boost and tells nobody.
        await ReblogAsync(booster, id);
        await UnreblogAsync(booster, id);
        await SettledAsync();
        Assert.Equal(0, (await Client.GetAsync("api/v1/notifications", author.Token)).GetArrayLength());
    }

    [Fact]
    public async Task Notifications_from_muted_accounts_are_hidden_unless_the_mute_leaves_them()
    {
        var author = await Client.SignUpAsync();
        var loud = await Client.SignUpAsync();
        var quiet = await Client.SignUpAsync();
        var id = await PostAsync(author, "notice me");
        await ReblogAsync(loud, id);
        await ReblogAsync(quiet, id);
        await SettledAsync();
        Assert.Equal(2, (await Client.GetAsync("api/v1/notifications", author.Token)).GetArrayLength());

        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{quiet.Id}/mute", author.Token);
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{loud.Id}/mute", author.Token, new { notifications = false });
        var list = await Client.GetAsync("api/v1/notifications", author.Token);
        Assert.Equal([loud.Id], list.EnumerateArray().Select(x => x.GetProperty("account").GetProperty("id").GetString()!).ToList());
        var samples = Assert.Single((await Client.GetAsync("api/v2/notifications", author.Token)).GetProperty("notification_groups").EnumerateArray())
            .GetProperty("sample_account_ids").EnumerateArray().Select(x => x.GetString()).ToList();
        Assert.Equal([loud.Id], samples);

        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{quiet.Id}/unmute", author.Token);
        Assert.Equal(2, (await Client.GetAsync("api/v1/notifications", author.Token)).GetArrayLength());
    }

    [Fact]
    public async Task A_blocked_viewer_sees_none_of_the_blockers_posts_nor_boosts_of_them()
    {
        var blocker = await Client.SignUpAsync();
        var viewer = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        await FollowAsync(viewer, booster);
        var id = await PostAsync(blocker, "not for you");
        var boost = (await ReblogAsync(booster, id)).GetProperty("id").GetString()!;
        Assert.Contains(boost, Ids(await HomeAsync(viewer)));

        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{viewer.Id}/block", blocker.Token);
        Assert.Equal(0, (await Client.GetAsync($"api/v1/accounts/{blocker.Id}/statuses", viewer.Token)).GetArrayLength());
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{id}", viewer.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/statuses/{boost}", viewer.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{id}/reblog", viewer.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        // The booster is fine, the original's author blocks the viewer: the boost is left out of their home and booster's page.
        Assert.DoesNotContain(boost, Ids(await HomeAsync(viewer)));
        Assert.DoesNotContain(boost, Ids(await Client.GetAsync($"api/v1/accounts/{booster.Id}/statuses", viewer.Token)));
        // Others still see all of it.
        Assert.Single((await Client.GetAsync($"api/v1/accounts/{blocker.Id}/statuses", booster.Token)).EnumerateArray());

        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{viewer.Id}/unblock", blocker.Token);
        Assert.Single((await Client.GetAsync($"api/v1/accounts/{blocker.Id}/statuses", viewer.Token)).EnumerateArray());
        Assert.Contains(boost, Ids(await HomeAsync(viewer)));
    }

    [Fact]
    public async Task A_viewer_who_mutes_the_original_author_gets_no_boost_of_them_in_home()
    {
        var author = await Client.SignUpAsync();
        var viewer = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        await FollowAsync(viewer, booster);
        var id = await PostAsync(author, "muted voice");
        var boost = (await ReblogAsync(booster, id)).GetProperty("id").GetString()!;
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/mute", viewer.Token);
        Assert.DoesNotContain(boost, Ids(await HomeAsync(viewer)));
    }

    [Fact]
    public async Task Following_with_reblogs_false_hides_the_accounts_boosts_from_home_but_not_its_posts_and_the_choice_can_change()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var viewer = await Client.SignUpAsync();
        var followed = await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{booster.Id}/follow", viewer.Token, new { reblogs = false });
        Assert.False(followed.GetProperty("showing_reblogs").GetBoolean());
        var original = await PostAsync(author, "shared by the booster");
        var boost = (await ReblogAsync(booster, original)).GetProperty("id").GetString()!;
        var own = await PostAsync(booster, "the booster's own words");

        var home = Ids(await HomeAsync(viewer));
        Assert.Contains(own, home);
        Assert.DoesNotContain(boost, home);
        // The booster's page still lists the boost: only the home timeline leaves it out.
        Assert.Contains(boost, Ids(await Client.GetAsync($"api/v1/accounts/{booster.Id}/statuses", viewer.Token)));

        // Following again with reblogs=true shows the boost already pushed; false hides it again, at once.
        Assert.True((await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{booster.Id}/follow", viewer.Token, new { reblogs = true })).GetProperty("showing_reblogs").GetBoolean());
        Assert.Contains(boost, Ids(await HomeAsync(viewer)));
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{booster.Id}/follow", viewer.Token, new { reblogs = false });
        home = Ids(await HomeAsync(viewer));
        Assert.DoesNotContain(boost, home);
        Assert.Contains(own, home);

        // An unfollow and a plain follow (reblogs defaults to true) show boosts again.
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{booster.Id}/unfollow", viewer.Token);
        await FollowAsync(viewer, booster);
        var later = (await ReblogAsync(booster, await PostAsync(author, "shared after the new follow"))).GetProperty("id").GetString()!;
        Assert.Contains(later, Ids(await HomeAsync(viewer)));
    }

    [Fact]
    public async Task Liking_or_bookmarking_a_boost_acts_on_the_post_it_shares()
    {
        var author = await Client.SignUpAsync();
        var booster = await Client.SignUpAsync();
        var reader = await Client.SignUpAsync();
        var id = await PostAsync(author, "like me through a boost");
        var boostId = (await ReblogAsync(booster, id)).GetProperty("id").GetString()!;

        var liked = await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{boostId}/favourite", reader.Token);
        Assert.Equal(boostId, liked.GetProperty("id").GetString());
        Assert.True(liked.GetProperty("reblog").GetProperty("favourited").GetBoolean());
        Assert.Equal(1, liked.GetProperty("reblog").GetProperty("favourites_count").GetInt32());
        var original = await Client.GetAsync($"api/v1/statuses/{id}", reader.Token);
        Assert.True(original.GetProperty("favourited").GetBoolean());
        Assert.Equal(1, original.GetProperty("favourites_count").GetInt32());
        Assert.Equal([reader.Id], (await Client.GetAsync($"api/v1/statuses/{id}/favourited_by", reader.Token)).EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        Assert.Equal(0, (await Client.GetAsync($"api/v1/statuses/{boostId}/favourited_by", reader.Token)).GetArrayLength());

        var marked = await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{boostId}/bookmark", reader.Token);
        Assert.True(marked.GetProperty("reblog").GetProperty("bookmarked").GetBoolean());
        Assert.Equal([id], Ids(await Client.GetAsync("api/v1/bookmarks", reader.Token)));

        await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{boostId}/unfavourite", reader.Token);
        await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{boostId}/unbookmark", reader.Token);
        original = await Client.GetAsync($"api/v1/statuses/{id}", reader.Token);
        Assert.False(original.GetProperty("favourited").GetBoolean());
        Assert.False(original.GetProperty("bookmarked").GetBoolean());
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", reader.Token)).GetArrayLength());
    }

    [Fact]
    public async Task Account_notes_are_kept_per_viewer_and_shown_in_the_relationship()
    {
        var me = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var them = await Client.SignUpAsync();

        var set = await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{them.Id}/note", me.Token, new { comment = "met at the café" });
        Assert.Equal(them.Id, set.GetProperty("id").GetString());
        Assert.Equal("met at the café", set.GetProperty("note").GetString());
        Assert.Equal("met at the café", (await Client.GetAsync($"api/v1/accounts/relationships?id[]={them.Id}", me.Token))[0].GetProperty("note").GetString());
        Assert.Equal("", (await Client.GetAsync($"api/v1/accounts/relationships?id[]={them.Id}", other.Token))[0].GetProperty("note").GetString());

        Assert.Equal("changed", (await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{them.Id}/note", me.Token, new { comment = "changed" })).GetProperty("note").GetString());
        Assert.Equal("", (await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{them.Id}/note", me.Token, new { comment = "" })).GetProperty("note").GetString());
        Assert.Equal("", (await Client.GetAsync($"api/v1/accounts/relationships?id[]={them.Id}", me.Token))[0].GetProperty("note").GetString());

        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{them.Id}/note", me.Token, JsonContent.Create(new { comment = new string('x', 2001) })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.UnprocessableEntity);
        using (var r = await Client.SendAsync(HttpMethod.Post, "api/v1/accounts/424242/note", me.Token, JsonContent.Create(new { comment = "who?" })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/accounts/{them.Id}/note", null, JsonContent.Create(new { comment = "anon" })))
            await Mastodon.ErrorAsync(r, HttpStatusCode.Unauthorized);
    }
}

public sealed class SqliteBoostsTests(SqliteServer f) : BoostsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresBoostsTests(PostgresServer f) : BoostsTests(f), IClassFixture<PostgresServer>;
