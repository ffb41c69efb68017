using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Lenta.Server.Accounts.OAuth;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Notifications;

/// <summary>
/// Notifications over real HTTP, on SQLite and PostgreSQL: each type is written by its job after the cause commits and
/// taken back with the cause. Shapes follow docs.joinmastodon.org/entities/Notification and /methods/notifications.
/// </summary>
public abstract partial class NotificationsTests(ServerFixture fixture)
{
    private Mastodon Client => fixture.Client;

    /// <summary>The keys of a Notification in Mastodon's documented examples (status only for types about a status).</summary>
    private static readonly string[] NotificationKeys = ["account", "created_at", "group_key", "id", "type"];

    private Task<string> PostAsync(Mastodon.User user, string text = "hello", string visibility = "public", string? inReplyTo = null) =>
        Client.PostAsync(user, text, visibility, inReplyTo);

    private async Task<JsonElement> SendOkAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var r = await Client.SendAsync(method, path, token, body is null ? null : JsonContent.Create(body));
        return await Mastodon.Ok(r);
    }

    private Task<JsonElement> FollowAsync(Mastodon.User who, Mastodon.User whom, bool? notify = null) =>
        SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{whom.Id}/follow", who.Token, notify is null ? null : new { notify });

    private Task<JsonElement> LikeAsync(Mastodon.User who, string statusId, bool like = true) =>
        SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{statusId}/{(like ? "favourite" : "unfavourite")}", who.Token);

    private async Task<Mastodon.User> LockedAsync()
    {
        var user = await Client.SignUpAsync();
        await SendOkAsync(HttpMethod.Patch, "api/v1/accounts/update_credentials", user.Token, new { locked = true });
        return user;
    }

    /// <summary>
    /// Waits until every like is folded (the fold enqueues the likes' notification job in its transaction), then until no
    /// job is ready or running: every notification job of what the test did so far has run.
    /// </summary>
    private async Task SettledAsync()
    {
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        await Eventually.WaitAsync(() => db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM favourites WHERE folded = 0")), n => n == 0,
            TimeSpan.FromSeconds(30), "the write-behind to fold the likes");
        var queue = fixture.Server.Services.GetRequiredService<IJobQueue>();
        await Eventually.WaitAsync(() => queue.CountAsync(), c => c.Ready == 0 && c.Running == 0, TimeSpan.FromSeconds(30), "the job queue to drain");
    }

    /// <summary>The caller's notifications (v1) once every job has run.</summary>
    private async Task<JsonElement> NotificationsAsync(Mastodon.User user, string query = "")
    {
        await SettledAsync();
        return await Client.GetAsync("api/v1/notifications" + query, user.Token);
    }

    private static List<string> Types(JsonElement list) => list.EnumerateArray().Select(n => n.GetProperty("type").GetString()!).ToList();

    private static void AssertShape(JsonElement n, string type, Mastodon.User from, string? statusId)
    {
        var keys = n.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(statusId is null ? NotificationKeys : NotificationKeys.Append("status").Order(StringComparer.Ordinal), keys);
        Assert.Equal(type, n.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.String, n.GetProperty("id").ValueKind);
        Assert.True(DateTimeOffset.TryParse(n.GetProperty("created_at").GetString(), CultureInfo.InvariantCulture, out _));
        Assert.Equal(from.Id, n.GetProperty("account").GetProperty("id").GetString());
        Assert.Equal(from.Username, n.GetProperty("account").GetProperty("acct").GetString());
        if (statusId is not null)
            Assert.Equal(statusId, n.GetProperty("status").GetProperty("id").GetString());
    }

    private static long HourBucket(JsonElement n) =>
        DateTimeOffset.Parse(n.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeSeconds() / 3600;

    [Fact]
    public async Task A_follow_notifies_the_followed_once_and_an_unfollow_takes_it_back()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        await FollowAsync(bob, alice);
        await FollowAsync(bob, alice); // repeating updates options: no second notification

        var list = await NotificationsAsync(alice);
        var n = Assert.Single(list.EnumerateArray());
        AssertShape(n, "follow", bob, null);
        // Mastodon's key for follows: type, an empty status part, the hour bucket.
        Assert.Equal($"follow--{HourBucket(n)}", n.GetProperty("group_key").GetString());
        Assert.Equal(0, (await NotificationsAsync(bob)).GetArrayLength()); // the follower is told nothing

        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{alice.Id}/unfollow", bob.Token);
        Assert.Equal(0, (await NotificationsAsync(alice)).GetArrayLength());
    }

    [Fact]
    public async Task A_follow_request_notifies_and_goes_when_rejected_or_authorized()
    {
        var carol = await LockedAsync();
        var dave = await Client.SignUpAsync();
        var erin = await Client.SignUpAsync();
        await FollowAsync(dave, carol);
        await FollowAsync(erin, carol);

        var list = await NotificationsAsync(carol);
        Assert.Equal(["follow_request", "follow_request"], Types(list));
        // Each request's notice is written by a job of its own, and two jobs may run side by side: their order is not
        // the requests' (a notification is numbered when it is written, as Mastodon's are).
        var erins = Assert.Single(list.EnumerateArray(), n => n.GetProperty("account").GetProperty("id").GetString() == erin.Id);
        AssertShape(erins, "follow_request", erin, null);
        Assert.Equal("ungrouped-" + erins.GetProperty("id").GetString(), erins.GetProperty("group_key").GetString());

        await SendOkAsync(HttpMethod.Post, $"api/v1/follow_requests/{dave.Id}/reject", carol.Token);
        await SendOkAsync(HttpMethod.Post, $"api/v1/follow_requests/{erin.Id}/authorize", carol.Token);
        // Authorizing tells nobody of a follow (Mastodon's AuthorizeFollowService): both requests' notices are gone.
        Assert.Equal(0, (await NotificationsAsync(carol)).GetArrayLength());

        await FollowAsync(dave, carol);
        Assert.Equal(["follow_request"], Types(await NotificationsAsync(carol)));
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{carol.Id}/unfollow", dave.Token); // withdrawn
        Assert.Equal(0, (await NotificationsAsync(carol)).GetArrayLength());
    }

    [Fact]
    public async Task A_like_notifies_the_author_once_and_an_unlike_takes_it_back()
    {
        var author = await Client.SignUpAsync();
        var fan = await Client.SignUpAsync();
        var id = await PostAsync(author);
        await LikeAsync(fan, id);
        await LikeAsync(fan, id);
        await LikeAsync(author, id); // one's own like tells nobody

        var list = await NotificationsAsync(author);
        var n = Assert.Single(list.EnumerateArray());
        AssertShape(n, "favourite", fan, id);
        Assert.Equal($"favourite-{id}-{HourBucket(n)}", n.GetProperty("group_key").GetString());
        Assert.Equal(author.Id, n.GetProperty("status").GetProperty("account").GetProperty("id").GetString());

        await LikeAsync(fan, id, like: false);
        Assert.Equal(0, (await NotificationsAsync(author)).GetArrayLength());

        // Unliked right after liking (before the fold, or after it, racing the job): nothing stays.
        for (var i = 0; i < 5; i++)
        {
            await LikeAsync(fan, id);
            if (i % 2 == 1)
                await SettledAsync();
            await LikeAsync(fan, id, like: false);
        }
        Assert.Equal(0, (await NotificationsAsync(author)).GetArrayLength());

        // A like folded with many others: told once, with the like's own time.
        var crowd = new List<Mastodon.User>();
        for (var i = 0; i < 3; i++)
            crowd.Add(await Client.SignUpAsync());
        await Task.WhenAll(crowd.Select(c => LikeAsync(c, id)));
        var told = await NotificationsAsync(author);
        Assert.Equal(crowd.Select(c => c.Id).Order(StringComparer.Ordinal), told.EnumerateArray().Select(n => n.GetProperty("account").GetProperty("id").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_mention_notifies_the_mentioned_and_a_delete_takes_it_back()
    {
        var author = await Client.SignUpAsync();
        var named = await Client.SignUpAsync();
        var id = await PostAsync(author, $"hi @{named.Username} and @{author.Username}", "private");

        var n = Assert.Single((await NotificationsAsync(named)).EnumerateArray());
        AssertShape(n, "mention", author, id);
        Assert.StartsWith("ungrouped-", n.GetProperty("group_key").GetString());
        Assert.Equal(0, (await NotificationsAsync(author)).GetArrayLength()); // mentioning oneself tells nobody

        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token);
        Assert.Equal(0, (await NotificationsAsync(named)).GetArrayLength());
    }

    [Fact]
    public async Task A_posts_delete_takes_away_every_notification_about_it_likes_boosts_mentions_and_subscriptions()
    {
        var author = await Client.SignUpAsync();
        var named = await Client.SignUpAsync();
        var keen = await Client.SignUpAsync();
        var fans = new[] { await Client.SignUpAsync(), await Client.SignUpAsync() };
        await FollowAsync(keen, author, notify: true);
        var id = await PostAsync(author, $"hi @{named.Username}");
        var kept = await PostAsync(author, "another");
        foreach (var fan in fans)
        {
            await LikeAsync(fan, id);
            await LikeAsync(fan, kept);
        }
        await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{id}/reblog", fans[0].Token);
        await SettledAsync();

        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        Task<long> RowsAboutAsync(string status) =>
            db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM notifications WHERE status_id = @s", new { s = long.Parse(status, CultureInfo.InvariantCulture) }));
        Assert.Equal(5, await RowsAboutAsync(id)); // two likes, a boost, a mention, a subscription
        Assert.Equal(3, await RowsAboutAsync(kept)); // two likes, a subscription

        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token);
        Assert.Equal(0, await RowsAboutAsync(id));
        Assert.Equal(3, await RowsAboutAsync(kept));
        var left = await NotificationsAsync(author);
        Assert.Equal(["favourite", "favourite", "follow"], Types(left));
        Assert.All(left.EnumerateArray().Take(2), n => Assert.Equal(kept, n.GetProperty("status").GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Followers_who_asked_are_told_of_new_posts()
    {
        var author = await Client.SignUpAsync();
        var keen = await Client.SignUpAsync();
        var casual = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        var relationship = await FollowAsync(keen, author, notify: true);
        Assert.True(relationship.GetProperty("notifying").GetBoolean());
        Assert.False((await FollowAsync(casual, author)).GetProperty("notifying").GetBoolean());
        var rel = (await Client.GetAsync($"api/v1/accounts/relationships?id[]={author.Id}", keen.Token))[0];
        Assert.True(rel.GetProperty("notifying").GetBoolean());

        var id = await PostAsync(author, "news");
        var otherPost = await PostAsync(other, "someone else's");
        await PostAsync(author, "a reply to someone else", inReplyTo: otherPost); // replies to others are not announced
        var own = await PostAsync(author, "a thread", inReplyTo: id); // self-replies are

        var list = await NotificationsAsync(keen);
        Assert.Equal(["status", "status"], Types(list));
        // Each post's notices come from a job of its own; two jobs may run side by side, so not necessarily in the posts' order.
        var byPost = list.EnumerateArray().ToDictionary(n => n.GetProperty("status").GetProperty("id").GetString()!);
        AssertShape(byPost[own], "status", author, own);
        AssertShape(byPost[id], "status", author, id);
        Assert.Equal(0, (await NotificationsAsync(casual)).EnumerateArray().Count(n => n.GetProperty("type").GetString() == "status"));

        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{id}", author.Token);
        Assert.Equal([own], (await NotificationsAsync(keen)).EnumerateArray().Select(n => n.GetProperty("status").GetProperty("id").GetString()).ToList());

        // notify=false on a repeated follow stops them.
        await FollowAsync(keen, author, notify: false);
        await PostAsync(author, "quiet");
        Assert.Single((await NotificationsAsync(keen)).EnumerateArray());
    }

    [Fact]
    public async Task Pages_filters_and_links()
    {
        var me = await Client.SignUpAsync();
        var post = await PostAsync(me);
        var fans = new List<Mastodon.User>();
        for (var i = 0; i < 5; i++)
        {
            var fan = await Client.SignUpAsync();
            fans.Add(fan);
            await FollowAsync(fan, me);
            await SettledAsync(); // one after the other: ids in this order
            await LikeAsync(fan, post);
            await SettledAsync();
        }
        var all = await NotificationsAsync(me);
        Assert.Equal(10, all.GetArrayLength());
        var ids = all.EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();
        Assert.Equal(ids.OrderByDescending(long.Parse), ids);

        // Paging down by Link next, then back up by prev.
        using var first = await Client.SendAsync(HttpMethod.Get, "api/v1/notifications?limit=4", me.Token);
        var firstPage = await Mastodon.Ok(first);
        Assert.Equal(ids.Take(4), firstPage.EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        var links = string.Join(",", first.Headers.GetValues("Link"));
        Assert.Contains($"max_id={ids[3]}>; rel=\"next\"", links);
        Assert.Contains($"min_id={ids[0]}>; rel=\"prev\"", links);
        var second = await Client.GetAsync($"api/v1/notifications?limit=4&max_id={ids[3]}", me.Token);
        Assert.Equal(ids.Skip(4).Take(4), second.EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        var up = await Client.GetAsync($"api/v1/notifications?limit=2&min_id={ids[5]}", me.Token);
        Assert.Equal([ids[3], ids[4]], up.EnumerateArray().Select(n => n.GetProperty("id").GetString()));
        var since = await Client.GetAsync($"api/v1/notifications?limit=2&since_id={ids[5]}", me.Token);
        Assert.Equal([ids[0], ids[1]], since.EnumerateArray().Select(n => n.GetProperty("id").GetString()));

        // An empty page has no Link at all: Tusky follows prev until it is absent.
        using var empty = await Client.SendAsync(HttpMethod.Get, $"api/v1/notifications?min_id={ids[0]}", me.Token);
        Assert.Equal(0, (await Mastodon.Ok(empty)).GetArrayLength());
        Assert.False(empty.Headers.Contains("Link"));

        Assert.Equal(Enumerable.Repeat("follow", 5), Types(await Client.GetAsync("api/v1/notifications?types[]=follow", me.Token)));
        Assert.Equal(Enumerable.Repeat("favourite", 5), Types(await Client.GetAsync("api/v1/notifications?exclude_types[]=follow&exclude_types[]=mention", me.Token)));
        Assert.Equal(10, (await Client.GetAsync("api/v1/notifications?types[]=follow&types[]=favourite", me.Token)).GetArrayLength());
        var fromOne = await Client.GetAsync($"api/v1/notifications?account_id={fans[2].Id}", me.Token);
        Assert.Equal(["favourite", "follow"], Types(fromOne));
        Assert.All(fromOne.EnumerateArray(), n => Assert.Equal(fans[2].Id, n.GetProperty("account").GetProperty("id").GetString()));
        Assert.Equal(0, (await Client.GetAsync("api/v1/notifications?account_id=nope", me.Token)).GetArrayLength());
    }

    [Fact]
    public async Task One_notification_can_be_read_dismissed_and_all_cleared()
    {
        var me = await Client.SignUpAsync();
        var stranger = await Client.SignUpAsync();
        var post = await PostAsync(me);
        await FollowAsync(stranger, me);
        await LikeAsync(stranger, post);
        var list = await NotificationsAsync(me);
        var id = list[0].GetProperty("id").GetString()!;

        var one = await Client.GetAsync($"api/v1/notifications/{id}", me.Token);
        Assert.Equal(list[0].GetRawText(), one.GetRawText());
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/notifications/{id}", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound); // not theirs
        using (var r = await Client.SendAsync(HttpMethod.Post, $"api/v1/notifications/{id}/dismiss", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);

        Assert.Equal("{}", (await SendOkAsync(HttpMethod.Post, $"api/v1/notifications/{id}/dismiss", me.Token)).GetRawText());
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v1/notifications/{id}", me.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        Assert.Equal(1, (await NotificationsAsync(me)).GetArrayLength());

        Assert.Equal("{}", (await SendOkAsync(HttpMethod.Post, "api/v1/notifications/clear", me.Token)).GetRawText());
        Assert.Equal(0, (await NotificationsAsync(me)).GetArrayLength());
    }

    [Fact]
    public async Task Scopes_are_Mastodons()
    {
        var me = await Client.SignUpAsync();
        var tokens = fixture.Server.Services.GetRequiredService<AccessTokens>();
        var account = long.Parse(me.Id, CultureInfo.InvariantCulture);
        var reader = (await tokens.IssueAsync("scopes", account, ["read:notifications"])).Token;
        var writer = (await tokens.IssueAsync("scopes", account, ["write:notifications"])).Token;
        var statuses = (await tokens.IssueAsync("scopes", account, ["read:statuses", "write:statuses"])).Token;

        foreach (var path in new[] { "api/v1/notifications", "api/v1/notifications/unread_count", "api/v2/notifications", "api/v2/notifications/unread_count" })
        {
            using (var ok = await Client.SendAsync(HttpMethod.Get, path, reader))
                await Mastodon.Ok(ok);
            using var refused = await Client.SendAsync(HttpMethod.Get, path, writer);
            await Mastodon.ErrorAsync(refused, HttpStatusCode.Forbidden);
            using var anonymous = await Client.SendAsync(HttpMethod.Get, path);
            await Mastodon.ErrorAsync(anonymous, HttpStatusCode.Unauthorized);
        }
        using (var refused = await Client.SendAsync(HttpMethod.Post, "api/v1/notifications/clear", reader))
            await Mastodon.ErrorAsync(refused, HttpStatusCode.Forbidden);
        using (var ok = await Client.SendAsync(HttpMethod.Post, "api/v1/notifications/clear", writer))
            await Mastodon.Ok(ok);
        // Markers are read:statuses / write:statuses.
        using (var refused = await Client.SendAsync(HttpMethod.Get, "api/v1/markers?timeline[]=home", reader))
            await Mastodon.ErrorAsync(refused, HttpStatusCode.Forbidden);
        using (var ok = await Client.SendAsync(HttpMethod.Post, "api/v1/markers", statuses, JsonContent.Create(new { home = new { last_read_id = "1" } })))
            await Mastodon.Ok(ok);
    }
}

public sealed class SqliteNotificationsTests(SqliteServer f) : NotificationsTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresNotificationsTests(PostgresServer f) : NotificationsTests(f), IClassFixture<PostgresServer>;
