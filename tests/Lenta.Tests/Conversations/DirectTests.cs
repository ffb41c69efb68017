using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lenta.Server.Platform.Cache;
using Lenta.Server.Platform.Database;
using Lenta.Server.Platform.Jobs;
using Lenta.Tests.Infrastructure;
using Lenta.Tests.Streaming;

namespace Lenta.Tests.Conversations;

/// <summary>
/// Direct posts (docs.joinmastodon.org/entities/Status/#visibility) and conversations (docs.joinmastodon.org/methods/conversations)
/// over real HTTP and WebSockets: a direct post reaches its author and the accounts it mentions, and nobody else anywhere.
/// </summary>
public abstract class DirectTests(ServerFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private Mastodon Client => fixture.Client;

    private async Task<string> PostAsync(Mastodon.User user, string text, string visibility = "public", string? replyTo = null)
    {
        using var r = await Client.SendAsync(HttpMethod.Post, "api/v1/statuses", user.Token, JsonContent.Create(new { status = text, visibility, in_reply_to_id = replyTo }));
        var status = await Mastodon.Ok(r);
        Assert.Equal(visibility, status.GetProperty("visibility").GetString());
        return status.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement> SendOkAsync(HttpMethod method, string path, Mastodon.User user)
    {
        using var r = await Client.SendAsync(method, path, user.Token);
        return await Mastodon.Ok(r);
    }

    private async Task<HttpStatusCode> StatusOfAsync(HttpMethod method, string path, Mastodon.User? user, object? body = null)
    {
        using var r = await Client.SendAsync(method, path, user?.Token, body is null ? null : JsonContent.Create(body));
        return r.StatusCode;
    }

    /// <summary>Every job written so far (conversations, notifications) has run.</summary>
    private async Task SettledAsync()
    {
        var queue = fixture.Server.Services.GetRequiredService<IJobQueue>();
        await Eventually.WaitAsync(() => queue.CountAsync(), c => c.Ready == 0 && c.Running == 0, Wait, "the job queue to drain");
    }

    private async Task<JsonElement> ConversationsAsync(Mastodon.User user, string query = "")
    {
        await SettledAsync();
        return await Client.GetAsync("api/v1/conversations" + query, user.Token);
    }

    private Task<JsonElement> HomeWithAsync(Mastodon.User user, string id) =>
        Eventually.WaitAsync(() => Client.GetAsync("api/v1/timelines/home", user.Token), h => Ids(h).Contains(id), Wait, $"post {id} in the home feed");

    private static List<string> Ids(JsonElement array) => array.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();

    private static bool Mentions(JsonElement anything, string id) => anything.GetRawText().Contains($"\"{id}\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_direct_post_is_never_visible_to_a_third_account()
    {
        var author = await Client.SignUpAsync();
        var mentioned = await Client.SignUpAsync();
        var third = await Client.SignUpAsync();
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/follow", third); // a follower: the closest a third account gets
        var tag = "t" + Guid.NewGuid().ToString("N")[..10];
        var root = await PostAsync(author, $"a public thread #{tag}");
        await using var thirdStream = await StreamClient.ConnectAsync(fixture.Server.Address, $"access_token={third.Token}&stream=user");
        foreach (var stream in new object[] { new { type = "subscribe", stream = "public" }, new { type = "subscribe", stream = "public:local" },
                     new { type = "subscribe", stream = "hashtag", tag }, new { type = "subscribe", stream = "direct" }, new { type = "subscribe", stream = "user:notification" } })
            await thirdStream.SendAsync(stream);
        await Task.Delay(200); // the subscriptions are applied in order before the posts below

        var secret = await PostAsync(author, $"@{mentioned.Username} a secret about #{tag}", "direct", replyTo: root);
        using (var like = await Client.SendAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/favourite", mentioned.Token))
            await Mastodon.Ok(like);
        // A public post after it: once it has arrived everywhere, the secret would have too.
        var marker = await PostAsync(author, $"public marker #{tag}");
        await HomeWithAsync(third, marker);
        await SettledAsync();

        foreach (var viewer in new[] { third, null })
        {
            Assert.DoesNotContain(secret, Ids(await Client.GetAsync("api/v1/timelines/public", viewer?.Token)));
            Assert.DoesNotContain(secret, Ids(await Client.GetAsync("api/v1/timelines/public?local=true", viewer?.Token)));
            Assert.DoesNotContain(secret, Ids(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", viewer?.Token)));
            Assert.DoesNotContain(secret, Ids(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses?min_id=0", viewer?.Token)));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}", viewer));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/context", viewer));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/favourited_by", viewer));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/reblogged_by", viewer));
            using (var tagged = await Client.SendAsync(HttpMethod.Get, $"api/v1/timelines/tag/{tag}", viewer?.Token))
                Assert.DoesNotContain(secret, await tagged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/history", viewer));
            Assert.False(Mentions(await Client.GetAsync($"api/v1/statuses/{root}/context", viewer?.Token), secret));
            Assert.Equal(0, (await Client.GetAsync($"api/v1/statuses?id[]={secret}", viewer?.Token)).GetArrayLength());
            Assert.Equal([root], Ids(await Client.GetAsync($"api/v1/statuses?id[]={secret}&id[]={root}", viewer?.Token)));
            Assert.False(Mentions(await Client.GetAsync($"api/v2/search?q={tag}&type=statuses", viewer?.Token), secret));
            Assert.False(Mentions(await Client.GetAsync($"api/v2/search?q=secret", viewer?.Token), secret));
        }
        Assert.DoesNotContain(secret, Ids(await Client.GetAsync("api/v1/timelines/home", third.Token)));
        Assert.DoesNotContain(secret, Ids(await Client.GetAsync("api/v1/timelines/home?limit=40&min_id=0", third.Token)));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{secret}/source", third));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/favourite", third));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/bookmark", third));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/reblog", third));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, "api/v1/statuses", third, new { status = "me too", in_reply_to_id = secret }));
        Assert.False(Mentions(await Client.GetAsync("api/v1/notifications", third.Token), secret));
        Assert.False(Mentions(await Client.GetAsync("api/v2/notifications", third.Token), secret));
        Assert.Equal(0, (await Client.GetAsync("api/v1/conversations", third.Token)).GetArrayLength());
        Assert.Equal(0, (await Client.GetAsync("api/v1/bookmarks", third.Token)).GetArrayLength());

        // The home feed rebuilt from the database (the cache lost) leaves it out too.
        await fixture.Server.Services.GetRequiredService<ICache>().ClearAsync();
        var rebuilt = await Client.GetAsync("api/v1/timelines/home", third.Token);
        Assert.Contains(marker, Ids(rebuilt));
        Assert.DoesNotContain(secret, Ids(rebuilt));

        // Streams: the marker arrived on each, the secret on none.
        var frames = new List<JsonElement>();
        var markerOn = new HashSet<string>();
        await thirdStream.NextAsync(f =>
        {
            frames.Add(f);
            if (StreamClient.Is(f, "update", f.GetProperty("stream")[0].GetString()!) && StreamClient.Payload(f).GetProperty("id").GetString() == marker)
                markerOn.Add(f.GetProperty("stream")[0].GetString()!);
            return markerOn.SetEquals(["user", "public", "public:local", "hashtag"]);
        }, Wait, "the marker on the user, public, public:local and hashtag streams");
        frames.AddRange(thirdStream.Drain());
        Assert.DoesNotContain(frames, f => f.GetRawText().Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(frames, f => StreamClient.Is(f, "conversation", "direct"));
    }

    [Fact]
    public async Task A_direct_post_reaches_the_mentioned_and_the_author_and_they_can_act_on_it()
    {
        var author = await Client.SignUpAsync();
        var mentioned = await Client.SignUpAsync(); // follows nobody
        await Client.GetAsync("api/v1/timelines/home", mentioned.Token); // a cached home feed, so fan-out pushes into it
        var secret = await PostAsync(author, $"psst @{mentioned.Username}", "direct");

        var seen = await Client.GetAsync($"api/v1/statuses/{secret}", mentioned.Token);
        Assert.Equal("direct", seen.GetProperty("visibility").GetString());
        Assert.Equal(mentioned.Id, seen.GetProperty("mentions")[0].GetProperty("id").GetString());
        await HomeWithAsync(mentioned, secret);
        await HomeWithAsync(author, secret);
        Assert.DoesNotContain(secret, Ids(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", mentioned.Token))); // the author's own page only
        Assert.Contains(secret, Ids(await Client.GetAsync($"api/v1/accounts/{author.Id}/statuses", author.Token)));
        Assert.Equal([secret], Ids(await Client.GetAsync($"api/v1/statuses?id[]={secret}", mentioned.Token)));

        Assert.True((await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/favourite", mentioned)).GetProperty("favourited").GetBoolean());
        Assert.True((await SendOkAsync(HttpMethod.Post, $"api/v1/statuses/{secret}/bookmark", mentioned)).GetProperty("bookmarked").GetBoolean());
        Assert.Equal([secret], Ids(await Client.GetAsync("api/v1/bookmarks", mentioned.Token)));
        Assert.Equal([mentioned.Id], Ids(await Client.GetAsync($"api/v1/statuses/{secret}/favourited_by", author.Token)));
        var reply = await PostAsync(mentioned, $"@{author.Username} got it", "direct", replyTo: secret);
        Assert.Equal([reply], Ids((await Client.GetAsync($"api/v1/statuses/{secret}/context", author.Token)).GetProperty("descendants")));
        Assert.Equal([secret], Ids((await Client.GetAsync($"api/v1/statuses/{reply}/context", mentioned.Token)).GetProperty("ancestors")));

        await SettledAsync();
        var mention = (await Client.GetAsync("api/v1/notifications?types[]=mention", mentioned.Token)).EnumerateArray().Single();
        Assert.Equal(secret, mention.GetProperty("status").GetProperty("id").GetString());
        Assert.Equal("direct", mention.GetProperty("status").GetProperty("visibility").GetString());
        Assert.Equal(reply, (await Client.GetAsync("api/v1/notifications?types[]=mention", author.Token))[0].GetProperty("status").GetProperty("id").GetString());

        // Both homes keep it when rebuilt from the database.
        await fixture.Server.Services.GetRequiredService<ICache>().ClearAsync();
        Assert.Contains(secret, Ids(await Client.GetAsync("api/v1/timelines/home", mentioned.Token)));
        var authorHome = Ids(await Client.GetAsync("api/v1/timelines/home", author.Token));
        Assert.Contains(secret, authorHome);
        Assert.Contains(reply, authorHome);
    }

    [Fact]
    public async Task A_conversation_groups_a_thread_moves_up_on_a_new_post_and_is_read_and_removed_per_participant()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var carol = await Client.SignUpAsync();
        var first = await PostAsync(alice, $"@{bob.Username} first thread", "direct");
        var other = await PostAsync(alice, $"@{bob.Username} @{carol.Username} second thread", "direct");

        var bobs = await ConversationsAsync(bob);
        Assert.Equal([other, first], bobs.EnumerateArray().Select(c => c.GetProperty("last_status").GetProperty("id").GetString()!));
        Assert.All(bobs.EnumerateArray(), c => Assert.True(c.GetProperty("unread").GetBoolean()));
        Assert.Equal([alice.Id], Ids(bobs[1].GetProperty("accounts")));
        Assert.Equal(new[] { alice.Id, carol.Id }.Order(), Ids(bobs[0].GetProperty("accounts")).Order());
        var alices = await ConversationsAsync(alice);
        Assert.All(alices.EnumerateArray(), c => Assert.False(c.GetProperty("unread").GetBoolean())); // her own posts
        Assert.Equal([bob.Id], Ids(alices[1].GetProperty("accounts")));
        var bobFirst = bobs[1].GetProperty("id").GetString()!;
        var aliceFirst = alices[1].GetProperty("id").GetString()!;
        Assert.NotEqual(bobFirst, aliceFirst); // each participant has their own

        // Bob answers in the first thread: it moves to the top for both, unread for Alice only.
        var answer = await PostAsync(bob, $"@{alice.Username} an answer", "direct", replyTo: first);
        alices = await ConversationsAsync(alice);
        Assert.Equal(aliceFirst, alices[0].GetProperty("id").GetString());
        Assert.Equal(answer, alices[0].GetProperty("last_status").GetProperty("id").GetString());
        Assert.True(alices[0].GetProperty("unread").GetBoolean());
        bobs = await ConversationsAsync(bob);
        Assert.Equal(bobFirst, bobs[0].GetProperty("id").GetString());
        Assert.False(bobs[0].GetProperty("unread").GetBoolean());
        Assert.Equal(2, bobs.GetArrayLength());

        var read = await SendOkAsync(HttpMethod.Post, $"api/v1/conversations/{aliceFirst}/read", alice);
        Assert.Equal(aliceFirst, read.GetProperty("id").GetString());
        Assert.False(read.GetProperty("unread").GetBoolean());
        Assert.Equal(answer, read.GetProperty("last_status").GetProperty("id").GetString());
        Assert.False((await ConversationsAsync(alice))[0].GetProperty("unread").GetBoolean());

        // Nobody reads or removes another's conversation.
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, $"api/v1/conversations/{bobFirst}/read", carol));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Delete, $"api/v1/conversations/{bobFirst}", alice));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Post, "api/v1/conversations/12345/read", alice));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(HttpMethod.Delete, "api/v1/conversations/nope", alice));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(HttpMethod.Get, "api/v1/conversations", null));

        using (var removed = await Client.SendAsync(HttpMethod.Delete, $"api/v1/conversations/{aliceFirst}", alice.Token))
            Assert.Equal("{}", await removed.Content.ReadAsStringAsync());
        Assert.DoesNotContain(aliceFirst, Ids(await ConversationsAsync(alice)));
        Assert.Contains(bobFirst, Ids(await ConversationsAsync(bob))); // his stays
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(HttpMethod.Get, $"api/v1/statuses/{answer}", alice)); // the posts stay

        // A new post in the thread brings it back, unread.
        var again = await PostAsync(bob, $"@{alice.Username} still there?", "direct", replyTo: answer);
        var back = (await ConversationsAsync(alice))[0];
        Assert.Equal(again, back.GetProperty("last_status").GetProperty("id").GetString());
        Assert.True(back.GetProperty("unread").GetBoolean());
        var carols = await ConversationsAsync(carol); // she is in the second thread only
        Assert.Equal([other], carols.EnumerateArray().Select(c => c.GetProperty("last_status").GetProperty("id").GetString()));
        Assert.Equal(new[] { alice.Id, bob.Id }.Order(), Ids(carols[0].GetProperty("accounts")).Order());
    }

    [Fact]
    public async Task Conversations_page_by_their_last_post_with_Link_headers()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var posts = new List<string>();
        for (var i = 0; i < 5; i++)
            posts.Add(await PostAsync(alice, $"@{bob.Username} thread {i}", "direct"));
        await SettledAsync();
        posts.Reverse();

        string LastOf(JsonElement c) => c.GetProperty("last_status").GetProperty("id").GetString()!;
        using var first = await Client.SendAsync(HttpMethod.Get, "api/v1/conversations?limit=2", bob.Token);
        var page = await Mastodon.Ok(first);
        Assert.Equal(posts[..2], page.EnumerateArray().Select(LastOf));
        var link = first.Headers.GetValues("Link").Single();
        Assert.Contains($"max_id={posts[1]}>; rel=\"next\"", link, StringComparison.Ordinal);
        Assert.Contains($"min_id={posts[0]}>; rel=\"prev\"", link, StringComparison.Ordinal);

        Assert.Equal(posts[2..4], (await Client.GetAsync($"api/v1/conversations?limit=2&max_id={posts[1]}", bob.Token)).EnumerateArray().Select(LastOf));
        using var last = await Client.SendAsync(HttpMethod.Get, $"api/v1/conversations?limit=2&max_id={posts[3]}", bob.Token);
        Assert.Equal([posts[4]], (await Mastodon.Ok(last)).EnumerateArray().Select(LastOf));
        Assert.DoesNotContain("rel=\"next\"", last.Headers.GetValues("Link").Single(), StringComparison.Ordinal); // a short page is the last
        Assert.Equal(posts[2..4], (await Client.GetAsync($"api/v1/conversations?limit=2&min_id={posts[4]}", bob.Token)).EnumerateArray().Select(LastOf));
        Assert.Equal(posts[..2], (await Client.GetAsync($"api/v1/conversations?limit=2&since_id={posts[4]}", bob.Token)).EnumerateArray().Select(LastOf));
    }

    [Fact]
    public async Task Deleting_a_post_falls_back_to_the_one_before_and_deleting_the_only_one_ends_the_conversation()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var first = await PostAsync(alice, $"@{bob.Username} one", "direct");
        var second = await PostAsync(alice, $"@{bob.Username} two", "direct", replyTo: first);
        var lone = await PostAsync(alice, $"@{bob.Username} alone", "direct");
        Assert.Equal(2, (await ConversationsAsync(bob)).GetArrayLength());

        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{second}", alice);
        await SendOkAsync(HttpMethod.Delete, $"api/v1/statuses/{lone}", alice);
        foreach (var user in new[] { alice, bob })
        {
            var list = await ConversationsAsync(user);
            Assert.Equal([first], list.EnumerateArray().Select(c => c.GetProperty("last_status").GetProperty("id").GetString()));
        }
        var db = fixture.Server.Services.GetRequiredService<IDatabase>();
        Assert.Equal(0, await db.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<long>(c, "SELECT COUNT(*) FROM conversation_statuses WHERE status_id IN (@a, @b)",
            new { a = long.Parse(second, System.Globalization.CultureInfo.InvariantCulture), b = long.Parse(lone, System.Globalization.CultureInfo.InvariantCulture) })));
    }

    [Fact]
    public async Task A_direct_post_from_a_blocked_account_does_not_reach_the_blocker()
    {
        var author = await Client.SignUpAsync();
        var blocker = await Client.SignUpAsync();
        var other = await Client.SignUpAsync();
        await SendOkAsync(HttpMethod.Post, $"api/v1/accounts/{author.Id}/block", blocker);
        await Client.GetAsync("api/v1/timelines/home", blocker.Token);
        var secret = await PostAsync(author, $"@{blocker.Username} @{other.Username} hello both", "direct");

        var others = await ConversationsAsync(other);
        Assert.Equal(secret, others[0].GetProperty("last_status").GetProperty("id").GetString());
        Assert.Equal([author.Id], Ids(others[0].GetProperty("accounts"))); // the blocker is not in it either
        await HomeWithAsync(other, secret);
        Assert.Equal(0, (await ConversationsAsync(blocker)).GetArrayLength());
        Assert.False(Mentions(await Client.GetAsync("api/v1/notifications", blocker.Token), secret));
        Assert.DoesNotContain(secret, Ids(await Client.GetAsync("api/v1/timelines/home", blocker.Token)));
        Assert.Equal("mention", (await Client.GetAsync("api/v1/notifications", other.Token))[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_direct_stream_gets_the_conversation_and_the_user_stream_the_update()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        var carol = await Client.SignUpAsync();
        await using var bobs = await StreamClient.ConnectAsync(fixture.Server.Address, $"access_token={bob.Token}&stream=direct");
        await bobs.SendAsync(new { type = "subscribe", stream = "user" });
        await using var carols = await StreamClient.ConnectAsync(fixture.Server.Address, $"access_token={carol.Token}&stream=direct");
        await Task.Delay(200);

        var secret = await PostAsync(alice, $"@{bob.Username} live", "direct");
        // The update (after the post's commit) and the conversation (after the delivery job's) may come in either order.
        JsonElement? update = null, conversationFrame = null;
        while (update is null || conversationFrame is null)
        {
            var next = await bobs.NextAsync(f => StreamClient.Is(f, "update", "user") || StreamClient.Is(f, "conversation", "direct"), Wait,
                update is null ? "the update on bob's user stream" : "the conversation on bob's direct stream");
            if (StreamClient.Is(next, "update", "user"))
                update = next;
            else
                conversationFrame = next;
        }
        Assert.Equal(secret, StreamClient.Payload(update.Value).GetProperty("id").GetString());
        var frame = conversationFrame.Value;
        Assert.Equal(["direct"], frame.GetProperty("stream").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(JsonValueKind.String, frame.GetProperty("payload").ValueKind);
        var conversation = StreamClient.Payload(frame);
        Assert.Equal(secret, conversation.GetProperty("last_status").GetProperty("id").GetString());
        Assert.True(conversation.GetProperty("unread").GetBoolean());
        Assert.Equal([alice.Id], Ids(conversation.GetProperty("accounts")));
        Assert.Equal((await ConversationsAsync(bob))[0].GetProperty("id").GetString(), conversation.GetProperty("id").GetString());

        // Carol is in no conversation: a conversation of hers after it is the first thing her stream carries.
        var hers = await PostAsync(alice, $"@{carol.Username} yours", "direct");
        var carolsFrame = await carols.NextAsync(_ => true, Wait, "carol's first frame");
        Assert.Equal(hers, StreamClient.Payload(carolsFrame).GetProperty("last_status").GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_direct_stream_is_also_served_as_server_sent_events()
    {
        var alice = await Client.SignUpAsync();
        var bob = await Client.SignUpAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/streaming/direct");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bob.Token);
        using var response = await Client.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal(":)", await reader.ReadLineAsync());

        var secret = await PostAsync(alice, $"@{bob.Username} by events", "direct");
        using var timeout = new CancellationTokenSource(Wait);
        string? line;
        while ((line = await reader.ReadLineAsync(timeout.Token)) != "event: conversation")
            Assert.NotNull(line);
        var data = (await reader.ReadLineAsync(timeout.Token))!;
        Assert.StartsWith("data: ", data, StringComparison.Ordinal);
        Assert.Equal(secret, JsonDocument.Parse(data["data: ".Length..]).RootElement.GetProperty("last_status").GetProperty("id").GetString());
    }
}

public sealed class SqliteDirectTests(SqliteServer f) : DirectTests(f), IClassFixture<SqliteServer>;

[ThroughFront]
public sealed class PostgresDirectTests(PostgresServer f) : DirectTests(f), IClassFixture<PostgresServer>;
