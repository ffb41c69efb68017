using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Tests.Infrastructure;

namespace Lenta.Tests.Notifications;

/// <summary>Grouped notifications (docs.joinmastodon.org/methods/grouped_notifications), unread counts and markers.</summary>
public abstract partial class NotificationsTests
{
    /// <summary>The keys of a NotificationGroup in a page, as in Mastodon's documented example (status_id only for types about a status).</summary>
    private static readonly string[] GroupKeys =
        ["group_key", "latest_page_notification_at", "most_recent_notification_id", "notifications_count", "page_max_id", "page_min_id", "sample_account_ids", "type"];

    private static JsonElement Group(JsonElement body, string prefix) =>
        body.GetProperty("notification_groups").EnumerateArray().Single(g => g.GetProperty("group_key").GetString()!.StartsWith(prefix, StringComparison.Ordinal));

    private static List<string?> Ids(JsonElement array) => array.EnumerateArray().Select(a => a.GetProperty("id").GetString()).ToList();

    /// <summary>Three likes of one post, two follows and a mention, one after the other.</summary>
    private async Task<(Mastodon.User Me, string Post, List<Mastodon.User> Fans, Mastodon.User Follower, Mastodon.User Mentioner, string Mention)> GroupedSceneAsync()
    {
        var me = await Client.SignUpAsync();
        var post = await PostAsync(me, "grouped");
        var fans = new List<Mastodon.User>();
        for (var i = 0; i < 3; i++)
        {
            var fan = await Client.SignUpAsync();
            fans.Add(fan);
            if (i < 2)
                await FollowAsync(fan, me);
            await SettledAsync();
            await LikeAsync(fan, post);
            await SettledAsync();
        }
        var mentioner = await Client.SignUpAsync();
        var mention = await PostAsync(mentioner, $"@{me.Username} look");
        await SettledAsync();
        return (me, post, fans, fans[1], mentioner, mention);
    }

    [Fact]
    public async Task Grouped_notifications_have_Mastodons_shape_keys_and_samples()
    {
        var (me, post, fans, _, mentioner, mention) = await GroupedSceneAsync();
        using var response = await Client.SendAsync(HttpMethod.Get, "api/v2/notifications", me.Token);
        var body = await Mastodon.Ok(response);
        Assert.Equal(["accounts", "notification_groups", "statuses"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var groups = body.GetProperty("notification_groups");
        Assert.Equal(["mention", "favourite", "follow"], groups.EnumerateArray().Select(g => g.GetProperty("type").GetString()));

        var likes = Group(body, "favourite-");
        Assert.Equal(GroupKeys.Append("status_id").Order(StringComparer.Ordinal), likes.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var v1 = await Client.GetAsync("api/v1/notifications?types[]=favourite", me.Token);
        Assert.Equal(v1[0].GetProperty("group_key").GetString(), likes.GetProperty("group_key").GetString());
        Assert.Matches($"^favourite-{post}-[0-9]+$", likes.GetProperty("group_key").GetString());
        Assert.Equal(3, likes.GetProperty("notifications_count").GetInt32());
        Assert.Equal(JsonValueKind.Number, likes.GetProperty("most_recent_notification_id").ValueKind); // Ice Cubes decodes a number
        Assert.Equal(v1[0].GetProperty("id").GetString(), likes.GetProperty("most_recent_notification_id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(v1[0].GetProperty("id").GetString(), likes.GetProperty("page_max_id").GetString());
        Assert.Equal(v1[2].GetProperty("id").GetString(), likes.GetProperty("page_min_id").GetString());
        Assert.Equal(v1[0].GetProperty("created_at").GetString(), likes.GetProperty("latest_page_notification_at").GetString());
        Assert.Equal(fans.Select(f => f.Id).Reverse(), likes.GetProperty("sample_account_ids").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(post, likes.GetProperty("status_id").GetString());

        var follows = Group(body, "follow-");
        Assert.Equal(GroupKeys, follows.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Matches("^follow--[0-9]+$", follows.GetProperty("group_key").GetString());
        Assert.Equal(2, follows.GetProperty("notifications_count").GetInt32());
        Assert.Equal([fans[1].Id, fans[0].Id], follows.GetProperty("sample_account_ids").EnumerateArray().Select(a => a.GetString()));

        var mentioned = Group(body, "ungrouped-");
        Assert.Equal(1, mentioned.GetProperty("notifications_count").GetInt32());
        Assert.Equal("ungrouped-" + mentioned.GetProperty("most_recent_notification_id").GetInt64(), mentioned.GetProperty("group_key").GetString());
        Assert.Equal(mention, mentioned.GetProperty("status_id").GetString());
        Assert.Equal([mentioner.Id], mentioned.GetProperty("sample_account_ids").EnumerateArray().Select(a => a.GetString()));

        // Accounts and statuses once each, top level.
        var accounts = Ids(body.GetProperty("accounts"));
        Assert.Equal(accounts.Distinct().Count(), accounts.Count);
        Assert.Equal(fans.Select(f => f.Id).Append(mentioner.Id).Order(StringComparer.Ordinal), accounts.Order(StringComparer.Ordinal));
        Assert.Equal([mention, post], Ids(body.GetProperty("statuses")));

        // grouped_types[] leaves favourites out of grouping: each is its own ungrouped group.
        var onlyFollows = await Client.GetAsync("api/v2/notifications?grouped_types[]=follow", me.Token);
        Assert.Equal(["mention", "favourite", "favourite", "follow", "favourite"], onlyFollows.GetProperty("notification_groups").EnumerateArray().Select(g => g.GetProperty("type").GetString()));

        // partial_avatars: the newest account of each group in full, the others partial.
        var partial = await Client.GetAsync("api/v2/notifications?expand_accounts=partial_avatars", me.Token);
        Assert.Equal([mentioner.Id, fans[2].Id, fans[1].Id], Ids(partial.GetProperty("accounts")));
        Assert.Equal([fans[0].Id], Ids(partial.GetProperty("partial_accounts")));
        Assert.Equal(["acct", "avatar", "avatar_static", "bot", "id", "locked", "url"],
            partial.GetProperty("partial_accounts")[0].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        // Filters apply to v2 as to v1.
        var typed = await Client.GetAsync("api/v2/notifications?types[]=follow", me.Token);
        Assert.Equal(["follow"], typed.GetProperty("notification_groups").EnumerateArray().Select(g => g.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task Grouped_pages_cover_every_notification_once_and_stop()
    {
        var (me, _, _, _, _, _) = await GroupedSceneAsync();
        var v1 = (await Client.GetAsync("api/v1/notifications", me.Token)).EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();
        Assert.Equal(6, v1.Count);
        var seen = new List<string>();
        var url = "api/v2/notifications?limit=1";
        var pages = 0;
        while (true)
        {
            using var response = await Client.SendAsync(HttpMethod.Get, url, me.Token);
            var body = await Mastodon.Ok(response);
            var groups = body.GetProperty("notification_groups");
            if (groups.GetArrayLength() == 0)
            {
                Assert.False(response.Headers.Contains("Link")); // an empty page sends no prev (Tusky would loop)
                break;
            }
            Assert.Equal(1, groups.GetArrayLength());
            var g = groups[0];
            seen.Add(g.GetProperty("page_max_id").GetString()!);
            var links = string.Join(",", response.Headers.GetValues("Link"));
            Assert.Contains("rel=\"prev\"", links);
            var next = System.Text.RegularExpressions.Regex.Match(links, "<[^>]*/(api/v2/notifications\\?[^>]*)>; rel=\"next\"");
            Assert.True(next.Success, links);
            url = next.Groups[1].Value;
            Assert.True(++pages < 10, "paging never ends");
        }
        // Newest first the notifications are: mention, like, like, follow, like, follow. A page of one group ends where a
        // second group's first notification comes: [mention] [like like] [follow] [like] [follow].
        Assert.Equal(5, pages);
        Assert.Equal([v1[0], v1[1], v1[3], v1[4], v1[5]], seen);
    }

    [Fact]
    public async Task One_group_its_accounts_and_its_dismissal()
    {
        var (me, post, fans, _, _, _) = await GroupedSceneAsync();
        var body = await Client.GetAsync("api/v2/notifications", me.Token);
        var key = Group(body, "favourite-").GetProperty("group_key").GetString()!;

        var one = await Client.GetAsync($"api/v2/notifications/{key}", me.Token);
        var group = Assert.Single(one.GetProperty("notification_groups").EnumerateArray());
        Assert.Equal(key, group.GetProperty("group_key").GetString());
        Assert.Equal(3, group.GetProperty("notifications_count").GetInt32());
        Assert.Equal([post], Ids(one.GetProperty("statuses")));
        Assert.Equal(fans.Select(f => f.Id).Reverse(), Ids(await Client.GetAsync($"api/v2/notifications/{key}/accounts", me.Token)));

        var mentionKey = Group(body, "ungrouped-").GetProperty("group_key").GetString()!;
        Assert.Single((await Client.GetAsync($"api/v2/notifications/{mentionKey}", me.Token)).GetProperty("notification_groups").EnumerateArray());

        var stranger = await Client.SignUpAsync();
        using (var r = await Client.SendAsync(HttpMethod.Get, $"api/v2/notifications/{key}", stranger.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);
        using (var r = await Client.SendAsync(HttpMethod.Get, "api/v2/notifications/favourite-1-1/accounts", me.Token))
            await Mastodon.ErrorAsync(r, HttpStatusCode.NotFound);

        Assert.Equal("{}", (await SendOkAsync(HttpMethod.Post, $"api/v2/notifications/{key}/dismiss", me.Token)).GetRawText());
        Assert.Equal(["mention", "follow", "follow"], Types(await Client.GetAsync("api/v1/notifications", me.Token)));
        await SendOkAsync(HttpMethod.Post, $"api/v2/notifications/{mentionKey}/dismiss", me.Token);
        Assert.Equal(["follow", "follow"], Types(await Client.GetAsync("api/v1/notifications", me.Token)));
    }

    [Fact]
    public async Task Markers_are_saved_versioned_and_count_unread_notifications()
    {
        var (me, _, _, _, _, _) = await GroupedSceneAsync();
        var v1 = (await Client.GetAsync("api/v1/notifications", me.Token)).EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();
        Assert.Equal("{}", (await Client.GetAsync("api/v1/markers?timeline[]=home&timeline[]=notifications", me.Token)).GetRawText());
        Assert.Equal(6, (await Client.GetAsync("api/v1/notifications/unread_count", me.Token)).GetProperty("count").GetInt32());
        Assert.Equal(3, (await Client.GetAsync("api/v2/notifications/unread_count", me.Token)).GetProperty("count").GetInt32());
        Assert.Equal(2, (await Client.GetAsync("api/v1/notifications/unread_count?limit=2", me.Token)).GetProperty("count").GetInt32());

        // Form-encoded (Tusky) and JSON (masto.js) bodies alike.
        using (var form = await Client.SendAsync(HttpMethod.Post, "api/v1/markers", me.Token,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["notifications[last_read_id]"] = v1[2], ["home[last_read_id]"] = "12345" })))
        {
            var saved = await Mastodon.Ok(form);
            Assert.Equal(["home", "notifications"], saved.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(["last_read_id", "updated_at", "version"], saved.GetProperty("notifications").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(v1[2], saved.GetProperty("notifications").GetProperty("last_read_id").GetString());
            Assert.Equal(0, saved.GetProperty("notifications").GetProperty("version").GetInt32());
        }
        Assert.Equal(2, (await Client.GetAsync("api/v1/notifications/unread_count", me.Token)).GetProperty("count").GetInt32());
        Assert.Equal(2, (await Client.GetAsync("api/v2/notifications/unread_count", me.Token)).GetProperty("count").GetInt32());

        var again = await SendOkAsync(HttpMethod.Post, "api/v1/markers", me.Token, new { notifications = new { last_read_id = v1[0] } });
        Assert.Equal(["notifications"], again.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1, again.GetProperty("notifications").GetProperty("version").GetInt32());
        Assert.Equal(0, (await Client.GetAsync("api/v1/notifications/unread_count", me.Token)).GetProperty("count").GetInt32());

        var both = await Client.GetAsync("api/v1/markers?timeline[]=home&timeline[]=notifications", me.Token);
        Assert.Equal("12345", both.GetProperty("home").GetProperty("last_read_id").GetString());
        Assert.Equal(0, both.GetProperty("home").GetProperty("version").GetInt32());
        Assert.Equal(v1[0], both.GetProperty("notifications").GetProperty("last_read_id").GetString());
        Assert.Equal(1, both.GetProperty("notifications").GetProperty("version").GetInt32());
        Assert.True(DateTimeOffset.TryParse(both.GetProperty("notifications").GetProperty("updated_at").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(["home"], (await Client.GetAsync("api/v1/markers?timeline[]=home", me.Token)).EnumerateObject().Select(p => p.Name));

        using var blank = await Client.SendAsync(HttpMethod.Post, "api/v1/markers", me.Token, JsonContent.Create(new { home = new { last_read_id = "" } }));
        await Mastodon.ErrorAsync(blank, (HttpStatusCode)422);
    }
}
